"""preview / apply / destroy with a fake stack injected through the workspace factory.

The fake replays real recorded engine events (shared/pulumi-events/) through `on_event`, and
records every call, so the tests see exactly what would be asked of the Pulumi CLI.
"""

from __future__ import annotations

import inspect
import json
import signal
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi import automation as auto
from pulumi.automation import CommandResult, ConfigValue, OutputValue, UpResult
from pulumi.automation.errors import CommandError, ConcurrentUpdateError, create_command_error
from pulumi.automation.events import EngineEvent
from pulumi.runtime import mocks, rpc
from pulumi.runtime.config import set_all_config

from secureai.compile.plan import Plan, Resource, SecretValue
from secureai.deploy.errors import INSTALL_URL, DeployError
from secureai.deploy.events import ChangeReport, load_event_log
from secureai.deploy.run import apply, destroy, preview
from secureai.deploy.stack import ENGINE_CALLS, DeployOptions, StackRequest
from secureai.pulumi.component import generated_config_key

EVENTS = Path(__file__).resolve().parents[2] / "shared" / "pulumi-events"
PASSPHRASE = "correct horse battery staple"
DB_PASSWORD = "db-pw-do-not-print"
TOKEN_REF = "ai-data-pipeline/db/api_token"
TOKEN_KEY = "secureai:" + generated_config_key(TOKEN_REF)


def events(name: str) -> list[EngineEvent]:
    if not EVENTS.is_dir():
        pytest.fail(f"recorded Pulumi event streams not found at {EVENTS}")
    return load_event_log(EVENTS / name)


CHANGES = "aws-webserver-replace.json"  # a real preview with a replace
CREATED = "aws-eks-up-create.json"  # a real up that creates 6 resources
DELETED = "engine-component-delete.json"  # a real destroy of 5 resources


def plan() -> Plan:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "ai-data-pipeline"},
        "stringData": {
            "db_password": SecretValue("env", "DB_PASSWORD"),
            "api_token": SecretValue("generate", TOKEN_REF, length=32, charset="alphanumeric"),
        },
    }
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ai-data-pipeline"}}
    return Plan(
        "ai-platform",
        "dev",
        "1.30",
        (
            Resource("kubernetes:core/v1:Namespace", "ai-data-pipeline", namespace),
            Resource(
                "kubernetes:core/v1:Secret",
                "ai-data-pipeline/db",
                secret,
                depends_on=("kubernetes:core/v1:Namespace::ai-data-pipeline",),
            ),
        ),
    )


