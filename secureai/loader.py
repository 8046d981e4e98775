"""Load a spec file into plain Python data plus a map from every value to its line and column.

Safety first, because a spec is untrusted input in CI:
- only the YAML event stream is used; no constructor ever runs, so `!!python/...` and every
  other non-standard tag is an error, never code;
- the size of the file, the nesting depth and the size of the data after alias expansion are
  bounded, so a billion-laughs file is rejected after a few thousand events;
- duplicate keys are errors (PyYAML silently keeps the last one);
- plain scalars are resolved by the YAML 1.2 core schema, not 1.1: `on`, `yes`, `no`, dates
  stay strings; numbers keep their source text so that a field that wants a string gets
  `"1.30"` or `"08"` exactly as written, not `1.3` or `8`.

The composer is iterative (an explicit stack), so no input can exhaust Python's recursion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from secureai.diagnostics import Diagnostic, Position, Result, Severity, SpecPath, error

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 500_000

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}
_MERGE_KEY = "<<"

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = {".inf": "inf", "+.inf": "inf", "-.inf": "-inf", ".nan": "nan"}


class YamlInt(int):
    """An int that remembers how it was written, for fields that want the text."""

    raw: str


class YamlFloat(float):
    """A float that remembers how it was written (`1.30` must not become `1.3`)."""

    raw: str


def _number(cls: type[YamlInt] | type[YamlFloat], value: Any, raw: str) -> Any:
    obj = cls(value)
    obj.raw = raw
    return obj


def resolve_plain(text: str) -> Any:
    """YAML 1.2 core schema resolution of a plain (unquoted) scalar."""
    if _NULL.match(text):
        return None
    if _TRUE.match(text):
        return True
    if _FALSE.match(text):
        return False
    if _INT.match(text):
        return _number(YamlInt, int(text, 10), text)
    if _OCT.match(text):
        return _number(YamlInt, int(text[2:], 8), text)
    if _HEX.match(text):
        return _number(YamlInt, int(text[2:], 16), text)
    if _FLOAT.match(text):
        return _number(YamlFloat, float(text), text)
    lowered = text.lower()
    if lowered in _SPECIAL_FLOAT:
        return _number(YamlFloat, float(_SPECIAL_FLOAT[lowered]), text)
    return text


def raw_text(value: Any) -> Any:
    """The source text of a number the loader produced; anything else unchanged."""
    return getattr(value, "raw", value)


@dataclass
class SourceMap:
    """Where each value of the document stands. Paths are tuples of keys and list indexes."""

    file: str
    values: dict[SpecPath, Position] = field(default_factory=dict)
    keys: dict[SpecPath, Position] = field(default_factory=dict)

    def locate(self, path: SpecPath, *, key: bool = False) -> Position | None:
        """The position of `path`, or of its nearest ancestor that the file spells out.

        Elements that the file does not contain (pydantic adds union member names and
        validator labels to error locations) are skipped rather than ending the walk.
        """
        best = self.values.get(())
        current: SpecPath = ()
        for elem in path:
            candidate = (*current, elem)
            if candidate not in self.values:
                continue
            current = candidate
            best = self.values[current]
        if key and current in self.keys:
            return self.keys[current]
        return best

    def position_diagnostic(self, diagnostic: Diagnostic) -> Diagnostic:
        if diagnostic.position is not None:
            return diagnostic
        return diagnostic.located(self.file, self.locate(diagnostic.path))


@dataclass
class Document:
    data: dict[str, Any]
    source_map: SourceMap
    base_dir: Path


class LoadError(Exception):
    def __init__(self, code: str, message: str, position: Position | None, hint: str | None = None):
        super().__init__(message)
        self.diagnostic = Diagnostic(Severity.ERROR, code, message, hint=hint, position=position)


def _pos(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


@dataclass
class _Frame:
    kind: str  # "map" or "seq"
    path: SpecPath
    anchor: str | None
    items: list[Any] = field(default_factory=list)  # seq items, or (key, key_pos, value) triples
    pending_key: tuple[str, Position] | None = None
    weight: int = 1


class _Composer:
    """Builds Python data from YAML events, recording positions and enforcing the limits."""

    def __init__(self, source_map: SourceMap):
        self.smap = source_map
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.total = 0
        self.root: Any = None
        self.documents = 0
        self.diagnostics: list[Diagnostic] = []

    def feed(self, event: Any) -> None:
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise LoadError(
                    "SA004",
                    "a spec file holds one YAML document; found a second one",
                    _pos(event.start_mark),
                    hint="split the documents into separate files and pass them all",
                )
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self._start(event)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            frame = self.stack.pop()
            value = self._finish(frame)
            self._add(value, frame.weight, frame.anchor, None)
        elif isinstance(event, yaml.ScalarEvent):
            self._scalar(event)
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor not in self.anchors:
                raise LoadError("SA001", f"unknown alias '*{event.anchor}'", _pos(event.start_mark))
            value, weight = self.anchors[event.anchor]
            self._place(event, value, weight, None, is_key_allowed=False)

    def _count(self, weight: int, event: Any) -> None:
        self.total += weight
        if self.total > MAX_NODES:
            raise LoadError(
                "SA006",
                f"the document expands to more than {MAX_NODES:,} values (alias expansion bomb?)",
                _pos(event.start_mark),
                hint="anchors and aliases may repeat data, but not multiply it without bound",
            )

    def _check_tag(self, event: Any) -> None:
        tag = event.tag
        if tag is None or tag in _ALLOWED_TAGS or tag == "!":
            return
        raise LoadError(
            "SA007",
            f"tag '{tag}' is not allowed; a spec holds plain data only",
            _pos(event.start_mark),
            hint="remove the tag; secureai never constructs objects from YAML tags",
        )

    def _start(self, event: Any) -> None:
        self._check_tag(event)
        if len(self.stack) >= MAX_DEPTH:
            raise LoadError(
                "SA005",
                f"the document nests deeper than {MAX_DEPTH} levels",
                _pos(event.start_mark),
            )
        path = self._child_path(event)
        self.smap.values.setdefault(path, _pos(event.start_mark))
        kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
        self._count(1, event)
        self.stack.append(_Frame(kind, path, event.anchor))

    def _child_path(self, event: Any) -> SpecPath:
        if not self.stack:
            return ()
        parent = self.stack[-1]
        if parent.kind == "seq":
            return (*parent.path, len(parent.items))
        if parent.pending_key is None:
            raise LoadError(
                "SA001",
                "a mapping key must be a plain string, not a list or a mapping",
                _pos(event.start_mark),
            )
        return (*parent.path, parent.pending_key[0])

    def _scalar(self, event: Any) -> None:
        self._check_tag(event)
        self._count(1, event)
        value: Any
        tag = event.tag
        if tag is None and event.implicit[0]:
            value = resolve_plain(event.value)
        elif tag in (None, "!", f"{_CORE}str"):
            value = event.value
        else:
            value = self._explicit(tag, event)
        self._place(event, value, 1, event.anchor, is_key_allowed=True)

    def _explicit(self, tag: str, event: Any) -> Any:
        resolved = resolve_plain(event.value)
        expected = {
            f"{_CORE}int": YamlInt,
            f"{_CORE}float": YamlFloat,
            f"{_CORE}bool": bool,
            f"{_CORE}null": type(None),
        }[tag]
        if isinstance(resolved, YamlInt) and expected is YamlFloat:
            return _number(YamlFloat, float(resolved), event.value)
        if not isinstance(resolved, expected):
            raise LoadError(
                "SA001", f"'{event.value}' is not a valid {tag[len(_CORE) :]}", _pos(event.start_mark)
            )
        return resolved

    def _place(self, event: Any, value: Any, weight: int, anchor: str | None, is_key_allowed: bool) -> None:
        if self.stack and self.stack[-1].kind == "map" and self.stack[-1].pending_key is None:
            frame = self.stack[-1]
            if not is_key_allowed and not isinstance(value, str):
                raise LoadError("SA001", "a mapping key must be a plain string", _pos(event.start_mark))
            key = raw_text(value)
            key = "" if key is None else str(key)
            frame.pending_key = (key, _pos(event.start_mark))
            if anchor:
                self.anchors[anchor] = (key, 1)
            return
        path = self._child_path(event)
        self.smap.values.setdefault(path, _pos(event.start_mark))
        if weight > 1:
            self._count(weight, event)
        self._add(value, weight, anchor, event)

    def _add(self, value: Any, weight: int, anchor: str | None, event: Any) -> None:
        if anchor:
            self.anchors[anchor] = (value, weight)
        if not self.stack:
            self.root = value
            return
        parent = self.stack[-1]
        parent.weight += weight
        if parent.kind == "seq":
            parent.items.append(value)
            return
        assert parent.pending_key is not None
        key, key_pos = parent.pending_key
        parent.items.append((key, key_pos, value))
        parent.pending_key = None

    def _finish(self, frame: _Frame) -> Any:
        if frame.kind == "seq":
            return list(frame.items)
        result: dict[str, Any] = {}
        merges: list[Any] = []
        for key, key_pos, value in frame.items:
            if key == _MERGE_KEY:
                merges.extend(value if isinstance(value, list) else [value])
                continue
            path = (*frame.path, key)
            if key in result:
                first = self.smap.keys[path]
                self.diagnostics.append(
                    Diagnostic(
                        Severity.ERROR,
                        "SA003",
                        f"duplicate key '{key}' (first defined at line {first.line})",
                        position=key_pos,
                        hint="YAML keeps only one of them; remove or rename the other",
                    )
                )
                continue
            self.smap.keys[path] = key_pos
            result[key] = value
        for merged in merges:
            if not isinstance(merged, dict):
                raise LoadError("SA001", "'<<' merges mappings only", self.smap.values.get(frame.path))
            for key, value in merged.items():
                result.setdefault(key, value)
        return result


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise LoadError(
            "SA002",
            f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            Position(line, column),
        ) from None


def _check_text(text: str) -> None:
    if "\x00" in text:
        index = text.index("\x00")
        line = text.count("\n", 0, index) + 1
        raise LoadError(
            "SA002",
            "the file contains a NUL byte; is it binary?",
            Position(line, index - (text.rfind("\n", 0, index) + 1) + 1),
        )


def _char_at(text: str, mark: Any) -> str:
    lines = text.splitlines()
    if mark is None or mark.line >= len(lines) or mark.column >= len(lines[mark.line]):
        return ""
    return str(lines[mark.line][mark.column])


def _yaml_error(exc: yaml.MarkedYAMLError, text: str) -> LoadError:
    mark = exc.problem_mark or exc.context_mark
    if _char_at(text, mark) == "\t":
        return LoadError(
            "SA001",
            "invalid YAML: a tab character where YAML expects spaces",
            _pos(mark),
            hint="YAML indentation uses spaces; replace the tab with spaces",
        )
    problem = exc.problem or exc.context or "invalid YAML"
    if exc.problem and exc.context and exc.context_mark is not None:
        problem = f"{problem} {exc.context} that starts at line {exc.context_mark.line + 1}"
    return LoadError("SA001", f"invalid YAML: {problem}", _pos(mark) if mark else None)


def _loader_class() -> Any:
    """libyaml's parser when PyYAML was built with it (5-10x faster), else the pure one."""
    if getattr(yaml, "__with_libyaml__", False):
        from yaml.cyaml import CParser  # type: ignore[attr-defined]

        return CParser

    class PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
        def __init__(self, stream: str):
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)

    return PyParser


