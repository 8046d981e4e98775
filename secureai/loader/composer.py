"""Python data from YAML parser events: positions recorded, limits enforced, no constructor run.

No message quotes a tag, an alias, an anchor or a key of a flow mapping: an unquoted secret
literal can read as any of them (`!s3cret`, `*s3cret`, `&s3cret`, `{s3cret, s3cret}`), so
messages name the position instead.

The composer is iterative (an explicit stack), so no input can exhaust Python's recursion.
Only the standard tags are accepted, each on the kind of node it names: `!!python/...` and
every other tag is an error, never code. Alias expansion is counted as it happens, so a
billion-laughs file stops after a few thousand events with bounded memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from secureai.diagnostics import Diagnostic, Position, Severity, SpecPath
from secureai.loader.scalars import MAX_DIGITS, NumberTooLong, YamlFloat, YamlInt, resolve_plain, with_source
from secureai.loader.sourcemap import SourceMap

MAX_DEPTH = 64
MAX_NODES = 500_000

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null")}
_KIND_TAGS = {"map": f"{_CORE}map", "seq": f"{_CORE}seq"}
_MERGE_KEY = "<<"
_STR = f"{_CORE}str"
_SCALAR = yaml.ScalarEvent
_MAP_START, _MAP_END = yaml.MappingStartEvent, yaml.MappingEndEvent
# tuple.__new__ makes a Position without the named tuple's Python-level __new__: half the
# cost, once per YAML node (0.05 s of loading 10,000 workloads).
_position = tuple.__new__
_SEQ_START, _SEQ_END = yaml.SequenceStartEvent, yaml.SequenceEndEvent


class LoadError(Exception):
    def __init__(self, code: str, message: str, position: Position | None, hint: str | None = None):
        super().__init__(message)
        self.diagnostic = Diagnostic(Severity.ERROR, code, message, hint=hint, position=position)


def position_of(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def _short_tag(tag: str) -> str:
    """A standard tag as written (`!!str`); only called with the core schema's own tags."""
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


class _Key(NamedTuple):
    """A mapping key waiting for its value (a named tuple: one is made per key)."""

    text: str
    position: Position
    merge: bool  # a plain `<<`: YAML's merge key (a quoted '<<' is just a key)


@dataclass
class _Anchor:
    value: Any
    weight: int
    path: SpecPath | None  # where the anchored node is written; None for a key
    position: Position


@dataclass(slots=True)
class _Frame:
    kind: str  # "map" or "seq"
    path: SpecPath
    anchor: str | None
    position: Position
    items: list[Any] = field(default_factory=list)  # seq items, or (_Key, value) pairs
    pending_key: _Key | None = None
    weight: int = 1
    flow: bool = False  # `{...}`: where a value can stand, so its keys are never quoted


