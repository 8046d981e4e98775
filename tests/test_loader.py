"""The loader: positions, YAML 1.2 scalars, and every hostile input it must refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

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
        "s.yaml:3:1: error[SA003]: duplicate key 'a' (first defined at line 1)",
    ),
    (
        "tabs",
        "a:\n\tb: 1\n",
        "s.yaml:2:1: error[SA001]: invalid YAML: a tab character where YAML expects spaces",
    ),
    (
        "python tag",
        "a: !!python/object/apply:os.system ['echo pwned']\n",
        "s.yaml:1:4: error[SA007]: tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed; a spec holds plain data only",
    ),
    (
        "custom tag",
        "a: !vault secret\n",
        "s.yaml:1:4: error[SA007]: tag '!vault' is not allowed; a spec holds plain data only",
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
    ("unknown alias", "a: *nope\n", "s.yaml:1:4: error[SA001]: unknown alias '*nope'"),
    (
        "list as key",
        "? [a]\n: 1\n",
        "s.yaml:1:3: error[SA001]: a mapping key must be a plain string, not a list or a mapping",
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
