"""The loader: positions, YAML 1.2 scalars, and every hostile input it must refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from secureai.diagnostics import Position
from secureai.loader import MAX_BYTES, load_file, load_text


def load(text: str):
    return load_text(text, "s.yaml", Path("."))


def texts(result) -> list[str]:
    return [d.text() for d in result.diagnostics]


def test_positions_of_keys_and_values() -> None:
    doc = load("a:\n  b: [1, {c: x}]\n  d: text\n").value
    smap = doc.source_map
    assert smap.locate(("a", "b", 1, "c")).line == 2
    assert smap.locate(("a", "b", 1, "c")).column == 14
    assert smap.locate(("a", "d"), key=True).column == 3
    # a path the file does not spell out falls back to its nearest ancestor
    assert smap.locate(("a", "b", 1, "missing")) == smap.locate(("a", "b", 1))


def test_yaml_1_1_traps_stay_strings_where_text_is_wanted() -> None:
    data = load("a: on\nb: yes\nc: no\nd: 2024-01-01\ne: 08\nf: 1.30\ng: true\n").value.data
    assert data["a"] == "on" and data["b"] == "yes" and data["c"] == "no"
    assert data["d"] == "2024-01-01"
    assert data["e"] == 8 and data["e"].raw == "08"
    assert data["f"] == 1.3 and data["f"].raw == "1.30"
    assert data["g"] is True


def test_merge_keys_and_aliases() -> None:
    data = load("base: &b {x: 1, y: 2}\nthing:\n  <<: *b\n  y: 3\n").value.data
    assert data["thing"] == {"x": 1, "y": 3}


BAD_INPUTS = [
    (
        "syntax error",
        "a: [1, 2\n",
        "s.yaml:2:1: error[SA001]: invalid YAML: did not find expected ',' or ']' while parsing a flow sequence that starts at line 1",
    ),
    (
        "unterminated quote",
        'a: "abc\n',
        "s.yaml:2:1: error[SA001]: invalid YAML: found unexpected end of stream while scanning a quoted scalar that starts at line 1",
    ),
    (
        "duplicate key",
        "a: 1\nb: 2\na: 3\n",
        "s.yaml:3:1: error[SA003]: duplicate key 'a' (first defined at line 1, column 1)",
    ),
    (
        "tabs",
        "a:\n\tb: 1\n",
        "s.yaml:2:1: error[SA001]: invalid YAML: a tab character where YAML expects spaces",
    ),
    (
        "python tag",
        "a: !!python/object/apply:os.system ['echo pwned']\n",
        "s.yaml:1:4: error[SA007]: a Python object tag (!!python/...) is not allowed here; a spec holds plain data only",
    ),
    (
        "custom tag",
        "a: !vault secret\n",
        "s.yaml:1:4: error[SA007]: a tag is not allowed here; a spec holds plain data only",
    ),
    (
        "empty file",
        "",
        "s.yaml:1:1: error[SA002]: the file is empty; a spec needs at least 'version' and 'project'",
    ),
    (
        "only comments",
        "# nothing\n",
        "s.yaml:1:1: error[SA002]: the file is empty; a spec needs at least 'version' and 'project'",
    ),
    (
        "top-level list",
        "- a\n- b\n",
        "s.yaml:1:1: error[SA002]: the top level of a spec must be a mapping, not a list",
    ),
    (
        "top-level scalar",
        "hello\n",
        "s.yaml:1:1: error[SA002]: the top level of a spec must be a mapping, not a single value",
    ),
    (
        "two documents",
        "a: 1\n---\nb: 2\n",
        "s.yaml:2:1: error[SA004]: a spec file holds one YAML document; found a second one",
    ),
    (
        "deep nesting",
        "a: " + "[" * 100 + "]" * 100 + "\n",
        "s.yaml:1:67: error[SA005]: the document nests deeper than 64 levels",
    ),
    ("NUL byte", "a: 1\x00\n", "s.yaml:1:5: error[SA002]: the file contains a NUL byte; is it binary?"),
    (
        "unknown alias",
        "a: *nope\n",
        "s.yaml:1:4: error[SA001]: an alias (*) that names no anchor defined before it",
    ),
    (
        "list as key",
        "? [a]\n: 1\n",
        "s.yaml:1:3: error[SA001]: a mapping key must be a plain string, not a list or a mapping",
    ),
    (
        "mapping tag on a scalar",  # was a KeyError: an internal error instead of a diagnostic
        "a: !!map x\n",
        "s.yaml:1:4: error[SA007]: tag '!!map' cannot be used on a single value",
    ),
    (
        "string tag on a mapping",  # was silently ignored
        "a: !!str {x: 1}\n",
        "s.yaml:1:4: error[SA007]: tag '!!str' cannot be used on a mapping",
    ),
    (
        "explicit tag that does not fit",  # the value is not repeated: it may be a secret
        "a: !!int s3cr3t\n",
        "s.yaml:1:4: error[SA001]: the value tagged '!!int' is not a valid int",
    ),
    (
        "control character",  # was a reader error with no position and Python's wording
        "a: 1\nb: x\x07y\n",
        "s.yaml:2:5: error[SA001]: invalid YAML: character U+0007 is not allowed "
        "(a control character or not a character at all)",
    ),
    (
        "lone surrogate",  # was a UnicodeEncodeError raised out of load_text
        "a: '\ud800'\n",
        "s.yaml:1:5: error[SA001]: invalid YAML: character U+D800 is not allowed "
        "(a control character or not a character at all)",
    ),
    (
        "line separator ends a comment for the parser only",  # `b` would be a hidden key
        "a: 1 # note\u2028b: 2\n",
        "s.yaml:1:12: error[SA008]: the file contains a line separator (U+2028), which YAML "
        "parsers treat as a line break and editors do not",
    ),
    (
        "bidirectional override",
        "a: [x]\nb: 'run\u202eevil'\n",
        "s.yaml:2:8: error[SA008]: the file contains a bidirectional text control (U+202E), "
        "which makes text display in another order than it is read",
    ),
    (
        "CRLF line endings",
        "a: 1\r\nb: 2\r\na: 3\r\n",
        "s.yaml:3:1: error[SA003]: duplicate key 'a' (first defined at line 1, column 1)",
    ),
    (
        "NUL after CR line endings",
        "a: 1\rb: 2\r\x00",
        "s.yaml:3:1: error[SA002]: the file contains a NUL byte; is it binary?",
    ),
    (
        "anchor defined twice",  # an alias would silently mean the second one
        "a: &x 1\nb: &x 2\nc: *x\n",
        "s.yaml:2:4: error[SA003]: this anchor (&) has the name of one defined at line 1, column 4",
    ),
    (
        "merge key twice",
        "b: &b {x: 1}\nt:\n  <<: *b\n  <<: *b\n",
        "s.yaml:4:3: error[SA003]: duplicate key '<<' (first defined at line 3, column 3)",
    ),
    (
        "merge of a string",  # points at what is merged, not at the enclosing mapping
        "s: &s hello\nt:\n  y: 1\n  <<: *s\n",
        "s.yaml:4:7: error[SA001]: '<<' merges mappings only",
    ),
    (
        "merge of a list item that is not a mapping",
        "m: &m {x: 1}\ns: &s [1]\nt: {<<: [*m, *s]}\n",
        "s.yaml:3:14: error[SA001]: '<<' merges mappings only",
    ),
    (
        "duplicate key inside an anchored mapping",
        "base: &b {x: 1, x: 2}\nt:\n  <<: *b\n",
        "s.yaml:1:17: error[SA003]: duplicate key (first defined at line 1, column 11)",
    ),
]


@pytest.mark.parametrize(("case", "text", "expected"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_inputs_are_positioned_errors(case: str, text: str, expected: str) -> None:
    result = load(text)
    assert result.value is None or result.diagnostics
    assert texts(result)[0].split("\n")[0] == expected


def test_billion_laughs_is_rejected_quickly() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    result = load("\n".join(lines) + "\n")
    assert result.value is None
    assert "error[SA006]: the document expands to more than 500,000 values" in texts(result)[0]


def test_oversize_file(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * (MAX_BYTES + 10) + b"\n")
    assert texts(load_file(path)) == [
        f"{path}:1:1: error[SA002]: the file is larger than 4 MiB; a spec is never that big"
    ]


def test_invalid_utf8_points_at_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    assert texts(load_file(path)) == [f"{path}:2:7: error[SA002]: the file is not valid UTF-8 (byte 0xe9)"]


def test_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "garbage.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    result = load_file(path)
    assert result.value is None
    assert result.diagnostics[0].code == "SA002"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert texts(load_file(path)) == [
        f"{path}:1:1: error[SA000]: cannot read the file: No such file or directory"
    ]


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert load_file(path).value.data == {"a": 1}


def test_pure_python_parser_gives_the_same_data(monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from secureai import loader

    text = "a: on\nb: [1, 1.30, {c: ~}]\nd: &x {e: 1}\nf: *x\n"
    fast = load(text).value.data
    monkeypatch.setattr(yaml, "__with_libyaml__", False)
    monkeypatch.setattr(loader, "_LOADER", loader._loader_class())
    assert loader._LOADER.__name__ == "PyParser"
    assert load(text).value.data == fast
    assert texts(load("a:\n\tb: 1\n"))[0].startswith(
        "s.yaml:2:1: error[SA001]: invalid YAML: a tab character"
    )


def test_keys_keep_their_text() -> None:
    """A key is a name: `true`, `null` and `1.30` as written, never True, '' or 1.3."""
    result = load("true: 1\nTrue: 2\nnull: 3\n~: 4\n1.30: 5\n'<<': 6\n")
    assert texts(result) == []
    assert list(result.value.data) == ["true", "True", "null", "~", "1.30", "<<"]


def test_only_a_plain_merge_key_merges() -> None:
    data = load("b: &b {x: 1}\nplain: {<<: *b}\nquoted: {'<<': *b}\n").value.data
    assert data["plain"] == {"x": 1}
    assert data["quoted"] == {"<<": {"x": 1}}


def test_positions_below_aliases_and_merges_are_where_the_data_is_written() -> None:
    text = "base: &b\n  x: 1\n  deep: {y: 2}\nt:\n  <<: *b\n  z: 3\nu: *b\nv: {<<: [{q: 1}, *b]}\n"
    smap = load(text).value.source_map
    anchored_x, anchored_y = Position(2, 6), Position(3, 13)
    assert smap.locate(("t", "x")) == anchored_x
    assert smap.locate(("t", "x"), key=True) == Position(2, 3)
    assert smap.locate(("t", "deep", "y")) == anchored_y
    assert smap.locate(("t", "z")) == Position(6, 6)  # its own key wins over the merged one
    assert smap.locate(("u", "deep", "y")) == anchored_y
    assert smap.locate(("u",)) == Position(7, 4)  # the alias itself
    assert smap.locate(("v", "q")) == Position(8, 14)
    assert smap.locate(("v", "x")) == anchored_x


def test_a_block_mapping_is_shown_at_its_key() -> None:
    """A block mapping's node starts at its first entry; a problem with the whole mapping
    (a missing field) belongs on the line of its key."""
    smap = load("a:\n  b:\n    c: 1\nf: {c: 1}\n").value.source_map
    assert smap.locate(("a", "b")) == Position(2, 3)
    assert smap.locate(("f",)) == Position(4, 4)  # a flow mapping starts at its brace


def test_aliases_are_counted_where_they_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every use of an alias counts, also of a single value and also as a key."""
    from secureai.loader import composer

    monkeypatch.setattr(composer, "MAX_NODES", 12)
    assert load("a: &a x\nb: [*a, *a, *a]\n").value is not None
    result = load("a: &a x\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n")
    assert texts(result)[0].startswith("s.yaml:2:")
    assert "error[SA006]" in texts(result)[0]
    keyed = load("k: &k x\nm: {*k : 1}\nn: {*k : 1}\no: {*k : 1}\np: {*k : 1}\nq: {*k : 1}\n")
    assert "error[SA006]" in texts(keyed)[0]


