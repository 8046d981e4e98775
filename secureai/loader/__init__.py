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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from secureai.diagnostics import Diagnostic, Position, Result, Severity, error
from secureai.loader.composer import MAX_DEPTH, MAX_NODES, Composer, LoadError, position_of
from secureai.loader.scalars import YamlFloat, YamlInt, raw_text, resolve_plain
from secureai.loader.sourcemap import SourceMap

MAX_BYTES = 4 * 1024 * 1024

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NODES",
    "Document",
    "SourceMap",
    "YamlFloat",
    "YamlInt",
    "load_file",
    "load_text",
    "parse_text",
    "raw_text",
    "resolve_plain",
]


@dataclass
class Document:
    data: dict[str, Any]
    source_map: SourceMap
    base_dir: Path


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
            position_of(mark),
            hint="YAML indentation uses spaces; replace the tab with spaces",
        )
    problem = exc.problem or exc.context or "invalid YAML"
    if exc.problem and exc.context and exc.context_mark is not None:
        problem = f"{problem} {exc.context} that starts at line {exc.context_mark.line + 1}"
    return LoadError("SA001", f"invalid YAML: {problem}", position_of(mark) if mark else None)


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
    composer = Composer(smap)
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
