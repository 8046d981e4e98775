"""`secureai validate` and `secureai schema`: check specs without a cluster, print the schema.

`run_validate` is the command's one core function: the typer command and the fast path
(secureai.cli.fast, which skips typer's parameter machinery for this hottest CI command) both
call it, so they cannot answer differently.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from secureai.cli.common import FORMAT_HELP, OutputFormat, QuietOpt, app, fail, guarded, shown

DEFAULT_MAX_FINDINGS = 50  # held equal to report.MAX_FINDINGS by a test (report loads lazily)


def run_validate(
    specs: list[Path],
    output_format: str = "text",
    strict: bool = False,
    quiet: bool = False,
    verbose: bool = False,
    max_findings: int = DEFAULT_MAX_FINDINGS,
) -> int:
    """Check `specs`, print the report in `output_format`; the exit code."""
    from secureai import report
    from secureai.pipeline import validate_paths

    outcome = validate_paths(specs)
    if verbose:
        for skipped in outcome.skipped:
            typer.echo(f"skipped {skipped}", err=True)
    if output_format == OutputFormat.text:
        findings = shown(outcome.diagnostics, quiet, strict)
        colour = report.use_colour(sys.stdout)
        text = report.as_text(findings, outcome.files, colour=colour, limit=max_findings)
        if quiet:
            text = "\n".join(text.splitlines()[:-1])  # the summary line
        if text:
            typer.echo(text)
    else:
        typer.echo(report.FORMATTERS[output_format](outcome.diagnostics, outcome.files))
    return outcome.exit_code(strict)


@app.command(short_help="Check specs without a cluster (exit 1 on findings).")
@guarded
def validate(
    specs: Annotated[
        list[Path],
        typer.Argument(
            help="Spec files, directories of them, or - for standard input. A directory's hidden "
            "folders and render output (.secureai-render) are skipped.",
            show_default=False,
            metavar="SPEC",
        ),
    ],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help=f"{FORMAT_HELP}, sarif for code scanning.")
    ] = OutputFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
    quiet: QuietOpt = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also say which files and folders were skipped.")
    ] = False,
    max_findings: Annotated[
        int,
        typer.Option(
            "--max-findings",
            min=0,
            metavar="N",
            help="Text lists at most N findings per file, then how many more (0: all). "
            "JSON and SARIF list all.",
        ),
    ] = DEFAULT_MAX_FINDINGS,
) -> None:
    """Check specs without a cluster: schema, references, Pod Security, target version."""
    raise typer.Exit(run_validate(specs, output_format.value, strict, quiet, verbose, max_findings))


@app.command(short_help="Print the JSON Schema of the spec (for editors).")
@guarded
def schema(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write to a file instead of stdout."),
    ] = None,
    part: Annotated[
        bool, typer.Option("--part", help="The schema of a file a root spec includes (its teams' files).")
    ] = False,
) -> None:
    """Print the JSON Schema of the spec (for editors)."""
    from secureai.schema import schema_text

    text = schema_text(part)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
