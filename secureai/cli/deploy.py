"""`secureai preview`, `apply` and `destroy`: the Pulumi engine, after the spec is checked."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from secureai.cli.common import FORMAT_HELP, VALIDATE_ALL, DeployFormat, DeploySpecArg, app, guarded

EnvOpt = Annotated[
    str | None,
    typer.Option("--env", "-e", metavar="NAME", help="Stack name (default: the spec's environment)."),
]
BackendOpt = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        help="State backend URL (s3://, gs://, azblob://, https://api.pulumi.com); "
        "default: PULUMI_BACKEND_URL, else local files under ~/.secureai/state.",
    ),
]
SecretsProviderOpt = Annotated[
    str | None,
    typer.Option(
        metavar="URL", help="Pulumi secrets provider (default: passphrase from PULUMI_CONFIG_PASSPHRASE)."
    ),
]
WorkDirOpt = Annotated[
    Path | None,
    typer.Option(metavar="DIR", help="Where stack config lives (default: ~/.secureai/workspaces/<project>)."),
]
FormatOpt = Annotated[DeployFormat, typer.Option("--format", "-f", help=f"{FORMAT_HELP}.")]
JsonOpt = Annotated[bool, typer.Option("--json", hidden=True, help="Deprecated alias of --format json.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def _as_json(output_format: DeployFormat, json_flag: bool) -> bool:
    if json_flag:
        typer.echo("warning: --json is deprecated; use --format json", err=True)
    return json_flag or output_format is DeployFormat.json


def _spec_first(spec: Path, as_json: bool) -> None:
    """Validate the spec before anything looks for the engine: a broken or missing spec is the
    first thing to fix, whether or not pulumi is installed. Errors exit 1 (2 when unreadable)
    with the diagnostics, as JSON under --format json; warnings are shown and the run goes on."""
    import json

    from secureai import exitcodes, report
    from secureai.pipeline import compile_path, exit_code

    diagnostics = compile_path(spec).diagnostics
    code = exit_code(diagnostics)
    if as_json:
        if code != exitcodes.OK:
            doc = {
                "error": {"kind": "spec", "message": f"{spec} has errors", "hint": None},
                "diagnostics": report.diagnostics_json(diagnostics),
            }
            typer.echo(json.dumps(doc, indent=2, sort_keys=True))
    else:
        colour = report.use_colour(sys.stderr)
        for line in report.text_lines(diagnostics, colour=colour, show_all=VALIDATE_ALL):
            typer.echo(line, err=True)
        if code != exitcodes.OK:
            typer.echo(f"stopped: {spec} has errors; nothing was deployed", err=True)
    if code != exitcodes.OK:
        raise typer.Exit(code)


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

    gc.enable()  # main() paused it for the short work before; the engine runs for minutes
    try:
        result = action()
    except DeployError as exc:
        if as_json:
            error = {"kind": exc.kind, "message": exc.message, "hint": exc.hint}
            typer.echo(json.dumps({"error": error}, indent=2, sort_keys=True))
        else:
            typer.echo(exc.text(), err=True)
        raise typer.Exit(exc.exit_code) from None
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2, sort_keys=True))
    elif getattr(result, "message", ""):
        typer.echo(result.message)
    raise typer.Exit(result.exit_code)


@app.command(short_help="Show what apply would change; secret values stay masked.")
@guarded
def preview(
    spec: DeploySpecArg,
    env: EnvOpt = None,
    backend: BackendOpt = None,
    secrets_provider: SecretsProviderOpt = None,
    work_dir: WorkDirOpt = None,
    output_format: FormatOpt = DeployFormat.text,
    json_flag: JsonOpt = False,
    expect_no_changes: Annotated[
        bool,
        typer.Option("--expect-no-changes", help="Exit 1 when the stack differs from the spec (drift gate)."),
    ] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Refresh state from the cluster first.")] = False,
) -> None:
    """Show what apply would change, per resource and property. Secret values stay masked."""
    as_json = _as_json(output_format, json_flag)
    _spec_first(spec, as_json)
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


@app.command(short_help="Preview, confirm, deploy (--yes without a terminal).")
@guarded
def apply(
    spec: DeploySpecArg,
    yes: YesOpt = False,
    env: EnvOpt = None,
    backend: BackendOpt = None,
    secrets_provider: SecretsProviderOpt = None,
    work_dir: WorkDirOpt = None,
    output_format: FormatOpt = DeployFormat.text,
    json_flag: JsonOpt = False,
) -> None:
    """Preview, confirm, deploy. Without a terminal, --yes is required."""
    as_json = _as_json(output_format, json_flag)
    _spec_first(spec, as_json)
    from secureai.deploy import apply as run_apply

    _change(run_apply, spec, yes, _deploy_options(env, backend, secrets_provider, work_dir), as_json)


@app.command(short_help="Preview the deletion, confirm, delete the stack's resources.")
@guarded
def destroy(
    spec: DeploySpecArg,
    yes: YesOpt = False,
    env: EnvOpt = None,
    backend: BackendOpt = None,
    secrets_provider: SecretsProviderOpt = None,
    work_dir: WorkDirOpt = None,
    output_format: FormatOpt = DeployFormat.text,
    json_flag: JsonOpt = False,
) -> None:
    """Preview the deletion, confirm, delete everything the spec's stack holds."""
    as_json = _as_json(output_format, json_flag)
    _spec_first(spec, as_json)
    from secureai.deploy import destroy as run_destroy

    _change(run_destroy, spec, yes, _deploy_options(env, backend, secrets_provider, work_dir), as_json)


def _change(run: Callable[..., Any], spec: Path, yes: bool, options: Any, as_json: bool) -> NoReturn:
    """apply and destroy: the same confirmation rules and output, another engine operation."""
    echo = None if as_json else typer.echo
    _run_deploy(lambda: run(spec, options, yes=yes, is_tty=_is_tty(), confirm=_confirm, echo=echo), as_json)