def test_invalid_utf8_column_counts_characters(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes("a: 1\nb: é".encode() + b"\xe9\n")
    assert texts(load_file(path)) == [f"{path}:2:5: error[SA002]: the file is not valid UTF-8 (byte 0xe9)"]


def test_devices_and_directories_are_refused(tmp_path: Path) -> None:
    link = tmp_path / "zero.yaml"
    link.symlink_to("/dev/zero")
    assert texts(load_file(link)) == [f"{link}:1:1: error[SA000]: cannot read the file: not a regular file"]
    assert texts(load_file(tmp_path)) == [
        f"{tmp_path}:1:1: error[SA000]: cannot read the file: it is a directory"
    ]


def test_a_fifo_without_a_writer_does_not_hang(tmp_path: Path) -> None:
    import os
    import threading

    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    outcome: list[list[str]] = []
    reader = threading.Thread(target=lambda: outcome.append(texts(load_file(fifo))), daemon=True)
    reader.start()
    reader.join(timeout=5)
    assert outcome == [
        [f"{fifo}:1:1: error[SA002]: the file is empty; a spec needs at least 'version' and 'project'"]
    ]


def test_a_pipe_is_read_to_its_end(tmp_path: Path) -> None:
    """`secureai validate <(generate-spec)` reads /dev/fd/N, a pipe."""
    import os

    read_end, write_end = os.pipe()
    os.write(write_end, b"a: 1\n")
    os.close(write_end)
    try:
        assert load_file(Path(f"/dev/fd/{read_end}")).value.data == {"a": 1}
    finally:
        os.close(read_end)


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os

    path = tmp_path / "locked.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    real_open = os.open

    def refusing_open(target, *args, **kwargs):  # chmod 000 does not stop root, who runs CI images
        if Path(target) == path:
            raise PermissionError(errno.EACCES, "Permission denied", str(target))
        return real_open(target, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    assert texts(load_file(path)) == [f"{path}:1:1: error[SA000]: cannot read the file: Permission denied"]
