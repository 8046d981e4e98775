"""Load a spec file into plain Python data plus a map from every value to its line and column.

Safety first, because a spec is untrusted input in CI:
- only the YAML event stream is used; no constructor ever runs, so `!!python/...` and every
  other non-standard tag is an error, never code;
- the size of the file, the nesting depth and the size of the data after alias expansion are
  bounded, so a billion-laughs file is rejected after a few thousand events;
- only regular files and pipes are read, and at most `MAX_BYTES` of them: `/dev/zero`, a
  terminal or a FIFO nobody writes to cannot hang or exhaust CI;
- characters YAML forbids, and those that make a reviewer see other than what is parsed (line
  separators libyaml breaks lines at, bidirectional overrides), are errors with a position;
- duplicate keys and anchors defined twice are errors (PyYAML silently keeps the last key);
- plain scalars are resolved by the YAML 1.2 core schema, not 1.1: `on`, `yes`, `no`, dates
  stay strings; numbers keep their source text so that a field that wants a string gets
  `"1.30"` or `"08"` exactly as written, not `1.3` or `8`.

The composer is iterative (an explicit stack), so no input can exhaust Python's recursion.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from secureai.diagnostics import Diagnostic, Position, Result, error
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
    "load_bytes",
    "load_file",
    "load_stream",
    "load_text",
    "parse_text",
    "position_at",
    "raw_text",
    "read_bounded",
    "resolve_plain",
]


@dataclass
class Document:
    data: dict[str, Any]
    source_map: SourceMap
    base_dir: Path
    # The files a composed spec read besides its root (secureai.loader.compose), as shown.
    included: list[Path] = field(default_factory=list)


# Line breaks as libyaml counts them. NEL, LS and PS (also breaks to libyaml) are refused below.
_BREAK = re.compile(r"\r\n|\r|\n")
# Characters YAML does not allow in a stream (outside its printable set).
_NOT_YAML = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
# Characters that make a reviewer see something other than what the parser reads: line breaks
# to libyaml that editors show inline, and bidirectional overrides (Trojan Source,
# CVE-2021-42574) that reorder what is displayed.
_DECEPTIVE = {
    "\x85": "a next-line character (U+0085), which YAML parsers treat as a line break and editors do not",
    "\u2028": "a line separator (U+2028), which YAML parsers treat as a line break and editors do not",
    "\u2029": "a paragraph separator (U+2029), which YAML parsers treat as a line break and editors do not",
    **{
        chr(c): f"a bidirectional text control (U+{c:04X}), which makes text display in another order "
        "than it is read"
        for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
    },
}
_DECEPTIVE_RE = re.compile("[" + "".join(_DECEPTIVE) + "]")


def position_at(text: str, index: int) -> Position:
    """The 1-based line and column (in characters) of `text[index]`, as libyaml counts them."""
    line, start = 1, 0
    for match in _BREAK.finditer(text, 0, index):
        line, start = line + 1, match.end()
    return Position(line, index - start + 1)


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8")  # valid up to the bad byte, by definition
        raise LoadError(
            "SA002",
            f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            position_at(before, len(before)),
        ) from None


def _check_text(text: str) -> None:
    """Refuse characters before parsing, so each refusal is positioned and worded for people."""
    if "\x00" in text:
        raise LoadError(
            "SA002", "the file contains a NUL byte; is it binary?", position_at(text, text.index("\x00"))
        )
    bad = _NOT_YAML.search(text)
    if bad is not None:
        raise LoadError(
            "SA001",
            f"invalid YAML: character U+{ord(bad.group()):04X} is not allowed (a control character "
            "or not a character at all)",
            position_at(text, bad.start()),
            hint="remove it; a spec is plain text",
        )
    deceptive = _DECEPTIVE_RE.search(text)
    if deceptive is not None:
        raise LoadError(
            "SA008",
            f"the file contains {_DECEPTIVE[deceptive.group()]}",
            position_at(text, deceptive.start()),
            hint="remove it: what a reviewer sees must be what secureai reads",
        )


def _char_at(text: str, mark: Any) -> str:
    lines = _BREAK.split(text)
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
    problem = _unquoted(exc.problem or exc.context or "invalid YAML")
    if exc.problem and exc.context and exc.context_mark is not None:
        problem = f"{problem} {_unquoted(exc.context)} that starts at line {exc.context_mark.line + 1}"
    return LoadError("SA001", f"invalid YAML: {problem}", position_of(mark) if mark else None)


# The pure-Python parser quotes the character it found (`found character '%' that ...`);
# libyaml's own messages quote only grammar (`expected ',' or ']'`), which is kept.
_FOUND_QUOTED = re.compile(r"""(found) (?:character )?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")


def _unquoted(problem: str) -> str:
    """The parser's words without the source text it quotes (which could be a secret)."""
    return _FOUND_QUOTED.sub(r"\1 a character", problem)


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
    try:
        _check_text(text)
    except LoadError as exc:
        return Result(None, [exc.diagnostic.located(file, exc.diagnostic.position)])
    loader = _LOADER(text)
    try:
        composer.run(loader.check_event, loader.get_event)
    except LoadError as exc:
        return Result(None, [exc.diagnostic.located(file, exc.diagnostic.position)])
    except yaml.MarkedYAMLError as exc:
        err = _yaml_error(exc, text).diagnostic
        return Result(None, [err.located(file, err.position)])
    except yaml.YAMLError as exc:  # a reader error: _check_text refuses its causes first
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        return Result(None, [_at(file, "SA001", f"invalid YAML: {reason}")])
    finally:
        loader.dispose()
    diags = [d.located(file, d.position) for d in composer.diagnostics]
    return Result((composer.root, smap), diags)


def load_text(text: str, file: str, base_dir: Path) -> Result[Document]:
    """Check the limits and the shape (a mapping at the top), then parse."""
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
        raw = read_bounded(path, MAX_BYTES + 1)
    except OSError as exc:
        return Result(None, [_at(file, "SA000", f"cannot read the file: {exc.strerror or exc}")])
    return load_bytes(raw, file, path.parent)


def load_stream(stream: BinaryIO, file: str, base_dir: Path) -> Result[Document]:
    """Load a spec from an open stream (standard input for `-`), bounded in size like a file."""
    try:
        raw = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        return Result(None, [_at(file, "SA000", f"cannot read the input: {exc.strerror or exc}")])
    return load_bytes(raw, file, base_dir)


def load_bytes(raw: bytes, file: str, base_dir: Path) -> Result[Document]:
    """Decode (at most MAX_BYTES of) a spec and load it; `file` is the name messages show."""
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
    return load_text(text, file, base_dir)


def read_bounded(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of a regular file or a pipe; anything else is an OSError.

    Opened non-blocking, so a FIFO nobody writes to reads as empty instead of hanging CI, and
    checked on the open descriptor, so a path swapped after the check is not read. Devices
    (`/dev/zero`, a terminal) and directories are refused: they are never spec files.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "it is a directory", str(path))
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        os.set_blocking(fd, True)  # a pipe with a writer is read to its end
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit)
    finally:
        os.close(fd)


def _at(file: str, code: str, message: str, position: Position | None = None) -> Diagnostic:
    return error(code, message).located(file, position or Position(1, 1))
