"""`secureai render`: manifests and Vault artefacts for review or GitOps."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from secureai.cli.common import VALIDATE_ALL, QuietOpt, SpecArg, app, guarded
from secureai.cli.plain import shown


@app.command(short_help="Write manifests and Vault files for review or GitOps.")
@guarded
def render(
    spec: SpecArg,
    output: Annotated[
        str, typer.Option("--output", "-o", metavar="DIR", help="Directory to write, or - for stdout.")
    ],
    include_secret_values: Annotated[
        bool, typer.Option("--include-secret-values", help="Write real secret values (never by default).")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty directory secureai did not create.")
    ] = False,
    quiet: QuietOpt = False,
) -> None:
    """Write Kubernetes manifests and Vault artefacts for review or GitOps.

    Secrets whose values are placeholders go to secret-templates/, not to the applyable
    kubernetes/ folder, unless --include-secret-values resolves them.
    """
    from secureai import report
    from secureai.render.command import render_spec

    outcome = render_spec(spec, output, include_secret_values=include_secret_values, force=force)
    colour = report.use_colour(sys.stderr)
    for line in report.text_lines(shown(outcome.diagnostics, quiet), colour=colour, show_all=VALIDATE_ALL):
        typer.echo(line, err=True)
    for line in outcome.errors:
        typer.echo(line, err=True)
    if not quiet:
        for line in outcome.notes:
            typer.echo(("note: " if output == "-" else "") + line, err=True)
    raise typer.Exit(outcome.exit_code)
