"""Real Pulumi engine runs: only where the `pulumi` CLI and a Kubernetes context exist.

Elsewhere these are skipped with the reason; everything they check short of the engine
itself is covered by the mock-runtime and fake-workspace tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from secureai.compile.plan import Plan, Resource, SecretValue
from secureai.deploy.run import preview
from secureai.deploy.stack import DeployOptions
from secureai.pulumi.component import generated_config_key

PASSPHRASE = "engine-test-passphrase"


def _kube_context() -> str | None:
    if shutil.which("kubectl") is None:
        config = Path(os.environ.get("KUBECONFIG", "~/.kube/config")).expanduser()
        return "default" if config.is_file() else None
    done = subprocess.run(
        ["kubectl", "config", "current-context"], capture_output=True, text=True, check=False, timeout=20
    )
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def _skip_reason() -> str | None:
    if shutil.which("pulumi") is None:
        return "pulumi CLI not on PATH"
    if _kube_context() is None:
        return "no Kubernetes context (kubeconfig) available"
    return None


pytestmark = [
    pytest.mark.engine,
    pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or ""),
]


def _plan() -> Plan:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "secureai-engine-test"}}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "t", "namespace": "secureai-engine-test"},
        "stringData": {"token": SecretValue("generate", "engine/t/token", length=24, charset="alphanumeric")},
    }
    return Plan(
        "secureai-engine-test",
        "dev",
        "1.30",
        (
            Resource("kubernetes:core/v1:Namespace", "secureai-engine-test", namespace),
            Resource(
                "kubernetes:core/v1:Secret",
                "secureai-engine-test/t",
                secret,
                depends_on=("kubernetes:core/v1:Namespace::secureai-engine-test",),
            ),
        ),
        settings={"kube_context": _kube_context() if _kube_context() != "default" else None},
    )


def test_real_preview_lists_the_creates_and_keeps_secrets_encrypted(tmp_path: Path) -> None:
    options = DeployOptions(
        environ={**os.environ, "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE},
        backend=f"file://{tmp_path / 'state'}",
        work_dir=tmp_path / "ws",
    )
    result = preview(_plan(), options)
    creates = {(c.type, c.name) for c in result.report.changes if c.op == "create"}
    assert ("kubernetes:core/v1:Namespace", "secureai-engine-test") in creates
    assert ("kubernetes:core/v1:Secret", "secureai-engine-test/t") in creates
    assert result.exit_code == 0
    config = (tmp_path / "ws" / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    key = "secureai:" + generated_config_key("engine/t/token")
    assert key in config
    assert "secure:" in config  # stored encrypted, never as plain text


def test_second_preview_reuses_the_generated_secret(tmp_path: Path) -> None:
    options = DeployOptions(
        environ={**os.environ, "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE},
        backend=f"file://{tmp_path / 'state'}",
        work_dir=tmp_path / "ws",
    )
    preview(_plan(), options)
    first = (tmp_path / "ws" / "Pulumi.dev.yaml").read_text(encoding="utf-8")
    preview(_plan(), options)
    assert (tmp_path / "ws" / "Pulumi.dev.yaml").read_text(encoding="utf-8") == first
