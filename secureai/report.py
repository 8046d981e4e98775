"""Diagnostics out: text for people, JSON for scripts, SARIF 2.1.0 for code scanning."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from secureai import __version__
from secureai.diagnostics import Diagnostic, Severity, printable

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


_SGR = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[1;33m"}
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"


def use_colour(stream: IO[str]) -> bool:
    """Colour only for a person: on a terminal, and never when NO_COLOR is set (no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def diagnostic_text(d: Diagnostic, colour: bool = False) -> str:
    """`Diagnostic.text()`, with the severity and hint coloured when `colour`."""
    text = d.text()
    if not colour:
        return text
    label = f"{d.severity.value}[{d.code}]"
    text = text.replace(f": {label}: ", f": {_SGR[d.severity]}{label}{_RESET}: ", 1)
    return text.replace("\n  hint: ", f"\n  {_DIM}hint:{_RESET} ", 1)


MAX_FINDINGS = 50
"""Findings shown per file in text, as compilers stop listing errors after a screenful: the
first ones are the ones to fix, and a hundred thousand lines of a generated file would bury
them (and take minutes to print). JSON and SARIF list every finding."""
SHOW_ALL = "--max-findings 0 shows them all"


def text_lines(
    diagnostics: Sequence[Diagnostic],
    *,
    colour: bool = False,
    limit: int = MAX_FINDINGS,
    show_all: str = SHOW_ALL,
) -> list[str]:
    """Each diagnostic's text, at most `limit` per file (0: no limit), in the order given; where
    a file's findings end, one line says how many of them were left out and `show_all` how to
    see them."""
    lines: list[str] = []
    shown: dict[str | None, int] = {}
    current: str | None = None
    left_out = 0
    for d in diagnostics:
        if d.file != current:
            if left_out:
                lines.append(_left_out(current, left_out, show_all, colour))
            current, left_out = d.file, 0
        count = shown.get(d.file, 0)
        if limit and count >= limit:
            left_out += 1
            continue
        shown[d.file] = count + 1
        lines.append(diagnostic_text(d, colour))
    if left_out:
        lines.append(_left_out(current, left_out, show_all, colour))
    return lines


def _left_out(file: str | None, count: int, show_all: str, colour: bool) -> str:
    where = printable(file, 4096, shorten_quotes=False) if file else "<spec>"
    line = f"... and {count:,} more finding{'' if count == 1 else 's'} in {where} ({show_all})"
    return f"{_DIM}{line}{_RESET}" if colour else line


def as_text(
    diagnostics: Sequence[Diagnostic], files: int, *, colour: bool = False, limit: int = MAX_FINDINGS
) -> str:
    """The findings (at most `limit` per file, 0: all), then a summary line that counts them all."""
    lines = text_lines(diagnostics, colour=colour, limit=limit)
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    noun = "file" if files == 1 else "files"
    summary = f"{files} {noun} checked: {errors} error(s), {warnings} warning(s)"
    lines.append(f"{_BOLD}{summary}{_RESET}" if colour else summary)
    return "\n".join(lines)


def _as_dict(d: Diagnostic) -> dict[str, Any]:
    return {
        "severity": d.severity.value,
        "code": d.code,
        "file": d.file,
        "line": d.position.line if d.position else None,
        "column": d.position.column if d.position else None,
        "message": d.message,
        "hint": d.hint,
    }


def diagnostics_json(diagnostics: Sequence[Diagnostic]) -> list[dict[str, Any]]:
    return [_as_dict(d) for d in diagnostics]


def as_json(diagnostics: Sequence[Diagnostic], files: int) -> str:
    errors = sum(d.is_error for d in diagnostics)
    doc = {
        "files": files,
        "errors": errors,
        "warnings": len(diagnostics) - errors,
        "diagnostics": diagnostics_json(diagnostics),
    }
    import json  # only JSON output pays for it

    return json.dumps(doc, indent=2, sort_keys=True)


def _uri(file: str | None) -> str:
    """A URI GitHub can match to a file of the repository: relative to the working directory
    (the checkout root in CI), percent-encoded; a file outside it keeps an absolute file URI."""
    if not file:
        return "spec"
    path = Path(file)
    # Percent-encoded from the bytes: a name that is not UTF-8 keeps them (as surrogates in str).
    if not path.is_absolute() and ".." not in path.parts:
        return quote(os.fsencode(path.as_posix()))
    absolute = Path(os.path.abspath(path))  # normalises '..' without following symlinks
    try:
        return quote(os.fsencode(absolute.relative_to(Path.cwd()).as_posix()))
    except ValueError:
        return "file://" + quote(os.fsencode(absolute.as_posix()))


def _result(d: Diagnostic, rule_index: int, uri: str) -> dict[str, Any]:
    text = d.message + (f" (hint: {d.hint})" if d.hint else "")
    region = (
        {"startLine": d.position.line, "startColumn": d.position.column} if d.position else {"startLine": 1}
    )
    result: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": "error" if d.severity is Severity.ERROR else "warning",
        "message": {"text": text},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}}],
    }
    if d.justification is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": d.justification}]
    return result


def _rule(code: str, title: str) -> dict[str, Any]:
    # GitHub code scanning wants both descriptions and a help text for every rule.
    return {
        "id": code,
        "name": code,
        "shortDescription": {"text": title},
        "fullDescription": {"text": title},
        "help": {"text": f"{code}: {title}. The README's table of diagnostic codes lists every code."},
    }


def as_sarif(diagnostics: Sequence[Diagnostic], files: int) -> str:
    from secureai.codes import CODES  # only SARIF needs the rule titles

    # Every rule, always in the same order: a rule's index does not depend on what was found.
    rule_ids = sorted({*CODES, *(d.code for d in diagnostics)})
    rules = [_rule(code, CODES.get(code, code)) for code in rule_ids]
    index = {code: i for i, code in enumerate(rule_ids)}
    uris = {file: _uri(file) for file in {d.file for d in diagnostics}}  # once per file, not per finding
    run = {
        "tool": {
            "driver": {
                "name": "secureai",
                "version": __version__,
                "informationUri": "https://github.com/secureai/secureai",
                "rules": rules,
            }
        },
        # libyaml counts columns in characters, not in UTF-16 code units.
        "columnKind": "unicodeCodePoints",
        "results": [_result(d, index[d.code], uris[d.file]) for d in diagnostics],
    }
    import json

    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2, sort_keys=True)


FORMATTERS = {"text": as_text, "json": as_json, "sarif": as_sarif}
