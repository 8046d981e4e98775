"""The real workspace factory: what it hands to the Automation API, and its missing-CLI path."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from secureai.compile.plan import Plan, Resource
from secureai.deploy.errors import INSTALL_URL, DeployError
from secureai.deploy.run import preview
from secureai.deploy.stack import (
    DYNAMIC_PROVIDER,
    ENGINE_CALLS,
    DeployOptions,
    StackRequest,
    check_sdk,
    dynamic_provider_env,
    local_stack,
)

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

    real = inspect.signature(auto.create_or_select_stack)

    def fake_create_or_select_stack(stack_name: str, **kwargs: Any) -> str:
        real.bind(stack_name, **kwargs)  # the real function would accept these arguments
        seen.update(kwargs, stack_name=stack_name)
        return "the-stack"

    monkeypatch.setattr(auto, "create_or_select_stack", fake_create_or_select_stack)
    # A dynamic-provider host on PATH (as the official CLI has): nothing is added to the env.
    host_dir = tmp_path / "bin"
    host_dir.mkdir()
    (host_dir / DYNAMIC_PROVIDER).write_text("#!/bin/sh\n", encoding="utf-8")
    (host_dir / DYNAMIC_PROVIDER).chmod(0o755)
    monkeypatch.setenv("PATH", f"{host_dir}{os.pathsep}{os.environ.get('PATH', '')}")
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
    assert opts.program is None  # the program goes as the argument, which the SDK puts in opts
    # Pinned, or the SDK writes the caller's working directory into Pulumi.yaml on every run.
    assert opts.project_settings.main == str(tmp_path / "ws")
    # Local state and the workspace (stack config lives there) are created, private.
    assert state.is_dir() and (tmp_path / "ws").is_dir()
    assert (state.stat().st_mode & 0o077) == 0


def test_workspace_options_are_what_the_sdk_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real helper up to the point where the CLI would be run: Pulumi.yaml as written."""
    from pulumi.automation import _local_workspace

    made: list[Any] = []

    class NoCliWorkspace(_local_workspace.LocalWorkspace):
        def __init__(self, **kwargs: Any) -> None:
            kwargs["pulumi_command"] = object()  # never run: there is no CLI here
            super().__init__(**kwargs)
            made.append(self)

    def no_cli_stack(name: str, workspace: Any) -> str:
        return f"stack {name}"

    monkeypatch.setattr(_local_workspace, "LocalWorkspace", NoCliWorkspace)
    monkeypatch.setattr(_local_workspace.Stack, "create_or_select", staticmethod(no_cli_stack))
    state = tmp_path / "state"
    assert local_stack(request(tmp_path, f"file://{state}")) == "stack dev"
    (workspace,) = made
    assert workspace.program is program
    assert workspace.secrets_provider is None
    assert workspace.env_vars["PULUMI_CONFIG_PASSPHRASE"] == PASSPHRASE
    written = (tmp_path / "ws" / "Pulumi.yaml").read_text(encoding="utf-8")
    assert "name: ai-platform" in written and "runtime: python" in written
    assert f"url: file://{state}" in written
    assert f"main: {tmp_path / 'ws'}" in written


def test_an_old_sdk_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class OldStack:  # like SDKs before preview_destroy and refresh= existed
        def preview(
            self, parallel: int | None = None, color: str | None = None, on_event: Any = None
        ) -> None: ...
        def up(
            self,
            parallel: int | None = None,
            color: str | None = None,
            on_event: Any = None,
            show_secrets: bool = True,
        ) -> None: ...
        def destroy(
            self,
            parallel: int | None = None,
            color: str | None = None,
            on_event: Any = None,
            show_secrets: bool = True,
        ) -> None: ...

    monkeypatch.setattr(auto, "Stack", OldStack)
    with pytest.raises(DeployError) as caught:
        local_stack(request(tmp_path, f"file://{tmp_path / 'state'}"))
    assert caught.value.kind == "sdk-version"
    assert "Stack.preview_destroy()" in caught.value.message
    assert "Stack.up(refresh=...)" in caught.value.message
    assert not (tmp_path / "ws").exists()  # nothing started


def test_the_installed_sdk_has_everything_run_uses() -> None:
    check_sdk(auto.Stack)
    for method, kwargs in ENGINE_CALLS.items():
        inspect.signature(getattr(auto.Stack, method)).bind(None, **dict.fromkeys(kwargs))


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


def test_a_dynamic_provider_host_is_provided_when_the_cli_has_none(tmp_path: Path) -> None:
    """A pulumi CLI built from Go modules ships no `pulumi-resource-pulumi-python`: secureai
    writes one into the work dir and puts it first on the pulumi child's PATH (only there)."""
    cli_dir = tmp_path / "cli"
    cli_dir.mkdir()
    (cli_dir / "pulumi").write_text("#!/bin/sh\n", encoding="utf-8")
    (cli_dir / "pulumi").chmod(0o755)
    env = dynamic_provider_env(tmp_path / "ws", {"PATH": str(cli_dir)})
    host = tmp_path / "ws" / ".secureai-bin" / DYNAMIC_PROVIDER
    assert env == {"PATH": f"{host.parent}{os.pathsep}{cli_dir}"}
    assert host.read_text(encoding="utf-8") == (
        f'#!/bin/sh\nexec {sys.executable} -u -m secureai.pulumi.dynamic_host "$@"\n'
    )
    assert os.access(host, os.X_OK)
    assert "PATH" not in os.environ or str(host.parent) not in os.environ["PATH"]
    # The host starts and announces its port as the engine expects (a number on stdout).
    process = subprocess.Popen([str(host)], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip().isdigit()
    finally:
        process.kill()
        process.wait()


def test_no_host_is_written_beside_an_official_cli(tmp_path: Path) -> None:
    cli_dir = tmp_path / "cli"
    cli_dir.mkdir()
    for name in ("pulumi", DYNAMIC_PROVIDER):
        (cli_dir / name).write_text("#!/bin/sh\n", encoding="utf-8")
        (cli_dir / name).chmod(0o755)
    assert dynamic_provider_env(tmp_path / "ws", {"PATH": str(cli_dir)}) == {}
    assert not (tmp_path / "ws").exists()


def test_the_host_is_found_even_where_ambient_plugins_are_ignored(tmp_path: Path) -> None:
    """With PULUMI_IGNORE_AMBIENT_PLUGINS the engine would not look on PATH for the host."""
    env = dynamic_provider_env(tmp_path / "ws", {"PATH": "/nowhere", "PULUMI_IGNORE_AMBIENT_PLUGINS": "true"})
    assert env["PULUMI_IGNORE_AMBIENT_PLUGINS"] == "false"
    assert env["PATH"].startswith(str(tmp_path / "ws" / ".secureai-bin"))