_LOADER = _loader_class()


def parse_text(text: str, file: str) -> Result[Any]:
    """Parse YAML text into data; the Result's value is `(data, source_map)`."""
    smap = SourceMap(file)
    composer = _Composer(smap)
    loader = _LOADER(text)
    try:
        while loader.check_event():
            composer.feed(loader.get_event())
    except LoadError as exc:
        return Result(None, [exc.diagnostic.located(file, exc.diagnostic.position)])
    except yaml.MarkedYAMLError as exc:
        err = _yaml_error(exc, text).diagnostic
        return Result(None, [err.located(file, err.position)])
    except yaml.YAMLError as exc:  # e.g. a reader error on a control character
        return Result(None, [Diagnostic(Severity.ERROR, "SA001", f"invalid YAML: {exc}", file=file)])
    finally:
        loader.dispose()
    diags = [d.located(file, d.position) for d in composer.diagnostics]
    return Result((composer.root, smap), diags)


def load_text(text: str, file: str, base_dir: Path) -> Result[Document]:
    """Check the limits and the shape (a mapping at the top), then parse."""
    try:
        _check_text(text)
    except LoadError as exc:
        return Result(None, [exc.diagnostic.located(file, exc.diagnostic.position)])
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        return Result(
            None, [_at(file, "SA002", "the file is empty; a spec needs at least 'version' and 'project'")]
        )
    parsed = parse_text(text, file)
    if parsed.value is None:
        return Result(None, parsed.diagnostics)
    data, smap = parsed.value
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        return Result(
            None,
            [
                _at(
                    file,
                    "SA002",
                    f"the top level of a spec must be a mapping, not {kind}",
                    smap.values.get(()),
                )
            ],
        )
    return Result(Document(data, smap, base_dir), parsed.diagnostics)


def load_file(path: Path) -> Result[Document]:
    """Read a spec file from disk, bounded in size, and load it."""
    file = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        return Result(None, [_at(file, "SA000", f"cannot read the file: {exc.strerror or exc}")])
    if len(raw) > MAX_BYTES:
        return Result(
            None,
            [
                _at(
                    file,
                    "SA002",
                    f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB; a spec is never that big",
                )
            ],
        )
    try:
        text = _decode(raw)
    except LoadError as exc:
        return Result(None, [exc.diagnostic.located(file, exc.diagnostic.position)])
    return load_text(text, file, path.parent)


def _at(file: str, code: str, message: str, position: Position | None = None) -> Diagnostic:
    return error(code, message).located(file, position or Position(1, 1))
