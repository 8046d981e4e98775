"""The `secureai` command: thin typer commands, each calling one core function.

Only this module turns results into exit codes and text. Heavy modules (render, Pulumi) are
imported inside the commands that need them, so `secureai validate` stays fast and never
imports pulumi.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from secureai import __version__, exitcodes

app = typer.Typer(
    name="secureai",
    help="One YAML security spec for AI workloads on Kubernetes: validate, render, preview, apply.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

F = TypeVar("F", bound=Callable[..., Any])


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"


def _fail(message: str, hint: str | None = None, code: int = exitcodes.USAGE) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    if hint:
        typer.echo(f"  hint: {hint}", err=True)
    raise typer.Exit(code)


def guarded(command: F) -> F:
    """No traceback reaches the user: unexpected errors become one line and exit 2."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("SECUREAI_DEBUG"):
                raise
            # Only the exception type: an exception's text could carry a value.
            _fail(f"internal error ({type(exc).__name__})", "rerun with SECUREAI_DEBUG=1 and report it")

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"secureai {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """secureai: lock down AI workloads on Kubernetes from one spec."""


SpecArg = Annotated[Path, typer.Argument(help="The spec file.", show_default=False, metavar="SPEC")]


@app.command()
@guarded
def validate(
    specs: Annotated[
        list[Path],
        typer.Argument(
            help="Spec files, or directories of them, to check.", show_default=False, metavar="SPEC"
        ),
    ],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Report format.")
    ] = OutputFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
) -> None:
    """Check specs without a cluster: schema, references, Pod Security, target version."""
    from secureai.pipeline import validate_paths
    from secureai.report import FORMATTERS

    outcome = validate_paths(specs)
    typer.echo(FORMATTERS[output_format.value](outcome.diagnostics, outcome.files))
    raise typer.Exit(outcome.exit_code(strict))


@app.command()
@guarded
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to a file instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of the spec (for editors)."""
    from secureai.schema import schema_text

    text = schema_text()
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")


@app.command()
@guarded
def render(
    spec: SpecArg,
    output: Annotated[str, typer.Option("--output", "-o", help="Directory to write, or - for stdout.")],
    include_secret_values: Annotated[
        bool, typer.Option("--include-secret-values", help="Write real secret values (never by default).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty directory secureai did not create.")
    ] = False,
) -> None:
    """Write Kubernetes manifests and Vault artefacts for review or GitOps."""
    from secureai.render.command import RenderFailed, render_spec

    try:
        outcome = render_spec(spec, output, include_secret_values=include_secret_values, force=force)
    except RenderFailed as exc:
        for line in exc.lines:
            typer.echo(line, err=True)
        raise typer.Exit(exc.exit_code) from None
    for line in outcome:
        typer.echo(line, err=True)


class PostureFormat(StrEnum):
    text = "text"
    json = "json"


def _write_or_echo(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")


def _echo_diagnostics(diagnostics: list[Any]) -> None:
    for d in diagnostics:
        typer.echo(d.text(), err=True)


@app.command()
@guarded
def access(
    spec: SpecArg,
    output_format: Annotated[
        PostureFormat,
        typer.Option("--format", "-f", help="text tables or json."),
    ] = PostureFormat.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to a file instead of stdout.")
    ] = None,
) -> None:
    """Who can read which secret, who can reach which pod, what each pod may do (from the compiled output)."""
    from secureai.review.access import load_posture, render_posture

    loaded = load_posture(spec)
    if loaded.posture is None:
        _echo_diagnostics(loaded.diagnostics)
        raise typer.Exit(loaded.exit_code)
    _write_or_echo(render_posture(loaded.posture, output_format.value), output)


