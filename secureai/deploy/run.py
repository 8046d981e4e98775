"""preview, apply and destroy: the three deployment commands, each a short script.

apply and destroy always preview first, then ask: `confirm(report)` on a terminal, nothing
without `yes`, and a refusal when there is no terminal to ask on. Every failure leaves as a
`DeployError` whose text holds no secret value; `show_secrets` is always False.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from secureai import exitcodes
from secureai.compile.plan import Plan, iter_secrets
from secureai.deploy.display import Progress, render_text
from secureai.deploy.errors import DeployError, missing_cli, to_deploy_error
from secureai.deploy.events import ChangeReport, EventCollector
from secureai.deploy.stack import (
    DeployOptions,
    StackLike,
    WorkspaceFactory,
    credential_values,
    ensure_generated_secrets,
    local_stack,
    make_program,
    stack_name,
    stack_request,
)
from secureai.pulumi.component import load_plan
from secureai.resolve import ResolveContext, ResolveError, resolve, resolve_all, vault_address

Spec = Plan | str | os.PathLike[str]
Confirm = Callable[[ChangeReport], bool]
Echo = Callable[[str], None]

EXIT_OK = exitcodes.OK
EXIT_FINDINGS = exitcodes.FINDINGS  # drift, declined, or the engine reported failures
EXIT_ERROR = exitcodes.USAGE
EXIT_INTERRUPTED = exitcodes.INTERRUPTED


@dataclass
class PreviewResult:
    stack: str
    report: ChangeReport
    drift: bool = False  # expect_no_changes was asked and there are changes

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.drift or self.report.result == "failed" else EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "drift": self.drift, "preview": self.report.to_json()}

    @property
    def message(self) -> str:
        if self.drift:
            return f"drift: stack {self.stack} differs from the spec"
        return f"preview of stack {self.stack}: " + render_text(self.report).splitlines()[-1]


@dataclass
class ChangeResult:
    """The outcome of apply or destroy.

    status: `applied`, `no-changes`, `declined` (the user said no) or `refused` (no terminal
    and no --yes).
    """

    stack: str
    status: str
    preview: ChangeReport
    update: ChangeReport | None = None
    message: str = ""
    # Stack outputs after an apply; a secret output is "[secret]", never its value.
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        if self.status == "refused":
            return EXIT_ERROR
        if self.status == "declined":
            return EXIT_FINDINGS
        if self.update is not None and self.update.result == "failed":
            return EXIT_FINDINGS
        return EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "status": self.status,
            "message": self.message,
            "preview": self.preview.to_json(),
            "update": self.update.to_json() if self.update else None,
            "outputs": self.outputs,
        }


@dataclass
class _Session:
    stack: StackLike
    name: str
    options: DeployOptions
    secrets: list[str] = field(default_factory=list)

    def engine_args(self, on_event: Callable[[Any], None]) -> dict[str, Any]:
        args: dict[str, Any] = {"on_event": on_event, "color": "never"}
        if self.options.parallel:
            args["parallel"] = self.options.parallel
        if self.options.refresh:
            args["refresh"] = True
        return args


def preview(
    spec: Spec,
    options: DeployOptions | None = None,
    *,
    workspace_factory: WorkspaceFactory = local_stack,
) -> PreviewResult:
    """`pulumi preview` of the spec's stack; drift when expect_no_changes and changes."""
    options = options or DeployOptions()
    with _session(spec, options, workspace_factory, program_secrets=True) as session:
        report = _preview(session)
        drift = options.expect_no_changes and report.has_changes
        return PreviewResult(session.name, report, drift=drift)


def apply(
    spec: Spec,
    options: DeployOptions | None = None,
    *,
    yes: bool,
    is_tty: bool,
    confirm: Confirm,
    echo: Echo | None = None,
    workspace_factory: WorkspaceFactory = local_stack,
) -> ChangeResult:
    """Preview, confirm, then `pulumi up`, with progress lines through `echo`."""
    options = options or DeployOptions()
    with _session(spec, options, workspace_factory, program_secrets=True) as session:
        return _change(
            session,
            "apply",
            _preview(session),
            lambda args: session.stack.up(show_secrets=False, **args),
            yes=yes,
            is_tty=is_tty,
            confirm=confirm,
            echo=echo,
        )


def stack_outputs(result: Any) -> dict[str, Any]:
    """`UpResult.outputs` as plain values; secret ones masked (show_secrets is never on)."""
    outputs = getattr(result, "outputs", None) or {}
    return {
        name: "[secret]" if getattr(out, "secret", False) else getattr(out, "value", out)
        for name, out in sorted(outputs.items())
    }


def outputs_text(outputs: dict[str, Any]) -> str:
    lines = ["Outputs:"]
    for name, value in outputs.items():
        if isinstance(value, list) and len(value) > 8:  # e.g. every resource: the count says enough
            shown = f"{len(value)} items"
        else:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        lines.append(f"  {name}: {shown}")
    return "\n".join(lines)


