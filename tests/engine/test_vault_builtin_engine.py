"""The built-in Vault provider through the real Pulumi engine, against a real OpenBao.

The Plan is a spec's Vault part alone (KV v2 secret, policy, kubernetes auth role), deployed
by the Automation API with the pulumi CLI built from Go modules, which ships no
`pulumi-resource-pulumi-python`: secureai's own dynamic-provider host must be used.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hvac  # type: ignore[import-untyped]
import hvac.exceptions  # type: ignore[import-untyped]
import pytest
from pulumi.automation.errors import CommandError
from specutil import write_spec
from vault_server import ROOT_TOKEN

from secureai.compile.plan import Plan
from secureai.pipeline import compile_file

from .pulumi_engine import pulumi_engine

pytestmark = pytest.mark.engine

CANARY = "canary-7f3a9c1e-value"
TOKEN_CANARY = ROOT_TOKEN  # the dev server's token: must never be in state


SPEC = """\
version: 1
project: vaultonly
kubernetes:
  version: "1.30"
vault:
  address: {address}
namespaces:
  ml: {{}}
vaultSecrets:
  ai/params:
    data:
      learning_rate: {rate}
      api_key: {{ fromEnv: PARAMS_API_KEY }}
workloads:
  trainer:
    namespace: ml
    image: ghcr.io/acme/train:1.0.0
    runAsUser: 10001
    resources: {{ limits: {{ cpu: "1", memory: 1Gi }} }}
    vault:
      read: [ai/params]
      files: {{ params.json: {{ path: ai/params }} }}
"""


def vault_plan(tmp_path: Path, address: str, rate: str = "0.01") -> Plan:
    """The spec's Vault resources alone (the Kubernetes part needs a cluster)."""
    path = write_spec(tmp_path, SPEC.format(address=address, rate=rate))
    result = compile_file(path, {"PARAMS_API_KEY": CANARY})
    assert result.ok and result.value is not None, [d.text() for d in result.diagnostics]
    plan = result.value
    return dataclasses.replace(plan, resources=tuple(r for r in plan.resources if r.provider == "vault"))


class Engine:
    def __init__(self, tmp_path: Path, address: str) -> None:
        self.tmp_path = tmp_path
        self.address = address
        self.events: list[Any] = []

    def stack(self, plan: Plan) -> Any:
        from secureai.deploy.stack import StackRequest, local_stack
        from secureai.pulumi.component import SecuritySpec

        def program() -> None:
            SecuritySpec("secureai", plan, environ={"PARAMS_API_KEY": CANARY, "VAULT_ADDR": self.address})

        request = StackRequest(
            project="vaultonly",
            stack="dev",
            backend_url=f"file://{self.tmp_path / 'state'}",
            work_dir=self.tmp_path / "work",
            secrets_provider=None,
            program=program,
            env_vars={"PULUMI_CONFIG_PASSPHRASE": "test-passphrase"},
        )
        return local_stack(request)

    def changes(self, plan: Plan, *, refresh: bool = False) -> list[tuple[str, str, list[str]]]:
        """(op, name, changed paths) of every Vault change a preview plans, as `secureai
        preview` reads them from the engine's events."""
        from secureai.deploy.events import EventCollector

        collector = EventCollector(preview=True)
        self.stack(plan).preview(on_event=collector, refresh=refresh)
        return sorted(
            (c.op, c.name, c.paths)
            for c in collector.report().changes
            if c.type.startswith("pulumi-python:dynamic") and c.op not in ("same", "refresh", "read")
        )