EnvOpt = Annotated[
    str | None, typer.Option("--env", "-e", help="Stack name (default: the spec's environment).")
]
BackendOpt = Annotated[
    str | None,
    typer.Option(
        help="State backend URL (s3://, gs://, azblob://, https://api.pulumi.com); "
        "default: PULUMI_BACKEND_URL, else local files under ~/.secureai/state."
    ),
]
SecretsProviderOpt = Annotated[
    str | None,
    typer.Option(help="Pulumi secrets provider (default: passphrase from PULUMI_CONFIG_PASSPHRASE)."),
]
WorkDirOpt = Annotated[
    Path | None, typer.Option(help="Where stack config lives (default: ~/.secureai/workspaces/<project>).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def _deploy_options(
    env: str | None, backend: str | None, secrets_provider: str | None, work_dir: Path | None, **extra: Any
) -> Any:
    from secureai.deploy import DeployOptions

    return DeployOptions(
        env=env, backend=backend, secrets_provider=secrets_provider, work_dir=work_dir, **extra
    )


def _is_tty() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _confirm(report: Any) -> bool:
    return typer.confirm("Do you want to perform these changes?", default=False)


def _run_deploy(action: Callable[[], Any], as_json: bool) -> NoReturn:
    """Run one deploy action; DeployError becomes its text and exit code, never a traceback."""
    import json

    from secureai.deploy import DeployError

    try:
        result = action()
    except DeployError as exc:
        typer.echo(exc.text(), err=True)
        raise typer.Exit(exc.exit_code) from None
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2, sort_keys=True))
    elif getattr(result, "message", ""):
        typer.echo(result.message)
    raise typer.Exit(result.exit_code)


@app.command()
@guarded
def preview(
    spec: SpecArg,
    env: EnvOpt = None,
    backend: BackendOpt = None,
    secrets_provider: SecretsProviderOpt = None,
    work_dir: WorkDirOpt = None,
    as_json: JsonOpt = False,
    expect_no_changes: Annotated[
        bool,
        typer.Option("--expect-no-changes", help="Exit 1 when the stack differs from the spec (drift gate)."),
    ] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Refresh state from the cluster first.")] = False,
) -> None:
    """Show what apply would change, per resource and property. Secret values stay masked."""
    from secureai.deploy import preview as run_preview
    from secureai.deploy import render_text

    options = _deploy_options(
        env,
        backend,
        secrets_provider,
        work_dir,
        expect_no_changes=expect_no_changes,
        refresh=refresh or expect_no_changes,
    )

    def action() -> Any:
        result = run_preview(spec, options)
        if not as_json:
            typer.echo(render_text(result.report))
        return result

    _run_deploy(action, as_json)


@app.command()
@guarded
def apply(
    spec: SpecArg,
    yes: YesOpt = False,
    env: EnvOpt = None,
    backend: BackendOpt = None,
    secrets_provider: SecretsProviderOpt = None,
    work_dir: WorkDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Preview, confirm, deploy. Without a terminal, --yes is required."""
    from secureai.deploy import apply as run_apply

    _change(run_apply, spec, yes, _deploy_options(env, backend, secrets_provider, work_dir), as_json)


@app.command()
@guarded
def destroy(
    spec: SpecArg,
    yes: YesOpt = False,
    env: EnvOpt = None,
    backend: BackendOpt = None,
    secrets_provider: SecretsProviderOpt = None,
    work_dir: WorkDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Preview the deletion, confirm, delete everything the spec's stack holds."""
    from secureai.deploy import destroy as run_destroy

    _change(run_destroy, spec, yes, _deploy_options(env, backend, secrets_provider, work_dir), as_json)


def _change(run: Callable[..., Any], spec: Path, yes: bool, options: Any, as_json: bool) -> NoReturn:
    """apply and destroy: the same confirmation rules and output, another engine operation."""
    echo = None if as_json else typer.echo
    _run_deploy(lambda: run(spec, options, yes=yes, is_tty=_is_tty(), confirm=_confirm, echo=echo), as_json)


def main() -> None:
    # pydantic scans installed packages for plugins on first use (~10 ms); we use none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        _exit(exitcodes.INTERRUPTED)
    except SystemExit as done:
        _exit(done.code if isinstance(done.code, int) else exitcodes.USAGE if done.code else exitcodes.OK)
    _exit(exitcodes.OK)


def _exit(code: int) -> NoReturn:
    """Exit without interpreter teardown: every command has finished its work by now, and
    tearing down pydantic's and typer's object graphs costs ~15 ms of validate's budget."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`| head`) is not our failure
            stream.flush()
    os._exit(code)