class FakeStack:
    """Stands in for pulumi.automation.Stack: replays events, records calls, keeps config."""

    def __init__(
        self,
        *,
        preview_events: Sequence[EngineEvent] = (),
        up_events: Sequence[EngineEvent] = (),
        destroy_events: Sequence[EngineEvent] = (),
        fail: dict[str, BaseException] | None = None,
        before: dict[str, Callable[[], None]] | None = None,
        outputs: dict[str, OutputValue] | None = None,
    ) -> None:
        self.name = ""
        self._outputs = outputs or {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.config: dict[str, ConfigValue] = {}
        self.cancelled = False
        self._events = {
            "preview": preview_events,
            "up": up_events,
            "preview_destroy": destroy_events,
            "destroy": destroy_events,
        }
        self._fail = fail or {}
        self._before = before or {}

    def _run(self, op: str, kwargs: dict[str, Any]) -> None:
        self.calls.append((op, kwargs))
        if op in self._before:
            self._before[op]()
        if op in self._fail:
            raise self._fail[op]
        for event in self._events[op]:
            kwargs["on_event"](event)

    def preview(self, **kwargs: Any) -> None:
        self._run("preview", kwargs)

    def up(self, **kwargs: Any) -> UpResult:
        self._run("up", kwargs)
        return UpResult(stdout="", stderr="", summary=None, outputs=self._outputs)  # type: ignore[arg-type]

    def preview_destroy(self, **kwargs: Any) -> None:
        self._run("preview_destroy", kwargs)

    def destroy(self, **kwargs: Any) -> None:
        self._run("destroy", kwargs)

    def get_all_config(self) -> dict[str, ConfigValue]:
        return dict(self.config)

    def set_config(self, key: str, value: ConfigValue, *, path: bool = False) -> None:
        self.calls.append(("set_config", {"key": key, "secret": value.secret}))
        self.config[key] = value

    def cancel(self) -> None:
        self.cancelled = True

    def ops(self) -> list[str]:
        return [op for op, _ in self.calls]


class FakeFactory:
    def __init__(self, stack: FakeStack, error: BaseException | None = None) -> None:
        self.stack = stack
        self.error = error
        self.requests: list[StackRequest] = []

    def __call__(self, request: StackRequest) -> FakeStack:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        self.stack.name = request.stack
        return self.stack


def options(**overrides: Any) -> DeployOptions:
    environ = {"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE, "DB_PASSWORD": DB_PASSWORD, "HOME": "/home/u"}
    environ.update(overrides.pop("environ", {}))
    return DeployOptions(environ=environ, **overrides)


def never(_: ChangeReport) -> bool:
    raise AssertionError("confirm must not be called")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    return tmp_path


# ---- stack selection and arguments ----------------------------------------------------


def test_stack_request_defaults(home: Path) -> None:
    factory = FakeFactory(FakeStack())
    preview(plan(), options(), workspace_factory=factory)
    (request,) = factory.requests
    assert (request.project, request.stack) == ("ai-platform", "dev")
    assert request.backend_url == f"file://{home}/.secureai/state"
    assert request.work_dir == home / ".secureai" / "workspaces" / "ai-platform"
    assert request.secrets_provider is None
    assert request.env_vars == {
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_BACKEND_URL": request.backend_url,
    }
    assert PASSPHRASE not in repr(request)


def test_env_and_backend_overrides(home: Path) -> None:
    factory = FakeFactory(FakeStack())
    preview(plan(), options(env="prod", backend="s3://bucket/state"), workspace_factory=factory)
    assert factory.requests[0].stack == "prod"
    assert factory.requests[0].backend_url == "s3://bucket/state"


def test_backend_from_environment_and_flag_wins(home: Path) -> None:
    factory = FakeFactory(FakeStack())
    env = {"PULUMI_BACKEND_URL": "gs://team-state"}
    preview(plan(), options(environ=env), workspace_factory=factory)
    preview(plan(), options(environ=env, backend="azblob://c"), workspace_factory=factory)
    assert [r.backend_url for r in factory.requests] == ["gs://team-state", "azblob://c"]


def test_engine_calls_never_show_secrets(home: Path) -> None:
    stack = FakeStack(
        preview_events=events(CHANGES), up_events=events(CREATED), destroy_events=events(DELETED)
    )
    factory = FakeFactory(stack)
    apply(plan(), options(), yes=True, is_tty=False, confirm=never, workspace_factory=factory)
    destroy(plan(), options(), yes=True, is_tty=False, confirm=never, workspace_factory=factory)
    engine = [(op, kw) for op, kw in stack.calls if op != "set_config"]
    assert [op for op, _ in engine] == ["preview", "up", "preview_destroy", "destroy"]
    for op, kwargs in engine:
        assert kwargs.get("show_secrets", False) is False, op
        assert callable(kwargs["on_event"])
        assert kwargs["color"] == "never"
    assert [kw["show_secrets"] for op, kw in engine if op != "preview"] == [False, False, False]


def test_every_engine_kwarg_is_accepted_by_the_real_sdk(home: Path) -> None:
    """The fake accepts anything; the real `pulumi.automation.Stack` raises TypeError on an
    unknown keyword. So what the fake was given must bind to the real signatures."""
    stack = changing_stack()
    factory = FakeFactory(stack)
    opts = options(parallel=4, refresh=True)
    preview(plan(), opts, workspace_factory=factory)
    apply(plan(), opts, yes=True, is_tty=False, confirm=never, workspace_factory=factory)
    destroy(plan(), opts, yes=True, is_tty=False, confirm=never, workspace_factory=factory)
    called = {op for op, _ in stack.calls}
    assert called >= {"preview", "up", "preview_destroy", "destroy", "set_config"}
    for op, kwargs in stack.calls:
        if op == "set_config":
            inspect.signature(auto.Stack.set_config).bind(None, kwargs["key"], ConfigValue("v", secret=True))
            continue
        inspect.signature(getattr(auto.Stack, op)).bind(None, **kwargs)
        assert set(kwargs) <= ENGINE_CALLS[op], op  # and the SDK check covers all of them
    assert {k for op, kw in stack.calls if op != "set_config" for k in kw} >= {"parallel", "refresh"}
    inspect.signature(auto.Stack.get_all_config).bind(None)


def test_invalid_stack_name_is_refused_before_the_engine(home: Path) -> None:
    factory = FakeFactory(FakeStack())
    with pytest.raises(DeployError) as caught:
        preview(plan(), options(env="prod us"), workspace_factory=factory)
    assert caught.value.kind == "usage"
    assert "prod us" in caught.value.message
    assert factory.requests == []
    preview(plan(), options(env="acme/ai-platform/prod.eu-1"), workspace_factory=factory)
    assert factory.requests[0].stack == "acme/ai-platform/prod.eu-1"


def test_relative_file_backend_is_made_absolute(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI runs in the workspace directory: a relative path would resolve there instead.
    monkeypatch.chdir(home)
    factory = FakeFactory(FakeStack())
    preview(plan(), options(backend="file://./state"), workspace_factory=factory)
    preview(plan(), options(backend="file://~/elsewhere"), workspace_factory=factory)
    assert [r.backend_url for r in factory.requests] == [f"file://{home}/state", f"file://{home}/elsewhere"]
    assert factory.requests[0].env_vars["PULUMI_BACKEND_URL"] == f"file://{home}/state"


# ---- passphrase --------------------------------------------------------------------------


def test_missing_passphrase_is_a_clear_error(home: Path) -> None:
    factory = FakeFactory(FakeStack())
    opts = DeployOptions(environ={"DB_PASSWORD": DB_PASSWORD})
    with pytest.raises(DeployError) as caught:
        preview(plan(), opts, workspace_factory=factory)
    assert caught.value.kind == "passphrase"
    assert "PULUMI_CONFIG_PASSPHRASE" in (caught.value.hint or "")
    assert factory.requests == []


def test_empty_passphrase_is_refused(home: Path) -> None:
    with pytest.raises(DeployError, match="empty"):
        preview(
            plan(),
            options(environ={"PULUMI_CONFIG_PASSPHRASE": ""}),
            workspace_factory=FakeFactory(FakeStack()),
        )


def test_passphrase_file(home: Path, tmp_path: Path) -> None:
    secret_file = tmp_path / "pp"
    secret_file.write_text(PASSPHRASE, encoding="utf-8")
    factory = FakeFactory(FakeStack())
    opts = DeployOptions(
        environ={"PULUMI_CONFIG_PASSPHRASE_FILE": str(secret_file), "DB_PASSWORD": DB_PASSWORD}
    )
    preview(plan(), opts, workspace_factory=factory)
    assert factory.requests[0].env_vars["PULUMI_CONFIG_PASSPHRASE_FILE"] == str(secret_file)
    secret_file.write_text("\n", encoding="utf-8")
    with pytest.raises(DeployError, match="is empty"):
        preview(plan(), opts, workspace_factory=factory)


def test_relative_paths_reach_the_cli_absolute(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI and its providers run in the workspace directory, not where the user stood.
    monkeypatch.chdir(home)
    (home / "pp").write_text(PASSPHRASE, encoding="utf-8")
    factory = FakeFactory(FakeStack())
    environ = {"PULUMI_CONFIG_PASSPHRASE_FILE": "pp", "DB_PASSWORD": DB_PASSWORD, "KUBECONFIG": "kc:/etc/k"}
    preview(plan(), DeployOptions(environ=environ, work_dir="ws"), workspace_factory=factory)
    (request,) = factory.requests
    assert request.env_vars["PULUMI_CONFIG_PASSPHRASE_FILE"] == f"{home}/pp"
    assert request.env_vars["KUBECONFIG"] == f"{home}/kc:/etc/k"
    assert request.work_dir == home / "ws"
    absolute = {**environ, "KUBECONFIG": "/etc/k"}
    preview(plan(), DeployOptions(environ=absolute), workspace_factory=factory)
    assert "KUBECONFIG" not in factory.requests[1].env_vars  # nothing to fix: the CLI inherits it


def test_secrets_provider_needs_no_passphrase(home: Path) -> None:
    factory = FakeFactory(FakeStack())
    opts = DeployOptions(environ={"DB_PASSWORD": DB_PASSWORD}, secrets_provider="awskms://alias/x")
    preview(plan(), opts, workspace_factory=factory)
    assert factory.requests[0].secrets_provider == "awskms://alias/x"
    assert "PULUMI_CONFIG_PASSPHRASE" not in factory.requests[0].env_vars


# ---- confirmation ------------------------------------------------------------------------


def changing_stack() -> FakeStack:
    return FakeStack(
        preview_events=events(CHANGES), up_events=events(CREATED), destroy_events=events(DELETED)
    )


def test_apply_without_tty_and_without_yes_refuses(home: Path) -> None:
    stack = changing_stack()
    result = apply(
        plan(), options(), yes=False, is_tty=False, confirm=never, workspace_factory=FakeFactory(stack)
    )
    assert result.status == "refused"
    assert result.exit_code == 2
    assert "--yes" in result.message
    assert "up" not in stack.ops()


def test_apply_with_yes_proceeds(home: Path) -> None:
    stack = changing_stack()
    lines: list[str] = []
    result = apply(
        plan(),
        options(),
        yes=True,
        is_tty=False,
        confirm=never,
        echo=lines.append,
        workspace_factory=FakeFactory(stack),
    )
    assert result.status == "applied"
    assert result.exit_code == 0
    assert result.preview.counts["replace"] == 1
    assert result.update is not None and result.update.counts == {"create": 6}
    assert "+- replace aws:ec2/instance:Instance" in lines[0]  # the preview is shown first
    assert "+ created  aws:eks/cluster:Cluster  eks-cluster" in lines  # then live progress
    assert result.message.endswith("Resources: 6 created")


def test_apply_ends_with_the_stack_outputs_secrets_masked(home: Path) -> None:
    stack = FakeStack(
        preview_events=events(CHANGES),
        up_events=events(CREATED),
        outputs={
            "namespaces": OutputValue(["ai-data-pipeline"], False),
            "token": OutputValue("s3cr3t-output", True),
        },
    )
    result = apply(
        plan(), options(), yes=True, is_tty=False, confirm=never, workspace_factory=FakeFactory(stack)
    )
    assert result.outputs == {"namespaces": ["ai-data-pipeline"], "token": "[secret]"}
    assert result.message.endswith("Outputs:\n  namespaces: ai-data-pipeline\n  token: [secret]")
    assert "s3cr3t-output" not in result.message + json.dumps(result.to_json())


def test_apply_declined_aborts(home: Path) -> None:
    stack = changing_stack()
    seen: list[ChangeReport] = []

    def decline(report: ChangeReport) -> bool:
        seen.append(report)
        return False

    result = apply(
        plan(), options(), yes=False, is_tty=True, confirm=decline, workspace_factory=FakeFactory(stack)
    )
    assert result.status == "declined"
    assert result.exit_code == 1
    assert seen and seen[0].has_changes
    assert "up" not in stack.ops()


def test_apply_confirmed_on_a_terminal(home: Path) -> None:
    stack = changing_stack()
    result = apply(
        plan(),
        options(),
        yes=False,
        is_tty=True,
        confirm=lambda _: True,
        workspace_factory=FakeFactory(stack),
    )
    assert result.status == "applied"
    assert "up" in stack.ops()


def test_apply_with_nothing_to_do_does_not_ask(home: Path) -> None:
    stack = FakeStack()  # an empty event stream: no changes
    result = apply(
        plan(), options(), yes=False, is_tty=False, confirm=never, workspace_factory=FakeFactory(stack)
    )
    assert result.status == "no-changes"
    assert result.exit_code == 0
    assert "up" not in stack.ops()


def test_destroy_rules(home: Path) -> None:
    stack = changing_stack()
    refused = destroy(
        plan(), options(), yes=False, is_tty=False, confirm=never, workspace_factory=FakeFactory(stack)
    )
    assert refused.status == "refused" and "destroy" not in stack.ops()
    declined = destroy(
        plan(),
        options(),
        yes=False,
        is_tty=True,
        confirm=lambda _: False,
        workspace_factory=FakeFactory(stack),
    )
    assert declined.status == "declined" and "destroy" not in stack.ops()
    done = destroy(
        plan(), options(), yes=True, is_tty=False, confirm=never, workspace_factory=FakeFactory(stack)
    )
    assert done.status == "destroyed"
    assert done.preview.counts == {"delete": 5}
    assert stack.ops().count("destroy") == 1


def test_destroy_does_not_need_program_secrets(home: Path) -> None:
    stack = changing_stack()
    no_db_password = DeployOptions(environ={"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE})
    result = destroy(
        plan(), no_db_password, yes=True, is_tty=False, confirm=never, workspace_factory=FakeFactory(stack)
    )
    assert result.status == "destroyed"
    assert "set_config" not in stack.ops()


# ---- drift -------------------------------------------------------------------------------


def test_expect_no_changes_reports_drift(home: Path) -> None:
    drifted = preview(
        plan(),
        options(expect_no_changes=True),
        workspace_factory=FakeFactory(FakeStack(preview_events=events(CHANGES))),
    )
    assert drifted.drift and drifted.exit_code == 1
    assert "drift" in drifted.message
    clean = preview(plan(), options(expect_no_changes=True), workspace_factory=FakeFactory(FakeStack()))
    assert not clean.drift and clean.exit_code == 0
    changes = preview(
        plan(), options(), workspace_factory=FakeFactory(FakeStack(preview_events=events(CHANGES)))
    )
    assert not changes.drift and changes.exit_code == 0


# ---- generated secrets ---------------------------------------------------------------------


def test_generated_secrets_stored_once_as_secret_config_and_reused(home: Path) -> None:
    stack = FakeStack()
    factory = FakeFactory(stack)
    preview(plan(), options(), workspace_factory=factory)
    stored = [kw for op, kw in stack.calls if op == "set_config"]
    assert stored == [{"key": TOKEN_KEY, "secret": True}]
    first = stack.config[TOKEN_KEY].value
    assert len(first) == 32 and first.isalnum()
    preview(plan(), options(), workspace_factory=factory)
    apply(plan(), options(), yes=True, is_tty=False, confirm=never, workspace_factory=factory)
    assert [op for op in stack.ops() if op == "set_config"] == ["set_config"]
    assert stack.config[TOKEN_KEY].value == first


class _Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.inputs: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.inputs[args.typ] = dict(args.inputs)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


@pytest.fixture
def mock_runtime() -> Iterator[_Recorder]:
    recorder = _Recorder()
    pulumi.runtime.set_mocks(
        recorder, project="ai-platform", stack="dev", preview=False, monitor=mocks.MockMonitor(recorder)
    )
    yield recorder
    set_all_config({}, [])


def run_program(program: Callable[[], None]) -> None:
    @pulumi.runtime.test
    def body() -> Any:
        program()
        return pulumi.Output.from_input(None)

    body()


def test_the_inline_program_uses_the_stored_value(home: Path, mock_runtime: _Recorder) -> None:
    stack = FakeStack()
    factory = FakeFactory(stack)
    preview(plan(), options(), workspace_factory=factory)
    stored = stack.config[TOKEN_KEY].value
    # What the engine does when it runs the program: stack config becomes pulumi config.
    set_all_config({TOKEN_KEY: stored}, [TOKEN_KEY])
    run_program(factory.requests[0].program)
    string_data = mock_runtime.inputs["kubernetes:core/v1:Secret"]["stringData"]
    assert rpc.is_rpc_secret(string_data)
    assert rpc.unwrap_rpc_secret(string_data) == {"db_password": DB_PASSWORD, "api_token": stored}


# ---- errors --------------------------------------------------------------------------------


def test_missing_cli(home: Path) -> None:
    missing = FileNotFoundError(2, "No such file or directory", "pulumi")
    with pytest.raises(DeployError) as caught:
        preview(plan(), options(), workspace_factory=FakeFactory(FakeStack(), error=missing))
    assert caught.value.kind == "cli-missing"
    assert "pulumi CLI is not installed" in caught.value.message
    assert INSTALL_URL in (caught.value.hint or "")


def test_stack_locked(home: Path) -> None:
    locked = ConcurrentUpdateError(
        CommandResult("", "error: the stack is currently locked by 1 lock(s)", 255)
    )
    stack = FakeStack(preview_events=events(CHANGES), fail={"up": locked})
    with pytest.raises(DeployError) as caught:
        apply(plan(), options(), yes=True, is_tty=False, confirm=never, workspace_factory=FakeFactory(stack))
    assert caught.value.kind == "locked"
    assert "dev" in caught.value.message


def test_missing_environment_value_fails_before_the_engine(home: Path) -> None:
    factory = FakeFactory(FakeStack())
    opts = DeployOptions(environ={"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE})
    with pytest.raises(DeployError) as caught:
        preview(plan(), opts, workspace_factory=factory)
    assert caught.value.kind == "resolve"
    assert "DB_PASSWORD" in caught.value.message
    assert factory.requests == []


def test_engine_errors_are_redacted(home: Path) -> None:
    leak = create_command_error(
        CommandResult("", f"error: provider said: value {DB_PASSWORD} rejected; passphrase {PASSPHRASE}", 255)
    )
    assert isinstance(leak, CommandError)
    stack = FakeStack(fail={"preview": leak})
    with pytest.raises(DeployError) as caught:
        preview(plan(), options(), workspace_factory=FakeFactory(stack))
    text = caught.value.text()
    assert DB_PASSWORD not in text
    assert PASSPHRASE not in text
    assert "[secret]" in text
    assert caught.value.kind == "engine"


def test_passphrase_from_a_file_is_redacted(home: Path, tmp_path: Path) -> None:
    secret_file = tmp_path / "pp"
    secret_file.write_text(PASSPHRASE + "\n", encoding="utf-8")
    leak = create_command_error(CommandResult("", f"error: bad passphrase {PASSPHRASE}", 255))
    opts = DeployOptions(
        environ={"PULUMI_CONFIG_PASSPHRASE_FILE": str(secret_file), "DB_PASSWORD": DB_PASSWORD}
    )
    with pytest.raises(DeployError) as caught:
        preview(plan(), opts, workspace_factory=FakeFactory(FakeStack(fail={"preview": leak})))
    assert PASSPHRASE not in caught.value.text()


def test_generated_values_are_redacted_too(home: Path) -> None:
    stack = FakeStack()
    factory = FakeFactory(stack)
    preview(plan(), options(), workspace_factory=factory)
    token = stack.config[TOKEN_KEY].value
    stack._fail["preview"] = create_command_error(CommandResult("", f"error: bad token {token}", 1))
    with pytest.raises(DeployError) as caught:
        preview(plan(), options(), workspace_factory=factory)
    assert token not in caught.value.text()


@pytest.fixture(autouse=True)
def interactive_sigint() -> Iterator[None]:
    # A shell starts background jobs with SIGINT ignored, and Python then installs no handler;
    # these tests describe a CLI run from a terminal, so give them the terminal's handler.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def ctrl_c() -> None:
    """What the terminal does on Ctrl-C, as far as this process sees it."""
    signal.raise_signal(signal.SIGINT)


def test_ctrl_c_is_left_to_the_engine_which_cancels_cleanly(home: Path) -> None:
    # The CLI got the same SIGINT, finished what was in flight, saved state and exited with
    # an error; no `pulumi cancel` may run (it would delete the lock of a running update).
    canceled = create_command_error(CommandResult("", "error: update canceled", 255))
    stack = FakeStack(preview_events=events(CHANGES), before={"up": ctrl_c}, fail={"up": canceled})
    with pytest.raises(DeployError) as caught:
        apply(plan(), options(), yes=True, is_tty=False, confirm=never, workspace_factory=FakeFactory(stack))
    assert not stack.cancelled
    assert caught.value.kind == "interrupted"
    assert caught.value.exit_code == 130
    assert "pulumi cancel" not in (caught.value.hint or "")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_second_ctrl_c_stops_waiting_and_says_how_to_unlock(home: Path) -> None:
    stack = FakeStack(preview_events=events(CHANGES), fail={"up": KeyboardInterrupt()})
    with pytest.raises(DeployError) as caught:
        apply(plan(), options(), yes=True, is_tty=False, confirm=never, workspace_factory=FakeFactory(stack))
    assert not stack.cancelled
    assert caught.value.kind == "interrupted"
    assert caught.value.exit_code == 130
    assert "pulumi cancel --stack dev" in (caught.value.hint or "")


def test_two_ctrl_c_during_the_engine_run_raise_at_the_second(home: Path) -> None:
    def twice() -> None:
        ctrl_c()
        ctrl_c()

    stack = FakeStack(preview_events=events(CHANGES), before={"up": twice})
    with pytest.raises(DeployError) as caught:
        apply(plan(), options(), yes=True, is_tty=False, confirm=never, workspace_factory=FakeFactory(stack))
    assert caught.value.kind == "interrupted"
    assert "pulumi cancel" in (caught.value.hint or "")


def test_interrupted_preview_is_not_used_to_ask(home: Path) -> None:
    stack = FakeStack(preview_events=events(CHANGES), before={"preview": ctrl_c})
    with pytest.raises(DeployError) as caught:
        apply(plan(), options(), yes=False, is_tty=True, confirm=never, workspace_factory=FakeFactory(stack))
    assert caught.value.kind == "interrupted"
    assert "up" not in stack.ops()


def test_update_that_completes_after_ctrl_c_is_reported_as_it_ended(home: Path) -> None:
    stack = FakeStack(preview_events=events(CHANGES), up_events=events(CREATED), before={"up": ctrl_c})
    result = apply(
        plan(), options(), yes=True, is_tty=False, confirm=never, workspace_factory=FakeFactory(stack)
    )
    assert result.status == "applied"
    assert result.update is not None and result.update.counts == {"create": 6}


def test_ctrl_c_at_the_prompt_is_a_no(home: Path) -> None:
    import click

    def abort(_: ChangeReport) -> bool:
        raise click.exceptions.Abort()  # what typer.confirm raises on Ctrl-C or end of input

    stack = changing_stack()
    result = apply(
        plan(), options(), yes=False, is_tty=True, confirm=abort, workspace_factory=FakeFactory(stack)
    )
    assert result.status == "declined"
    assert "up" not in stack.ops()


def test_ctrl_c_during_preview_does_not_cancel(home: Path) -> None:
    stack = FakeStack(fail={"preview": KeyboardInterrupt()})
    with pytest.raises(DeployError) as caught:
        preview(plan(), options(), workspace_factory=FakeFactory(stack))
    assert caught.value.kind == "interrupted"
    assert not stack.cancelled


def test_failed_update_gives_findings_exit_code(home: Path) -> None:
    stack = FakeStack(
        preview_events=events(CHANGES), up_events=events("engine-continue-on-error-update.json")
    )
    result = apply(
        plan(), options(), yes=True, is_tty=False, confirm=never, workspace_factory=FakeFactory(stack)
    )
    assert result.update is not None and len(result.update.failures) == 2
    assert result.exit_code == 1
    assert result.to_json()["update"]["result"] == "failed"


def test_vault_reader_made_when_the_plan_reads_vault(home: Path) -> None:
    from secureai.deploy.run import with_vault_reader

    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "v"},
        "stringData": {"k": SecretValue("vault", "ai/creds#key")},
    }
    vault_plan = Plan(
        "p",
        "dev",
        "1.30",
        (Resource("kubernetes:core/v1:Secret", "v", secret),),
        settings={"vault_kv_mount": "secret"},
    )
    with_env = options(environ={"VAULT_ADDR": "http://127.0.0.1:8200", "VAULT_TOKEN": "t"})
    assert with_vault_reader(vault_plan, with_env).vault_reader is not None
    assert with_vault_reader(vault_plan, options()).vault_reader is None
    assert with_vault_reader(plan(), with_env).vault_reader is None


def test_preview_json(home: Path) -> None:
    result = preview(
        plan(), options(), workspace_factory=FakeFactory(FakeStack(preview_events=events(CHANGES)))
    )
    data = result.to_json()
    assert data["stack"] == "dev" and data["drift"] is False
    assert data["preview"]["summary"]["counts"]["replace"] == 1
