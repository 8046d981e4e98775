"""The bundled example, Vault included: `secureai apply specs/ai-platform.yaml` through the real
Pulumi engine onto the local control plane and a real OpenBao, with the built-in Vault provider
(no pulumi-vault plugin exists here), then a clean preview and a destroy that removes the
Vault artefacts too.

The copy of the spec is retargeted to the cluster's minor, given the harness's kube context, and
has no `networkPlugin: calico` (this cluster serves no Calico API); everything else is the
example as shipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import hvac.exceptions  # type: ignore[import-untyped]
import pytest
import yaml
from vault_server import BaoServer

from secureai.compile.vault import AUTH_ROLE, KV_SECRET, POLICY
from secureai.pipeline import compile_file

from .conftest import need
from .harness import ControlPlane
from .specs import retarget
from .vault_auth import KubeAuth

pytestmark = pytest.mark.engine

ENGINE = Path.home() / ".cache" / "secureai" / "engine"
CLI = ENGINE / "pulumi-3.274.1" / "pulumi"
KUBERNETES_PLUGIN = ENGINE / "pulumi-resource-kubernetes-4.25.0" / "pulumi-resource-kubernetes"
EXAMPLE = Path(__file__).resolve().parents[2] / "specs" / "ai-platform.yaml"
CANARY = "db-password-canary-5b1e"


def _spec(control_plane: ControlPlane, into: Path) -> Path:
    minor = ".".join(control_plane.version.removeprefix("v").split(".")[:2])
    copy = retarget(EXAMPLE, minor, into)
    data = yaml.safe_load(copy.read_text(encoding="utf-8"))
    data["kubernetes"]["context"] = "secureai-engine"
    data["kubernetes"].pop("networkPlugin", None)
    copy.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return copy


def _env(control_plane: ControlPlane, bao: BaoServer, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PATH=f"{CLI.parent}{os.pathsep}{env.get('PATH', '')}",
        PULUMI_HOME=str(home),
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_IGNORE_AMBIENT_PLUGINS="true",
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_CONFIG_PASSPHRASE="engine-test-passphrase",
        KUBECONFIG=str(control_plane.kubeconfig),
        DB_PASSWORD=CANARY,
        VAULT_ADDR=bao.address,
        VAULT_TOKEN=bao.token,
    )
    return env


def _secureai(
    verb: str, spec: Path, env: dict[str, str], work: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "secureai", verb, str(spec), "--backend", f"file://{work / 'state'}"]
    argv += ["--work-dir", str(work / "workspace"), *extra]
    return subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=900, check=False, stdin=subprocess.DEVNULL
    )


def test_the_example_with_vault_applies_previews_clean_and_destroys(
    control_plane: ControlPlane, bao: BaoServer, vault: Any, kube_auth: KubeAuth, tmp_path: Path
) -> None:
    need(None if CLI.exists() and KUBERNETES_PLUGIN.exists() else "the Pulumi engine is not built")
    spec = _spec(control_plane, tmp_path / "spec")
    env = _env(control_plane, bao, tmp_path / "pulumi-home")
    subprocess.run(
        [
            str(CLI),
            "plugin",
            "install",
            "resource",
            "kubernetes",
            "v4.25.0",
            "--file",
            str(KUBERNETES_PLUGIN),
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (tmp_path / "state").mkdir()
    compiled = compile_file(spec, {"DB_PASSWORD": CANARY, "VAULT_ADDR": bao.address})
    assert compiled.value is not None, [d.text() for d in compiled.diagnostics]
    vault_resources = compiled.value.of_provider("vault")
    assert {r.type for r in vault_resources} == {KV_SECRET, POLICY, AUTH_ROLE}

    applied = _secureai("apply", spec, env, tmp_path, "--yes")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    assert "pulumi-python:dynamic/secureai:VaultKvSecretV2" in applied.stdout
    for resource in vault_resources:
        props = resource.properties
        if resource.type == KV_SECRET:
            read = vault.secrets.kv.v2.read_secret_version(
                path=props["name"], mount_point=props["mount"], raise_on_deleted_version=True
            )
            assert set(read["data"]["data"]) == set(props["data_json"]), resource.key
        elif resource.type == POLICY:
            assert vault.sys.read_acl_policy(name=props["name"])["data"]["policy"] == props["policy"]
        else:
            role = vault.read(f"auth/{props['backend']}/role/{props['role_name']}")["data"]
            assert role["token_policies"] == props["token_policies"], resource.key
            assert role["bound_service_account_names"] == props["bound_service_account_names"]
    state = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "state").rglob("*.json"))
    assert CANARY not in state
    assert json.dumps(bao.token) not in state

    clean = _secureai("preview", spec, env, tmp_path, "--expect-no-changes")
    assert clean.returncode == 0, clean.stdout[-3000:] + clean.stderr[-3000:]

    destroyed = _secureai("destroy", spec, env, tmp_path, "--yes")
    assert destroyed.returncode == 0, destroyed.stdout[-3000:] + destroyed.stderr[-3000:]
    for resource in vault_resources:
        props = resource.properties
        if resource.type == KV_SECRET:
            with pytest.raises(hvac.exceptions.InvalidPath):
                vault.secrets.kv.v2.read_secret_metadata(path=props["name"], mount_point=props["mount"])
        elif resource.type == POLICY:
            assert props["name"] not in vault.sys.list_acl_policies()["data"]["keys"]
        elif resource.type == AUTH_ROLE:
            assert vault.read(f"auth/{props['backend']}/role/{props['role_name']}") is None
