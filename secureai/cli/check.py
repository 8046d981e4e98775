"""`secureai validate` and `secureai schema`: check specs without a cluster, print the schema.

validate's one core function is `secureai.cli.validating.run_validate`: this typer command and
the fast path (secureai.cli.fast, which skips typer for this hottest CI command) both call it,
so they cannot answer differently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from secureai.cli.common import FORMAT_HELP, OutputFormat, QuietOpt, app, fail, guarded
from secureai.cli.validating import DEFAULT_MAX_FINDINGS, run_validate


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
