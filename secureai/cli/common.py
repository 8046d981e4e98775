"""What every `secureai` command shares: the typer app, output formats, the guard that turns
any unexpected error into one line and exit 2, and the options several verbs take."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from secureai import __version__, exitcodes
from secureai.cli.plain import internal_error

app = typer.Typer(
    name="secureai",
    help="One YAML security spec for AI workloads on Kubernetes: validate, render, preview, apply.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

F = TypeVar("F", bound=Callable[..., Any])


def _plain_help_types() -> None:
    """Show metavars in help, not Python types.

    typer 0.2x prints each parameter's annotation (`SPEC <list[Path]>`, `--env <str>`), which
    means nothing to a user. Every value option here names its value with `metavar` (`--env
    NAME`); an argument's name already is its metavar. Older typer has no `display_type` and
    shows metavars by itself."""
    from typer import core

    base = getattr(core, "_TyperParameter", None)
    original = getattr(base, "display_type", None)
    if base is None or original is None:
        return

    def display_type(self: Any, ctx: Any) -> str:
        if self.param_type_name == "argument":
            return ""
        return str(self.metavar) if self.metavar else str(original(self, ctx))

    base.display_type = display_type


_plain_help_types()


class OutputFormat(StrEnum):
    """validate's report formats."""

    text = "text"
    json = "json"
    sarif = "sarif"


class DeployFormat(StrEnum):
    """preview, apply and destroy: text for people, json for scripts."""

    text = "text"
    json = "json"


# One convention for every command: `-f/--format`. (`-o/--output` is where render writes.)
FORMAT_HELP = "Output format: text for people, json for scripts"
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Print only errors (and warnings that fail the run).")
]


def fail(message: str, hint: str | None = None, code: int = exitcodes.USAGE) -> NoReturn:
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
        except KeyboardInterrupt:
            # Said here: typer turns an interrupt leaving the command into a silent exit 130.
            typer.echo("interrupted", err=True)
            raise typer.Exit(exitcodes.INTERRUPTED) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:
            raise typer.Exit(internal_error(exc)) from None

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


SpecArg = Annotated[
    Path, typer.Argument(help="The spec file, or - for standard input.", show_default=False, metavar="SPEC")
]
DeploySpecArg = Annotated[Path, typer.Argument(help="The spec file.", show_default=False, metavar="SPEC")]


# Commands other than validate list a screenful of findings per file, then this.
VALIDATE_ALL = "secureai validate --max-findings 0 lists them all"
