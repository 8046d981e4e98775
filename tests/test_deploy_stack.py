"""The real workspace factory: what it hands to the Automation API, and its missing-CLI path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from secureai.compile.plan import Plan, Resource
from secureai.deploy.errors import INSTALL_URL, DeployError
from secureai.deploy.run import preview
from secureai.deploy.stack import DeployOptions, StackRequest, local_stack

PASSPHRASE = "pass-phrase-for-tests"


def program() -> None:
    return None


def request(tmp_path: Path, backend: str) -> StackRequest:
    return StackRequest(
        project="ai-platform",
        stack="dev",
        backend_url=backend,
        work_dir=tmp_path / "ws",
        secrets_provider=None,
        program=program,
        env_vars={"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE, "PULUMI_BACKEND_URL": backend},
    )


def test_local_stack_passes_settings_to_the_automation_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def fake_create_or_select_stack(stack_name: str, **kwargs: Any) -> str:
        seen.update(kwargs, stack_name=stack_name)
        return "the-stack"

    monkeypatch.setattr(auto, "create_or_select_stack", fake_create_or_select_stack)
    state = tmp_path / "state"
    assert local_stack(request(tmp_path, f"file://{state}")) == "the-stack"
    assert seen["stack_name"] == "dev"
    assert seen["project_name"] == "ai-platform"
    assert seen["program"] is program
    opts: auto.LocalWorkspaceOptions = seen["opts"]
    assert opts.work_dir == str(tmp_path / "ws")
    assert opts.project_settings is not None
    assert opts.project_settings.name == "ai-platform"
    assert opts.project_settings.backend is not None
    assert opts.project_settings.backend.url == f"file://{state}"
    assert opts.env_vars == {"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE, "PULUMI_BACKEND_URL": f"file://{state}"}
    assert opts.secrets_provider is None
    # Local state and the workspace (stack config lives there) are created, private.
    assert state.is_dir() and (tmp_path / "ws").is_dir()
    assert (state.stat().st_mode & 0o077) == 0


def test_without_the_cli_preview_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real factory and the real LocalWorkspace, with no `pulumi` on PATH."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    plan = Plan(
        "ai-platform",
        "dev",
        "1.30",
        (
            Resource(
                "kubernetes:core/v1:Namespace",
                "ns",
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ns"}},
            ),
        ),
    )
    options = DeployOptions(
        environ={"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE},
        backend=f"file://{tmp_path / 'state'}",
        work_dir=tmp_path / "ws",
    )
    with pytest.raises(DeployError) as caught:
        preview(plan, options)
    assert caught.value.kind == "cli-missing"
    assert "pulumi" in caught.value.message
    assert INSTALL_URL in (caught.value.hint or "")