def destroy(
    spec: Spec,
    options: DeployOptions | None = None,
    *,
    yes: bool,
    is_tty: bool,
    confirm: Confirm,
    echo: Echo | None = None,
    workspace_factory: WorkspaceFactory = local_stack,
) -> ChangeResult:
    """Preview the destroy, confirm, then `pulumi destroy`."""
    options = options or DeployOptions()
    with _session(spec, options, workspace_factory, program_secrets=False) as session:
        planned = EventCollector(preview=True, secrets=session.secrets)
        _interruptible(
            session,
            lambda: session.stack.preview_destroy(show_secrets=False, **session.engine_args(planned)),
            changes=False,
        )
        return _change(
            session,
            "destroy",
            planned.report(),
            lambda args: session.stack.destroy(show_secrets=False, **args),
            yes=yes,
            is_tty=is_tty,
            confirm=confirm,
            echo=echo,
        )


_DONE = {"apply": "applied", "destroy": "destroyed"}


def _change(
    session: _Session,
    verb: str,
    report: ChangeReport,
    operation: Callable[[dict[str, Any]], Any],
    *,
    yes: bool,
    is_tty: bool,
    confirm: Confirm,
    echo: Echo | None,
) -> ChangeResult:
    """apply and destroy after their preview: confirm `report`, then run the engine
    `operation` (given the engine arguments) with progress lines; the stack's outputs, if any."""
    decision = _decide(session.name, verb, report, yes, is_tty, confirm, echo)
    if decision is not None:
        return decision
    collector = EventCollector(secrets=session.secrets)
    progress = Progress(echo or _quiet, secrets=session.secrets)
    result = _interruptible(
        session, lambda: operation(session.engine_args(_both(collector, progress))), changes=True
    )
    done = _done(session.name, _DONE[verb], report, collector.report())
    done.outputs = stack_outputs(result)
    if done.outputs:
        done.message += "\n" + outputs_text(done.outputs)
    return done


@contextmanager
def _session(
    spec: Spec, options: DeployOptions, factory: WorkspaceFactory, *, program_secrets: bool
) -> Iterator[_Session]:
    """Compile, check secrets and passphrase, open the stack; map every failure."""
    name: str | None = None
    secrets: list[str] = []
    if factory is local_stack and shutil.which("pulumi") is None:
        # Said first: without the engine, no other problem is worth fixing yet.
        raise missing_cli()
    try:
        environ = options.environment()
        # Credentials are redacted from engine text as well as the spec's own secrets.
        secrets += credential_values(environ)
        plan = load_plan(spec, environ)
        options = with_vault_reader(plan, options)
        name = stack_name(options, plan)
        secrets += known_secret_values(plan, options, spec, strict=program_secrets)
        generated: dict[str, str] = {}
        program = make_program(plan, options, generated, spec_dir(spec, plan))
        stack = factory(stack_request(plan, options, program))
        if program_secrets:
            # The program reads these from stack config; they are stored before it runs.
            generated.update(ensure_generated_secrets(stack, plan))
            secrets += generated.values()
        yield _Session(stack, name, options, secrets)
    except KeyboardInterrupt:
        raise DeployError("interrupted", kind="interrupted", exit_code=EXIT_INTERRUPTED) from None
    except Exception as exc:
        raise to_deploy_error(exc, stack=name, secrets=secrets) from None


def with_vault_reader(plan: Plan, options: DeployOptions) -> DeployOptions:
    """Options with a Vault reader when the plan takes secrets from Vault and none was given:
    address from the spec or VAULT_ADDR, token from VAULT_TOKEN (without them, resolving
    fails with a message naming the Vault path)."""
    if options.vault_reader is not None:
        return options
    wanted = any(secret.source == "vault" for r in plan.resources for _, secret in iter_secrets(r.properties))
    environ = options.environment()
    token = environ.get("VAULT_TOKEN")
    if not (wanted and token):
        return options
    from secureai.vaultio import vault_reader

    try:
        address = vault_address(plan.settings.get("vault_address"), environ)
    except ResolveError as exc:
        raise DeployError(str(exc), kind="vault-address") from None

    mount = str(plan.settings.get("vault_kv_mount") or "secret")
    return replace(options, vault_reader=vault_reader(str(address), token, mount))


def known_secret_values(plan: Plan, options: DeployOptions, spec: Spec, *, strict: bool) -> list[str]:
    """Resolve every non-generated secret now: a missing value fails before the engine
    starts, and the values let engine messages be redacted. Not strict for destroy, which
    does not run the program."""
    ctx = ResolveContext(
        base_dir=spec_dir(spec, plan),
        environ=options.environment(),
        vault_reader=options.vault_reader,
    )
    wanted = [
        secret
        for resource in plan.resources
        for _, secret in iter_secrets(resource.properties)
        if secret.source != "generate"
    ]
    if strict:
        return list(resolve_all(wanted, ctx).values())  # every missing value named at once
    values = []
    for secret in wanted:
        with suppress(ResolveError):
            values.append(resolve(secret, ctx))
    return values


