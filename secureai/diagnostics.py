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
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")

PathElem = str | int
SpecPath = tuple[PathElem, ...]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Position(NamedTuple):
    """1-based line and column, as editors and compilers show them.

    A named tuple, not a dataclass: the loader makes one per YAML node (half a million for a
    10,000-workload organisation), and a frozen dataclass costs five times as much to make."""

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


@lru_cache(maxsize=256)
def _printable_hint(hint: str) -> str:
    return printable(hint)


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
            # Hints repeat (thousands of unknown keys share one "allowed here" list).
            object.__setattr__(self, "hint", _printable_hint(self.hint))

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def located(self, file: str | None, position: Position | None) -> Diagnostic:
        # A copy without `__post_init__`: the text is printable already (as `replace` would
        # make it again, at a cost that shows with a hundred thousand findings).
        placed = object.__new__(type(self))
        placed.__dict__.update(self.__dict__, file=file, position=position)
        return placed

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
    """The choice `word` is most likely a misspelling of, if any is close enough: the one
    `difflib.get_close_matches` picks (cutoff 0.6) among up to `EXACT_CHOICES` choices; among
    more, the same pick restricted to choices one typing slip away (`_SlipIndex`).

    Each set of choices is sorted and indexed once and each word looked up in it once (see
    `_choice_set`), so a spec with many misspelt names costs time in proportion to its size."""
    return _choice_set(choices).closest(word)


def misspelling_of(word: str, choices: Iterable[str]) -> str | None:
    """The choice `word` is a *typing slip* of, or None: at most one edit for words up to 4
    characters, two up to 10, three beyond (case ignored; a swap of neighbours is one edit).

    Stricter than `closest`, for field names: a field the spec does not have (`service`,
    `apiVersion`) shares letters with one it has (`serviceAccount`, `version`), and suggesting
    that would send the user off to use a field that means something else. Meant for the fields
    of one mapping (a bounded set): each distinct word is compared once with the choices of
    about its length."""
    return _choice_set(choices).misspelling(word)


# Choice sets up to this size get difflib's pick among all of them (as they always have);
# a bigger one (a spec's thousand workloads) is searched through `_SlipIndex` instead.
EXACT_CHOICES = 64
_CUTOFF = 0.6  # difflib.get_close_matches' default, which `closest` always used
_REMEMBERED = 32  # choice sets kept in each of `_SMALL_SETS` and `_BIG_SETS`


class _ChoiceSet:
    """One set of choices, prepared once: sorted, with each word's answers remembered."""

    def __init__(self, choices: Iterable[str]) -> None:
        self.source = choices
        self.names = sorted(set(choices))
        self.size = len(choices) if isinstance(choices, Collection) else len(self.names)
        self._closest: dict[str, str | None] = {}
        self._misspelt: dict[str, str | None] = {}
        # For `misspelling`: (sorted order, name, lowercased, its letters) by lowercased length.
        self._by_length: dict[int, list[tuple[int, str, str, frozenset[str]]]] | None = None
        self._index: _SlipIndex | None = None

    def closest(self, word: str) -> str | None:
        if word not in self._closest:
            if len(self.names) <= EXACT_CHOICES:
                self._closest[word] = _closest_of(word, self.names)
            else:
                if self._index is None:
                    self._index = _SlipIndex(self.names)
                self._closest[word] = _closest_of(word, self._index.near(word))
        return self._closest[word]

    def misspelling(self, word: str) -> str | None:
        if word in self._misspelt:
            return self._misspelt[word]
        if self._by_length is None:
            self._by_length = {}
            for order, name in enumerate(self.names):
                folded = name.lower()
                entry = (order, name, folded, frozenset(folded))
                self._by_length.setdefault(len(folded), []).append(entry)
        lowered = word.lower()
        letters = frozenset(lowered)
        limit = 1 if len(word) <= 4 else 2 if len(word) <= 10 else 3
        # The fewest edits wins; between equals, the first choice in sorted order.
        best: tuple[int, int, str] | None = None
        # Cheap bounds first: each edit changes the length by at most one, and adds (or removes)
        # at most one letter that the other word lacks.
        for length in range(len(lowered) - limit, len(lowered) + limit + 1):
            for order, choice, folded, its_letters in self._by_length.get(length, ()):
                if len(letters - its_letters) > limit or len(its_letters - letters) > limit:
                    continue
                distance = _edits(lowered, folded, limit)
                if distance <= limit and (best is None or (distance, order) < best[:2]):
                    best = (distance, order, choice)
        self._misspelt[word] = best[2] if best else None
        return self._misspelt[word]


