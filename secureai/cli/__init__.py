"""The `secureai` command: thin typer commands, one module per verb, each calling one core function.

Only this package turns results into exit codes and text. Heavy modules (render, Pulumi) are
imported inside the commands that need them, so `secureai validate` stays fast and never
imports pulumi. `validate`, the command CI runs most, takes a fast path that needs no typer at
all (secureai.cli.fast) and falls back to typer for anything it does not know; so the typer app
(`app`, with every verb registered) is made only when a command line needs it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from secureai import exitcodes

if TYPE_CHECKING:
    import typer

    app: typer.Typer

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    """`secureai.cli.app`, made on first use (PEP 562): importing typer costs ~45 ms."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _typer_app()


def _typer_app() -> typer.Typer:
    from secureai.cli.common import app

    # The verbs register themselves on `app` when imported, in this order, which is --help's.
    # isort: split
    from secureai.cli import check  # noqa: F401  (validate, schema)

    # isort: split
    from secureai.cli import render  # noqa: F401  (render)

    # isort: split
    from secureai.cli import review  # noqa: F401  (access, diff)

    # isort: split
    from secureai.cli import deploy  # noqa: F401  (preview, apply, destroy)

    return app


def main() -> None:
    # pydantic scans installed packages for plugins on first use (~10 ms); we use none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # Imports and the short commands run as one batch (secureai.batch says why); deploy
    # commands turn the collector back on before the engine starts.
    gc.disable()
    try:
        from secureai.cli.fast import fast_validate

        code = fast_validate(sys.argv[1:])
        if code is None:
            _typer_app()()
        else:
            _exit(code)
    except KeyboardInterrupt:
        from secureai.cli.plain import echo

        echo("interrupted", err=True)
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
