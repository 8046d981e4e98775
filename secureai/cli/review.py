"""`secureai access` and `secureai diff`: the posture of a spec, and its change between two."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from secureai import exitcodes
from secureai.cli.common import VALIDATE_ALL, SpecArg, app, fail, guarded


class PostureFormat(StrEnum):
    text = "text"
    json = "json"
    html = "html"
    svg = "svg"


def write_or_echo(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")


def echo_diagnostics(diagnostics: list[Any]) -> None:
    from secureai.report import text_lines

    for line in text_lines(diagnostics, show_all=VALIDATE_ALL):
        typer.echo(line, err=True)


@app.command(short_help="Who reads which secret, reaches which pod, may do what.")
@guarded
def access(
    spec: SpecArg,
    output_format: Annotated[
        PostureFormat,
        typer.Option("--format", "-f", help="text tables, json, or a self-contained html page or svg."),
    ] = PostureFormat.text,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write to a file instead of stdout."),
    ] = None,
) -> None:
    """Who can read which secret, who can reach which pod, what each pod may do (from the compiled output)."""
    from secureai.review.access import load_posture, render_posture

    loaded = load_posture(spec)
    if loaded.posture is None:
        echo_diagnostics(loaded.diagnostics)
        raise typer.Exit(loaded.exit_code)
    write_or_echo(render_posture(loaded.posture, output_format.value), output)


class DiffFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"
    sarif = "sarif"


@app.command(short_help="Posture change between two specs, or a spec and a revision.")
@guarded
def diff(
    old: Annotated[
        str, typer.Argument(help="The old spec, or SPEC@REV for it at a git revision.", metavar="OLD")
    ],
    new: Annotated[str, typer.Argument(help="The new spec, or SPEC@REV.", metavar="NEW")],
    output_format: Annotated[
        DiffFormat,
        typer.Option("--format", "-f", help="text, markdown (a pull-request comment), json or sarif."),
    ] = DiffFormat.text,
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            metavar="KIND",
            help="Exit 1 when a change of this kind is found (repeatable or comma-separated): "
            "new-reader, new-flow, widened-flow, new-outside, new-exposure, new-privilege, new-token, "
            "removed-protection, new-workload, or any (every widening kind).",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write to a file instead of stdout."),
    ] = None,
) -> None:
    """Who newly reads which secret, reaches which pod, may do what: posture, not YAML."""
    from secureai.review.diff import WIDENING, DiffFailed, diff_specs, render_diff

    kinds = [k.strip() for item in fail_on or [] for k in item.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in WIDENING and k != "any"]
    if unknown:
        fail(f"unknown --fail-on kind '{unknown[0]}'", f"one of: {', '.join([*WIDENING, 'any'])}")
    try:
        found = diff_specs(old, new)
    except DiffFailed as exc:
        for line in exc.lines:
            typer.echo(line, err=True)
        raise typer.Exit(exc.exit_code) from None
    write_or_echo(render_diff(found, output_format.value, kinds), output)
    failing = found.failing(kinds) if kinds else []
    if failing:
        typer.echo(f"{len(failing)} change(s) of a --fail-on kind", err=True)
        raise typer.Exit(exitcodes.FINDINGS)