class Composer:
    """Builds Python data from YAML events, recording positions and enforcing the limits."""

    def __init__(self, source_map: SourceMap):
        self.smap = source_map
        self.stack: list[_Frame] = []
        self.anchors: dict[str, _Anchor] = {}
        self.total = 0
        self.root: Any = None
        self.documents = 0
        self.diagnostics: list[Diagnostic] = []

    def run(self, check: Callable[[], bool], get: Callable[[], Any]) -> None:
        """Feed every event the parser has; the loop dispatches the frequent ones itself (one
        Python call per event instead of two: about 0.1 s of loading 10,000 workloads)."""
        scalar, start, end, feed = self._scalar, self._start, self._end, self.feed
        while check():
            event = get()
            cls = event.__class__  # exact classes: the parser makes no subclasses
            if cls is _SCALAR:
                scalar(event)
            elif cls is _MAP_END or cls is _SEQ_END:
                end()
            elif cls is _MAP_START or cls is _SEQ_START:
                start(event)
            else:
                feed(event)

    def _end(self) -> None:
        frame = self.stack.pop()
        value = self._finish(frame)
        self._add(value, frame.weight)
        if frame.anchor:
            self._remember(frame.anchor, value, frame.weight, frame.path, frame.position)

    def feed(self, event: Any) -> None:
        # Exact classes (the parser makes no subclasses), the most frequent first: load speed.
        cls = event.__class__
        if cls is _SCALAR:
            self._scalar(event)
        elif cls is _MAP_END or cls is _SEQ_END:
            self._end()
        elif cls is _MAP_START or cls is _SEQ_START:
            self._start(event)
        elif isinstance(event, yaml.ScalarEvent):
            self._scalar(event)
        elif isinstance(event, yaml.DocumentStartEvent):
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
            self._add(value, frame.weight)
            self._remember(frame.anchor, value, frame.weight, frame.path, frame.position)
        elif isinstance(event, yaml.AliasEvent):
            self._alias(event)

    def _count(self, weight: int, event: Any) -> None:
        self.total += weight
        if self.total > MAX_NODES:
            raise LoadError(
                "SA006",
                f"the document expands to more than {MAX_NODES:,} values (alias expansion bomb?)",
                position_of(event.start_mark),
                hint="anchors and aliases may repeat data, but not multiply it without bound",
            )

    def _check_tag(self, event: Any, kind: str) -> None:
        """Only the core schema's tags, each on its own kind of node (`!!map` on a mapping)."""
        tag = event.tag
        if tag is None or tag == "!":
            return
        fitting = _SCALAR_TAGS if kind == "scalar" else {_KIND_TAGS[kind]}
        if tag in fitting:
            return
        if tag in _SCALAR_TAGS or tag in _KIND_TAGS.values():
            noun = {"scalar": "a single value", "map": "a mapping", "seq": "a list"}[kind]
            raise LoadError(
                "SA007",
                f"tag '{_short_tag(tag)}' cannot be used on {noun}",
                position_of(event.start_mark),
                hint="remove the tag; plain YAML needs none",
            )
        # Not quoted: `!s3cret` unquoted is a tag, and the tag text would be the secret.
        what = "a Python object tag (!!python/...)" if tag.startswith(f"{_CORE}python/") else "a tag"
        raise LoadError(
            "SA007",
            f"{what} is not allowed here; a spec holds plain data only",
            position_of(event.start_mark),
            hint="remove the tag, or quote the value if the '!' is part of it "
            "(secureai never constructs objects from YAML tags)",
        )

    def _remember(
        self, anchor: str | None, value: Any, weight: int, path: SpecPath | None, position: Position
    ) -> None:
        """Record an anchor. Defining one twice is legal YAML, but then an alias silently means
        the last definition, which a reviewer reading the first would not expect."""
        if not anchor:
            return
        earlier = self.anchors.get(anchor)
        if earlier is not None:
            self.diagnostics.append(
                Diagnostic(
                    Severity.ERROR,
                    "SA003",
                    "this anchor (&) has the name of one defined at line "
                    f"{earlier.position.line}, column {earlier.position.column}",
                    position=position,
                    hint="an alias would mean the last definition; give each anchor its own name, "
                    "or quote the value if the '&' is part of it",
                )
            )
        self.anchors[anchor] = _Anchor(value, weight, path, position)

    def _start(self, event: Any) -> None:
        kind = "map" if isinstance(event, yaml.MappingStartEvent) else "seq"
        if event.tag is not None and event.tag != "!":
            self._check_tag(event, kind)
        if len(self.stack) >= MAX_DEPTH:
            raise LoadError(
                "SA005",
                f"the document nests deeper than {MAX_DEPTH} levels",
                position_of(event.start_mark),
            )
        path = self._child_path(event)
        mark = event.start_mark
        position = _position(Position, (mark.line + 1, mark.column + 1))
        values = self.smap.values
        if path not in values:  # a duplicate key's value must not move the first one
            values[path] = position
            if not event.flow_style:
                self.smap.blocks.add(path)
        self.total += 1
        if self.total > MAX_NODES:
            self._count(0, event)
        self.stack.append(_Frame(kind, path, event.anchor, position, flow=bool(event.flow_style)))

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
        return (*parent.path, parent.pending_key.text)

    def _wants_key(self) -> bool:
        return bool(self.stack) and self.stack[-1].kind == "map" and self.stack[-1].pending_key is None

    def _scalar(self, event: Any) -> None:
        # The hot path of loading (most events are scalars): the common case (no tag, no
        # anchor, inside a collection) is written out inline; the rest goes through the helpers.
        tag = event.tag
        if tag is not None and tag != "!":
            self._check_tag(event, "scalar")
        self.total += 1
        if self.total > MAX_NODES:
            self._count(0, event)
        mark = event.start_mark
        position = _position(Position, (mark.line + 1, mark.column + 1))
        stack = self.stack
        parent = stack[-1] if stack else None
        if parent is not None and parent.kind == "map" and parent.pending_key is None:
            # A key is a name: its text as written (`true`, `null`, `1.30`), never a parsed value.
            text = event.value
            plain = tag is None and event.implicit[0]
            parent.pending_key = _Key(text, position, plain and text == _MERGE_KEY)
            if event.anchor:
                self._remember(event.anchor, text, 1, None, position)
            return
        value: Any
        if tag is None and event.implicit[0]:
            value = self._plain(event.value, position)
        elif tag is None or tag == "!" or tag == _STR:
            value = event.value
        else:
            value = self._explicit(tag, event)
        if parent is None:
            path: SpecPath = ()
            self.root = value
        else:
            parent.weight += 1
            if parent.kind == "seq":
                path = (*parent.path, len(parent.items))
                parent.items.append(value)
            else:
                key = parent.pending_key
                assert key is not None
                path = (*parent.path, key.text)
                parent.items.append((key, value))
                parent.pending_key = None
        values = self.smap.values
        if path not in values:
            values[path] = position
        if event.anchor:
            self._remember(event.anchor, value, 1, path, position)

    def _alias(self, event: Any) -> None:
        anchor = self.anchors.get(event.anchor)
        position = position_of(event.start_mark)
        if anchor is None:
            raise LoadError(
                "SA001",
                "an alias (*) that names no anchor defined before it",
                position,
                hint="quote the value if the '*' is part of it",
            )
        if self._wants_key():
            if not isinstance(anchor.value, str):
                raise LoadError("SA001", "a mapping key must be a plain string", position)
            self._count(1, event)
            self._key(anchor.value, position, merge=False)
            return
        self._count(anchor.weight, event)
        path = self._child_path(event)
        self.smap.values.setdefault(path, position)
        if anchor.path is not None:
            self.smap.aliases.setdefault(path, anchor.path)
        self._add(anchor.value, anchor.weight)

    def _key(self, text: str, position: Position, merge: bool) -> None:
        self.stack[-1].pending_key = _Key(text, position, merge)

    @staticmethod
    def _plain(text: str, position: Position) -> Any:
        try:
            return resolve_plain(text)
        except NumberTooLong:
            raise LoadError(
                "SA001",
                f"a number with more than {MAX_DIGITS:,} digits",
                position,
                hint="no field takes a number this long; quote it if it is text",
            ) from None

    def _explicit(self, tag: str, event: Any) -> Any:
        resolved = self._plain(event.value, position_of(event.start_mark))
        expected = {
            f"{_CORE}int": YamlInt,
            f"{_CORE}float": YamlFloat,
            f"{_CORE}bool": bool,
            f"{_CORE}null": type(None),
        }[tag]
        if isinstance(resolved, YamlInt) and expected is YamlFloat:
            return with_source(YamlFloat, float(resolved), event.value)
        if not isinstance(resolved, expected):
            # The value is not repeated: it may be a secret.
            raise LoadError(
                "SA001",
                f"the value tagged '{_short_tag(tag)}' is not a valid {tag[len(_CORE) :]}",
                position_of(event.start_mark),
            )
        return resolved

    def _add(self, value: Any, weight: int) -> None:
        if not self.stack:
            self.root = value
            return
        parent = self.stack[-1]
        parent.weight += weight
        if parent.kind == "seq":
            parent.items.append(value)
            return
        assert parent.pending_key is not None
        parent.items.append((parent.pending_key, value))
        parent.pending_key = None

    def _finish(self, frame: _Frame) -> Any:
        if frame.kind == "seq":
            return list(frame.items)
        result: dict[str, Any] = {}
        merges: list[tuple[Any, SpecPath]] = []
        seen: dict[str, Position] = {}
        for key, value in frame.items:
            first = seen.get(key.text)
            if first is not None:
                self._duplicate(key, first, quote=not frame.flow)
                continue
            seen[key.text] = key.position
            if key.merge:
                merges.extend(self._merge_sources(frame.path, value))
                continue
            self.smap.keys[(*frame.path, key.text)] = key.position
            result[key.text] = value
        for merged, source in merges:
            if not isinstance(merged, dict):
                raise LoadError("SA001", "'<<' merges mappings only", self.smap.values.get(source))
            for key_text, value in merged.items():
                if key_text not in result:
                    result[key_text] = value
                    self.smap.merged_from[(*frame.path, key_text)] = source
        return result

    def _duplicate(self, key: _Key, first: Position, quote: bool) -> None:
        what = f"duplicate key '{key.text}'" if quote else "duplicate key"
        self.diagnostics.append(
            Diagnostic(
                Severity.ERROR,
                "SA003",
                f"{what} (first defined at line {first.line}, column {first.column})",
                position=key.position,
                hint="YAML keeps only one of them; remove or rename the other",
            )
        )

    @staticmethod
    def _merge_sources(path: SpecPath, value: Any) -> list[tuple[Any, SpecPath]]:
        """`<<: *a` or `<<: [*a, *b]`: each merged node with where it is written."""
        where = (*path, _MERGE_KEY)
        if isinstance(value, list):
            return [(item, (*where, index)) for index, item in enumerate(value)]
        return [(value, where)]
