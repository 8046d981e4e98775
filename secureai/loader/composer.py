"""Python data from YAML parser events: positions recorded, limits enforced, no constructor run.

The composer is iterative (an explicit stack), so no input can exhaust Python's recursion.
Only the standard tags are accepted: `!!python/...` and every other tag is an error, never code.
Alias expansion is counted as it happens, so a billion-laughs file stops after a few
thousand events with bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from secureai.diagnostics import Diagnostic, Position, Severity, SpecPath
from secureai.loader.scalars import YamlFloat, YamlInt, raw_text, resolve_plain, with_source
from secureai.loader.sourcemap import SourceMap

MAX_DEPTH = 64
MAX_NODES = 500_000

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}
_MERGE_KEY = "<<"


class LoadError(Exception):
    def __init__(self, code: str, message: str, position: Position | None, hint: str | None = None):
        super().__init__(message)
        self.diagnostic = Diagnostic(Severity.ERROR, code, message, hint=hint, position=position)


def position_of(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


@dataclass
class _Frame:
    kind: str  # "map" or "seq"
    path: SpecPath
    anchor: str | None
    items: list[Any] = field(default_factory=list)  # seq items, or (key, key_pos, value) triples
    pending_key: tuple[str, Position] | None = None
    weight: int = 1


class Composer:
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
                    position_of(event.start_mark),
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
                raise LoadError("SA001", f"unknown alias '*{event.anchor}'", position_of(event.start_mark))
            value, weight = self.anchors[event.anchor]
            self._place(event, value, weight, None, is_key_allowed=False)

    def _count(self, weight: int, event: Any) -> None:
        self.total += weight
        if self.total > MAX_NODES:
            raise LoadError(
                "SA006",
                f"the document expands to more than {MAX_NODES:,} values (alias expansion bomb?)",
                position_of(event.start_mark),
                hint="anchors and aliases may repeat data, but not multiply it without bound",
            )

    def _check_tag(self, event: Any) -> None:
        tag = event.tag
        if tag is None or tag in _ALLOWED_TAGS or tag == "!":
            return
        raise LoadError(
            "SA007",
            f"tag '{tag}' is not allowed; a spec holds plain data only",
            position_of(event.start_mark),
            hint="remove the tag; secureai never constructs objects from YAML tags",
        )

    def _start(self, event: Any) -> None:
        self._check_tag(event)
        if len(self.stack) >= MAX_DEPTH:
            raise LoadError(
                "SA005",
                f"the document nests deeper than {MAX_DEPTH} levels",
                position_of(event.start_mark),
            )
        path = self._child_path(event)
        self.smap.values.setdefault(path, position_of(event.start_mark))
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
                position_of(event.start_mark),
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
            return with_source(YamlFloat, float(resolved), event.value)
        if not isinstance(resolved, expected):
            raise LoadError(
                "SA001", f"'{event.value}' is not a valid {tag[len(_CORE) :]}", position_of(event.start_mark)
            )
        return resolved

    def _place(self, event: Any, value: Any, weight: int, anchor: str | None, is_key_allowed: bool) -> None:
        if self.stack and self.stack[-1].kind == "map" and self.stack[-1].pending_key is None:
            frame = self.stack[-1]
            if not is_key_allowed and not isinstance(value, str):
                raise LoadError(
                    "SA001", "a mapping key must be a plain string", position_of(event.start_mark)
                )
            key = raw_text(value)
            key = "" if key is None else str(key)
            frame.pending_key = (key, position_of(event.start_mark))
            if anchor:
                self.anchors[anchor] = (key, 1)
            return
        path = self._child_path(event)
        self.smap.values.setdefault(path, position_of(event.start_mark))
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