# The choice sets last searched, by identity: the checks pass the same section of the spec
# (`spec.secrets`, a secret's `data`) for every reference into it, and the spec is frozen. An
# entry holds its set, so the identity cannot be reused while it is remembered. Small sets
# (a workload's ports, a mapping's fields) and big ones (a spec's secrets) are remembered apart:
# thousands of small sets passing through cannot push out a big set, which would then be
# sorted and indexed again for its next finding.
_SMALL_SETS: OrderedDict[int, _ChoiceSet] = OrderedDict()
_BIG_SETS: OrderedDict[int, _ChoiceSet] = OrderedDict()


def _choice_set(choices: Iterable[str]) -> _ChoiceSet:
    if not isinstance(choices, Collection):
        return _ChoiceSet(choices)  # an iterator can be read once: nothing to remember
    remembered = _SMALL_SETS if len(choices) <= EXACT_CHOICES else _BIG_SETS
    key = id(choices)
    known = remembered.get(key)
    if known is None or known.source is not choices or known.size != len(choices):
        known = remembered[key] = _ChoiceSet(choices)
        if len(remembered) > _REMEMBERED:
            remembered.popitem(last=False)
    remembered.move_to_end(key)
    return known


def _closest_of(word: str, names: Sequence[str]) -> str | None:
    """What `difflib.get_close_matches(word, names, n=1, cutoff=0.6)` returns, without
    computing the costly `ratio` of a name whose upper bound (`quick_ratio`) cannot beat the
    best so far."""
    import difflib  # only when there is something to suggest: it is slow to import

    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(word)  # as get_close_matches does: ratio() is not symmetric
    bounded: list[tuple[float, str]] = []
    for name in names:
        matcher.set_seq1(name)
        if matcher.real_quick_ratio() >= _CUTOFF:
            bound = matcher.quick_ratio()
            if bound >= _CUTOFF:
                bounded.append((bound, name))
    bounded.sort(reverse=True)
    best: tuple[float, str] | None = None
    for bound, name in bounded:
        if best is not None and (bound, name) < best:
            break  # ratio <= bound: neither this name nor any after it can win
        matcher.set_seq1(name)
        ratio = matcher.ratio()
        # get_close_matches keeps the largest (ratio, name): equal ratios go to the later name.
        if ratio >= _CUTOFF and (best is None or (ratio, name) > best):
            best = (ratio, name)
    return best[1] if best else None


class _SlipIndex:
    """The names of a big choice set by the first and the last `_WINDOW` characters, each also
    with one character left out (SymSpell's deletions): two words one edit apart (a character
    added, left out, changed, or two neighbours swapped) share a key on either side, so the
    names one slip from a word are found in a few lookups, however many names there are.

    Names sharing a window with a word (`team-0`...) are many at worst; the side whose buckets
    hold fewer names is searched, and at most `_CANDIDATES` of them are compared."""

    _WINDOW = 6
    _CANDIDATES = 256

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.shortest = min(map(len, names))
        self.longest = max(map(len, names))
        self.heads: dict[str, list[int]] = {}
        self.tails: dict[str, list[int]] = {}
        for number, name in enumerate(names):
            for key in _with_one_left_out(name[: self._WINDOW]):
                self.heads.setdefault(key, []).append(number)
            for key in _with_one_left_out(name[-self._WINDOW :]):
                self.tails.setdefault(key, []).append(number)

    def near(self, word: str) -> list[str]:
        """The names at most one slip from `word` (case counts, as it does for difflib)."""
        if not self.shortest - 1 <= len(word) <= self.longest + 1:
            return []
        heads = [self.heads.get(key, []) for key in _with_one_left_out(word[: self._WINDOW])]
        tails = [self.tails.get(key, []) for key in _with_one_left_out(word[-self._WINDOW :])]
        side = heads if sum(map(len, heads)) <= sum(map(len, tails)) else tails
        seen: set[int] = set()
        near: list[str] = []
        for bucket in side:
            for number in bucket:
                if number in seen:
                    continue
                if len(seen) >= self._CANDIDATES:
                    return near
                seen.add(number)
                if _one_slip(word, self.names[number]):
                    near.append(self.names[number])
        return near


def _with_one_left_out(text: str) -> set[str]:
    return {text, *(text[:i] + text[i + 1 :] for i in range(len(text)))}


def _one_slip(a: str, b: str) -> bool:
    """Whether `_edits(a, b, 1) <= 1`, in time linear in the words (names can be long)."""
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < len(a) and i < len(b) and a[i] == b[i]:
        i += 1
    if len(a) > len(b):
        return a[i + 1 :] == b[i:]
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    swapped = a[i + 1 : i + 2] == b[i : i + 1] and a[i : i + 1] == b[i + 1 : i + 2]
    return a[i + 1 :] == b[i + 1 :] or (swapped and a[i + 2 :] == b[i + 2 :])


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