@pytest.fixture(name="engine")
def engine_fixture(
    tmp_path: Path, pulumi_home: Path, bao: Any, vault: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    # The Automation API runs in this process: the engine's environment is this process's.
    for key, value in pulumi_engine().env(pulumi_home).items():
        if os.environ.get(key) != value:
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("VAULT_ADDR", bao.address)
    monkeypatch.setenv("VAULT_TOKEN", bao.token)
    vault.sys.enable_auth_method("kubernetes")
    yield Engine(tmp_path, bao.address)


def test_apply_noop_update_drift_destroy(engine: Engine, vault: Any, tmp_path: Path) -> None:
    plan = vault_plan(tmp_path, engine.address)
    stack = engine.stack(plan)

    stack.up(on_output=lambda _: None)

    data = vault.secrets.kv.v2.read_secret_version(
        path="ai/params", mount_point="secret", raise_on_deleted_version=True
    )["data"]["data"]
    assert data == {"learning_rate": 0.01, "api_key": CANARY}
    policy = vault.sys.read_acl_policy(name="vaultonly-ml-trainer")["data"]["policy"]
    assert 'path "secret/data/ai/params"' in policy
    role = vault.read("auth/kubernetes/role/vaultonly-ml-trainer")["data"]
    assert role["bound_service_account_names"] == ["trainer"]
    assert role["token_policies"] == ["vaultonly-ml-trainer"]
    assert role["token_no_default_policy"] is True

    # State: encrypted KV data, no token (the provider reads it from its environment).
    # (The state file itself: `export_stack` shows secrets decrypted.)
    text = "".join(f.read_text(encoding="utf-8") for f in (tmp_path / "state").rglob("*.json"))
    assert "VaultKvSecretV2" in text
    assert CANARY not in text
    assert '"learning_rate"' not in text
    assert f'"{TOKEN_CANARY}"' not in text
    assert "VAULT_TOKEN" not in text

    # Nothing to do right after, even with a refresh that reads Vault.
    assert engine.changes(plan, refresh=True) == []
    stack.preview(refresh=True, expect_no_changes=True)

    # One value changed in the spec: exactly one update, of the KV data.
    changed = vault_plan(tmp_path, engine.address, rate="0.02")
    assert engine.changes(changed) == [("update", "secret/ai/params", ["data_json"])]

    # Out-of-band: the policy rewritten in Vault is drift, and apply puts it back.
    vault.sys.create_or_update_acl_policy(
        name="vaultonly-ml-trainer", policy='path "secret/*" { capabilities = ["read"] }'
    )
    drift = engine.changes(plan, refresh=True)
    assert [(op, paths) for op, _, paths in drift] == [("update", ["policy"])]
    stack.up(refresh=True, on_output=lambda _: None)
    assert vault.sys.read_acl_policy(name="vaultonly-ml-trainer")["data"]["policy"] == policy

    stack.destroy(on_output=lambda _: None)
    with pytest.raises(hvac.exceptions.InvalidPath):  # every version and the metadata
        vault.secrets.kv.v2.read_secret_metadata(path="ai/params", mount_point="secret")
    assert "vaultonly-ml-trainer" not in vault.sys.list_acl_policies()["data"]["keys"]
    assert vault.read("auth/kubernetes/role/vaultonly-ml-trainer") is None


def test_deleted_in_vault_is_recreated_and_a_wrong_token_is_one_line(
    engine: Engine, vault: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = vault_plan(tmp_path, engine.address)
    stack = engine.stack(plan)
    stack.up(on_output=lambda _: None)

    vault.delete("auth/kubernetes/role/vaultonly-ml-trainer")
    assert engine.changes(plan, refresh=True) == [("create", "ml/trainer", [])]
    stack.up(refresh=True, on_output=lambda _: None)
    assert vault.read("auth/kubernetes/role/vaultonly-ml-trainer") is not None

    monkeypatch.setenv("VAULT_TOKEN", "not-the-token-0123456789")
    changed = vault_plan(tmp_path, engine.address, rate="0.5")
    with pytest.raises(CommandError) as failed:
        engine.stack(changed).up(on_output=lambda _: None)
    message = str(failed.value)
    assert "cannot write secret/data/ai/params: Forbidden" in message
    assert "Traceback" not in message
    assert "not-the-token-0123456789" not in message
    monkeypatch.setenv("VAULT_TOKEN", ROOT_TOKEN)
    engine.stack(plan).destroy(on_output=lambda _: None)
