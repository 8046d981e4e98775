"""`secureai validate` without typer: the command CI runs on every push.

Importing typer (and click) takes about 45 ms, and typer builds a pydantic TypeAdapter for each
parameter of the command it runs (~25 ms): together more than a quarter of validate's whole
run. This parser reads the plain forms of validate's own options and hands them to the same
core function as the typer command (`run_validate`); anything else (help, completion, an
unknown or combined option, a bad value, no spec) returns None, and typer parses the line and
says what is wrong. A test runs a matrix of command lines through both and holds their output
and exit codes equal, and another that the fast path imports no typer.
"""

from __future__ import annotations

from pathlib import Path

from secureai.cli.validating import FORMATS

FLAGS = {"--strict": "strict", "-q": "quiet", "--quiet": "quiet", "-v": "verbose", "--verbose": "verbose"}


def parse(argv: list[str]) -> dict[str, object] | None:
    """validate's arguments as keyword arguments of run_validate, or None: let typer parse."""
    if not argv or argv[0] != "validate":
        return None
    found: dict[str, object] = {"output_format": "text"}
    specs: list[Path] = []
    rest = iter(argv[1:])
    for arg in rest:
        if arg == "--":
            specs.extend(Path(a) for a in rest)
            break
        if arg in FLAGS:
            found[FLAGS[arg]] = True
            continue
        name, eq, value = arg.partition("=")
        if name in ("-f", "--format", "--max-findings") and not (name == "-f" and eq):
            given = value if eq else next(rest, None)
            if given is None:
                return None
            if name == "--max-findings":
                if not given.isascii() or not given.isdigit():
                    return None
                found["max_findings"] = int(given)
            elif given in FORMATS:
                found["output_format"] = given
            else:
                return None
            continue
        if arg.startswith("-") and arg != "-":
            return None  # --help, an unknown option, `-qv`: typer's to read
        specs.append(Path(arg))
    if not specs:
        return None
    found["specs"] = specs
    return found


def fast_validate(argv: list[str]) -> int | None:
    """Run validate for `argv` and return its exit code, or None when typer must parse it."""
    parsed = parse(argv)
    if parsed is None:
        return None
    from secureai.cli.plain import internal_error
    from secureai.cli.validating import run_validate

    try:
        return run_validate(**parsed)  # type: ignore[arg-type]
    except Exception as exc:  # the typer command's guard says the same
        return internal_error(exc)
