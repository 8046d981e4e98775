"""What the commands share that needs no typer: writing a line, the --quiet filter, and the
one line an unexpected error becomes. `secureai validate`'s fast path runs on these alone, so
its run never imports typer (about a fifth of validate's time)."""

from __future__ import annotations

import os
import sys
from typing import Any

from secureai import exitcodes

INTERNAL_HINT = "rerun with SECUREAI_DEBUG=1 and report it"


def echo(text: str, err: bool = False, nl: bool = True) -> None:
    """typer.echo's behaviour for plain text: one write, then a flush (output may be piped)."""
    stream = sys.stderr if err else sys.stdout
    stream.write(f"{text}\n" if nl else text)
    stream.flush()


def shown(diagnostics: list[Any], quiet: bool, strict: bool = False) -> list[Any]:
    """--quiet keeps what makes the run fail: errors, and warnings under --strict."""
    return [d for d in diagnostics if d.is_error or strict] if quiet else diagnostics


def internal_error(exc: Exception) -> int:
    """One line for an error we did not expect, and exit 2; SECUREAI_DEBUG=1 shows it all."""
    if os.environ.get("SECUREAI_DEBUG"):
        raise exc
    # Only the exception type: an exception's text could carry a value.
    echo(f"error: internal error ({type(exc).__name__})", err=True)
    echo(f"  hint: {INTERNAL_HINT}", err=True)
    return exitcodes.USAGE
