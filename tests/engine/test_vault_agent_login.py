"""The real agent logs in for real: `bao agent` with the configuration secureai renders, its
kubernetes auth method unchanged, through this API server's TokenReview.

The spec of `tests/test_vault_agent_proof.py` is compiled for the cluster's version; its namespace
and ServiceAccount are applied, its Vault artefacts loaded, OpenBao's kubernetes auth method
reviews tokens with this API server. The token file the agent reads is a TokenRequest token for
the workload's own account with audience `vault.audience`: what the kubelet writes into the
projected volume at /var/run/secrets/vault/token. Changed for the test (no pod runs here): the
token file's path, the files' directory and Vault's address. The auth method, role and mount are
the rendered ones.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from test_vault_agent_proof import AGENT_TIMEOUT, SPEC, config_map, run_to_success, start_agent, wait_for
from test_vault_proof import FakeEnviron, load
from vault_server import BaoServer, stop

from secureai.pipeline import compile_path

from .harness import ControlPlane
from .kubeapi import KubeClient
from .specs import rendered
from .vault_auth import KubeAuth

pytestmark = [
    pytest.mark.engine,
    pytest.mark.filterwarnings("ignore:The raise_on_deleted_version:DeprecationWarning"),
]


def test_the_agent_logs_in_with_the_workloads_token_and_writes_its_files(
    control_plane: ControlPlane,
    kube: KubeClient,
    bao: BaoServer,
    vault: Any,
    kube_auth: KubeAuth,
    tmp_path: Path,
) -> None:
    minor = control_plane.minor
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.replace('version: "1.30"', f'version: "{minor}"'), encoding="utf-8")
    result = compile_path(path, FakeEnviron())
    assert result.value is not None, [d.text() for d in result.diagnostics]
    compiled = result.value
    for name, text, manifest in rendered(compiled):
        if manifest["kind"] in ("Namespace", "ServiceAccount"):
            reply = kube.apply_yaml(text, manifest)
            assert reply.ok, f"{name}: HTTP {reply.status}: {reply.message}"
    load(vault, compiled)
    settings = compiled.spec.vault
    assert settings is not None and settings.kubernetes_auth_mount == kube_auth.mount

    home, files = tmp_path / "agent", tmp_path / "vault-secrets"
    home.mkdir()
    files.mkdir()
    token = home / "token"
    token.write_text(kube.token_request("ml", "trainer", [settings.audience]))
    config = config_map(compiled, "trainer")["agent-init.hcl"]
    assert 'method "kubernetes"' in config and 'token_path = "/var/run/secrets/vault/token"' in config
    config = (
        config.replace('"/var/run/secrets/vault/token"', json.dumps(str(token)))
        .replace('address = "https://vault.example:8200"', f'address = "{bao.address}"')
        .replace('"/vault/secrets/', f'"{files}/')
    )
    run_to_success(config, home, "kubernetes-login")
    want = {"learning_rate": 0.01, "epochs": 100, "activation_function": "relu", "early_stop": True}
    got = json.loads((files / "model-parameters.json").read_text())
    assert got == want and all(type(got[k]) is type(want[k]) for k in want)
    assert stat.S_IMODE((files / "model-parameters.json").stat().st_mode) == 0o400

    # Another account's token, with the right audience, is refused at login: no file written.
    kube.apply_ok(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "intruder", "namespace": "ml"}}
    )
    token.write_text(kube.token_request("ml", "intruder", [settings.audience]))
    refused = tmp_path / "refused"
    refused.mkdir()
    process, log = start_agent(config.replace(f'"{files}/', f'"{refused}/'), home, "intruder")
    try:
        wait_for(
            lambda: "service account name not authorized" in log.read_text(), AGENT_TIMEOUT, "no refusal", log
        )
    finally:
        stop(process)
    assert list(refused.iterdir()) == []