def spec_dir(spec: Spec, plan: Plan) -> Path:
    """Where `fromFile` paths are relative to (the same rule as SecuritySpec's)."""
    if isinstance(spec, Plan):
        return Path(str(plan.settings.get("base_dir", "."))).resolve()
    return Path(spec).resolve().parent


def _preview(session: _Session) -> ChangeReport:
    collector = EventCollector(preview=True, secrets=session.secrets)
    _interruptible(session, lambda: session.stack.preview(**session.engine_args(collector)), changes=False)
    return collector.report()


def _decide(
    stack: str,
    verb: str,
    report: ChangeReport,
    yes: bool,
    is_tty: bool,
    confirm: Confirm,
    echo: Echo | None,
) -> ChangeResult | None:
    """None to go ahead; otherwise the result that stops here."""
    if echo is not None:
        echo(render_text(report))
    if not report.has_changes:
        return ChangeResult(stack, "no-changes", report, message=f"stack {stack}: no changes")
    if yes:
        return None
    if not is_tty:
        return ChangeResult(
            stack,
            "refused",
            report,
            message=f"refusing to {verb} stack {stack} without confirmation: no terminal to "
            "ask on; review the preview and pass --yes",
        )
    if not _confirmed(confirm, report):
        return ChangeResult(stack, "declined", report, message=f"{verb} cancelled; nothing done")
    return None


def _confirmed(confirm: Confirm, report: ChangeReport) -> bool:
    """The answer; Ctrl-C or end of input at the prompt is a no. (typer.confirm turns those
    into click's Abort, a RuntimeError, which would otherwise surface as an internal error.)"""
    try:
        return confirm(report)
    except (KeyboardInterrupt, EOFError, RuntimeError):
        return False


def _done(stack: str, status: str, preview: ChangeReport, update: ChangeReport) -> ChangeResult:
    summary = render_text(update).splitlines()[-1]
    return ChangeResult(stack, status, preview, update, message=f"stack {stack}: {summary}")


def _interruptible(session: _Session, run: Callable[[], Any], *, changes: bool) -> Any:
    """Run an engine operation so that Ctrl-C stops it without damage.

    The pulumi CLI runs in our process group, so a Ctrl-C on the terminal reaches it as well,
    and it cancels by itself: it lets the resource operations in flight finish, saves the
    state and releases the stack lock. So the first Ctrl-C is only noted here, and the CLI's
    output is read on until it exits. Raising at once would make the SDK close the CLI's pipes,
    which can kill it before it saved what it did; and `pulumi cancel` (Stack.cancel) would
    delete the lock of an update that is still running. A second Ctrl-C stops waiting.

    An operation that `changes` things and completes anyway is reported as it ended; a preview
    that was interrupted is not used.
    """
    with _deferred_interrupt() as interrupted:
        try:
            result = run()
        except KeyboardInterrupt:
            raise _interrupted(session, waited=False) from None
        except Exception:
            if interrupted.is_set():
                raise _interrupted(session, waited=True) from None
            raise
    if interrupted.is_set() and not changes:
        raise _interrupted(session, waited=True)
    return result


@contextmanager
def _deferred_interrupt() -> Iterator[threading.Event]:
    """While inside, the first SIGINT sets the event instead of raising KeyboardInterrupt."""
    interrupted = threading.Event()
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield interrupted  # only the main thread may handle signals; leave things as they are
        return

    def on_sigint(signum: int, frame: object) -> None:
        if interrupted.is_set():
            raise KeyboardInterrupt
        interrupted.set()
        with suppress(OSError):
            sys.stderr.write(_WAITING)

    signal.signal(signal.SIGINT, on_sigint)
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


_WAITING = "interrupted: waiting for the Pulumi engine to stop (Ctrl-C again to stop waiting)\n"


def _interrupted(session: _Session, *, waited: bool) -> DeployError:
    hint = "run `secureai preview` to see where the stack stands"
    message = f"interrupted: the operation on stack {session.name} was cancelled"
    if not waited:
        # The engine may still be finishing, or may have been stopped before it released
        # the lock; removing a lock is only safe once no update runs, so that is the user's call.
        message = f"interrupted: stopped waiting for the operation on stack {session.name}"
        hint += (
            "; the engine may still be finishing. If a later run says the stack is locked and "
            f"no update is running, run `pulumi cancel --stack {session.name}`"
        )
    return DeployError(
        message,
        hint=hint,
        kind="interrupted",
        exit_code=EXIT_INTERRUPTED,
    )


def _both(*callbacks: Callable[[Any], None]) -> Callable[[Any], None]:
    def call(event: Any) -> None:
        for callback in callbacks:
            callback(event)

    return call


def _quiet(_: str) -> None:
    return None
