"""Diagnostics as data: what every stage reports, with its place in the spec file.

Stages never print and never raise for bad input: they return their result together with
a list of `Diagnostic`s, and the pipeline stops at a stage boundary when one is an error.
A diagnostic made before its position is known carries the spec `path` of the offending
value (`("workloads", "trainer", "image")`); `SourceMap.locate` later turns it into a
line and column.

A diagnostic's text is safe to print on a terminal: control characters from the spec (ESC,
BEL, CR, NUL, bidi controls; an OSC 52 sequence could write the clipboard) are shown as
escapes, a quoted value longer than `MAX_QUOTED` characters is shortened, and a whole message
is bounded, so a one-megabyte name is not printed in full (in text, JSON or SARIF alike).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")

PathElem = str | int
SpecPath = tuple[PathElem, ...]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Position:
    """1-based line and column, as editors and compilers show them."""

    line: int
    column: int


MAX_QUOTED = 80
MAX_MESSAGE = 2000
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# A quoted value is one word (names, paths); a quote pair spanning spaces is message text.
_QUOTED = re.compile(f"(?<!\\w)'([^'\\s]{{{MAX_QUOTED + 1},}})'")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _ESCAPES:
        return _ESCAPES[char]
    if 0xD800 <= code <= 0xDFFF:  # a byte that was not UTF-8 (a file name, say)
        return f"\\x{code - 0xDC00:02x}" if code >= 0xDC80 else f"\\u{code:04x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, limit: int = MAX_MESSAGE, shorten_quotes: bool = True) -> str:
    """`text` fit for a terminal and a log: controls escaped, long quotes and text shortened."""
    if shorten_quotes:
        text = _QUOTED.sub(
            lambda m: f"'{m.group(1)[: MAX_QUOTED - 20]}...' ({len(m.group(1)):,} characters)", text
        )
    text = _UNPRINTABLE.sub(lambda m: _escape(m.group()), text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    code: str
    message: str
    hint: str | None = None
    file: str | None = None
    position: Position | None = None
    path: SpecPath = ()
    # A finding the spec accepted in writing (a workload's `exceptions`): the reason, which
    # SARIF reports as an in-source suppression so code scanning shows it as dismissed.
    justification: str | None = None

    def __post_init__(self) -> None:
        # Frozen: set once, here, so every output (text, JSON, SARIF) gets the safe text.
        object.__setattr__(self, "message", printable(self.message))
        if self.hint is not None:
            object.__setattr__(self, "hint", printable(self.hint))

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def located(self, file: str | None, position: Position | None) -> Diagnostic:
        return replace(self, file=file, position=position)

    def text(self) -> str:
        """`file:line:col: severity[CODE]: message` then an indented hint line."""
        # The file name as bytes-faithful data stays in `file` (SARIF encodes it); shown, escaped.
        where = printable(self.file, 4096, shorten_quotes=False) if self.file else "<spec>"
        if self.position is not None:
            where = f"{where}:{self.position.line}:{self.position.column}"
        line = f"{where}: {self.severity.value}[{self.code}]: {self.message}"
        return f"{line}\n  hint: {self.hint}" if self.hint else line

    def sort_key(self) -> tuple[str, int, int, str]:
        pos = self.position or Position(0, 0)
        return (self.file or "", pos.line, pos.column, self.code)


def error(code: str, message: str, path: SpecPath = (), hint: str | None = None) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, hint=hint, path=path)


def warning(code: str, message: str, path: SpecPath = (), hint: str | None = None) -> Diagnostic:
    return Diagnostic(Severity.WARNING, code, message, hint=hint, path=path)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


@dataclass
class Result(Generic[T]):
    """A stage's output: its value (None when it could not produce one) and what it found."""

    value: T | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.value is not None and not has_errors(self.diagnostics)


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` is most likely a misspelling of, if any is close enough."""
    import difflib  # only when there is something to suggest: it is slow to import

    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def misspelling_of(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` is a *typing slip* of, or None: at most one edit for words up to 4
    characters, two up to 10, three beyond (case ignored; a swap of neighbours is one edit).

    Stricter than `closest`, for field names: a field the spec does not have (`service`,
    `apiVersion`) shares letters with one it has (`serviceAccount`, `version`), and suggesting
    that would send the user off to use a field that means something else."""
    lowered = word.lower()
    limit = 1 if len(word) <= 4 else 2 if len(word) <= 10 else 3
    best: tuple[int, str] | None = None
    for choice in sorted(choices):
        distance = _edits(lowered, choice.lower(), limit)
        if distance <= limit and (best is None or distance < best[0]):
            best = (distance, choice)
    return best[1] if best else None


def _edits(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (insert, delete, substitute, swap neighbours), or
    `limit + 1` as soon as it must exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return row[-1]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest choice, or an empty string."""
    close = closest(word, choices)
    return f" (did you mean '{close}'?)" if close else ""


def quoted_list(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
