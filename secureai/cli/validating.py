"""validate's core function, the one the typer command and the fast path both call: check the
specs, print the report, return the exit code. typer-free (secureai.cli.fast says why)."""

from __future__ import annotations

import sys
from pathlib import Path

from secureai.cli.plain import echo, shown

DEFAULT_MAX_FINDINGS = 50  # held equal to report.MAX_FINDINGS by a test (report loads lazily)
FORMATS = ("text", "json", "sarif")


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
            echo(f"skipped {skipped}", err=True)
    if output_format == "text":
        findings = shown(outcome.diagnostics, quiet, strict)
        colour = report.use_colour(sys.stdout)
        text = report.as_text(findings, outcome.files, colour=colour, limit=max_findings)
        if quiet:
            text = "\n".join(text.splitlines()[:-1])  # the summary line
        if text:
            echo(text)
    else:
        echo(report.FORMATTERS[output_format](outcome.diagnostics, outcome.files))
    return outcome.exit_code(strict)
