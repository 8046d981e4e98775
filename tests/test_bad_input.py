"""Bad input is a positioned finding, never an internal error, and is never echoed raw.

One class per item of the outside review: full matches and no control characters in names
(13), values the target would refuse (14), inputs that used to end in an internal error (15),
terminal control characters and huge names in diagnostics (16).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from specutil import BASE, WORKLOAD, messages, write_spec
from typer.testing import CliRunner

from secureai.cli import app
from secureai.deploy.errors import DeployError
from secureai.deploy.stack import DeployOptions, credential_values, passphrase_env

FULL = BASE + WORKLOAD
runner = CliRunner()


def errors_of(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    return [m.split("\n")[0] for m in messages(tmp_path, text, environ) if "error[" in m]


# ----------------------------------------------------------------------------- 13: full matches


TRAILING_NEWLINE = {
    "namespace name": FULL.replace("  ml: {}", '  "ml\\n": {}'),
    "kubernetes version": FULL.replace('version: "1.30"', 'version: "1.30\\n"'),
    "workload name": FULL.replace("  trainer:", '  "trainer\\n":'),
    "label value": FULL + '    labels: { role: "x\\n" }\n',
    "label key": FULL + '    labels: { "role\\n": x }\n',
    "port": FULL + '    ports: ["8080\\n"]\n',
    "token ttl": BASE + 'vault: { tokenTtl: "15m\\n" }\n',
    "vault path": BASE + 'vault: {}\nvaultSecrets:\n  "ai/params\\n": { data: { a: 1 } }\n',
    "env name": FULL + '    env: { "LOG\\n": { value: x } }\n',
    "capability": BASE + 'securityProfiles:\n  p: { allowedCapabilities: ["NET_ADMIN\\n"] }\n',
}


@pytest.mark.parametrize("case", sorted(TRAILING_NEWLINE))
def test_trailing_newline_is_refused(tmp_path: Path, case: str) -> None:
    found = errors_of(tmp_path, TRAILING_NEWLINE[case])
    assert found and all("error[SA100]" in f for f in found), found
    assert all("\n" not in f for f in found)


CONTROL = {
    "fromFile path": BASE + 'secrets:\n  s: { namespace: ml, data: { a: { fromFile: "ca\\e.pem" } } }\n',
    "mount path": FULL + '    volumes: { v: { mountPath: "/data\\r", emptyDir: {} } }\n',
    "host path": FULL + '    volumes: { v: { mountPath: /d, hostPath: "/data\\0" } }\n',
    "image": FULL.replace("image: ghcr.io/acme/train:1.0.0", 'image: "ghcr.io/acme/train:1.0.0\\a"'),
    "vault address": BASE + 'vault: { address: "https://vault\\e]52;c;aGk=\\a" }\n',
    "secret type": BASE
    + 'secrets:\n  s: { namespace: ml, type: "Opaque\\n", data: { a: { fromEnv: A } } }\n',
    "command escape": FULL + '    command: ["python\\e[2J"]\n',
}


@pytest.mark.parametrize("case", sorted(CONTROL))
def test_control_characters_are_refused(tmp_path: Path, case: str) -> None:
    found = errors_of(tmp_path, CONTROL[case], {"A": "v" * 10})
    assert [f for f in found if "error[SA100]" in f], found
    assert not any(c in "".join(found) for c in "\x1b\x07\x00\r")


def test_free_text_keeps_line_breaks_and_tabs(tmp_path: Path) -> None:
    text = FULL + '    command: [sh, -c, "set -e\\n\\techo hi\\n"]\n    env: { SCRIPT: { value: "a\\nb" } }\n'
    assert errors_of(tmp_path, text) == []


# ----------------------------------------------------------------------------- 14: values the target refuses


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN", "+.INF"])
def test_non_finite_vault_numbers_are_refused(tmp_path: Path, value: str) -> None:
    text = BASE + f"vault: {{}}\nvaultSecrets:\n  ai/params: {{ data: {{ rate: {value} }} }}\n"
    found = errors_of(tmp_path, text)
    assert len(found) == 1 and "NaN and infinities are not numbers Vault can store" in found[0]


@pytest.mark.parametrize("key", [".", "..", "..data", "..2024_01_01"])
def test_secret_keys_the_kubelet_owns_are_refused(tmp_path: Path, key: str) -> None:
    text = BASE + f'secrets:\n  s: {{ namespace: ml, data: {{ "{key}": {{ fromEnv: A }} }} }}\n'
    found = errors_of(tmp_path, text, {"A": "v"})
    assert len(found) == 1 and f"'{key}' is not a valid secret key" in found[0], found


@pytest.mark.parametrize("path", ["c/./d", "c/../d", "./c", "c/.."])
def test_vault_paths_with_dot_segments_are_refused(tmp_path: Path, path: str) -> None:
    text = BASE + f'vault: {{}}\nvaultSecrets:\n  "{path}": {{ data: {{ a: 1 }} }}\n'
    found = errors_of(tmp_path, text)
    assert any("no '.' or '..' segments" in f for f in found), found


def test_vault_grants_with_dot_segments_are_refused(tmp_path: Path) -> None:
    text = (
        FULL + '    vault: { read: ["ai/../other"] }\nvault: {}\nvaultSecrets:\n  ai/x: { data: { a: 1 } }\n'
    )
    assert any("no '.' or '..' segments" in f for f in errors_of(tmp_path, text))


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 2 * 1024 * 1024])
def test_literals_over_one_mebibyte_are_refused_without_echo(tmp_path: Path, size: int) -> None:
    literal = "k" * size
    text = (
        BASE
        + f'secrets:\n  s: {{ namespace: ml, data: {{ a: {{ literal: "{literal}", allowPlaintext: true }} }} }}\n'
    )
    found = errors_of(tmp_path, text)
    assert len(found) == 1 and "larger than 1 MiB" in found[0]
    assert "kkkkkkkkkk" not in found[0]


def test_a_literal_of_exactly_one_mebibyte_is_accepted(tmp_path: Path) -> None:
    literal = "k" * (1024 * 1024)
    text = (
        BASE
        + f'secrets:\n  s: {{ namespace: ml, data: {{ a: {{ literal: "{literal}", allowPlaintext: true }} }} }}\n'
    )
    assert errors_of(tmp_path, text) == []


# ----------------------------------------------------------------------------- 15: no internal errors


def _validate(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["validate", *args])
    assert "internal error" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


@pytest.mark.parametrize("digits", [1001, 5000, 100_000])
def test_huge_integers_are_positioned_errors(tmp_path: Path, digits: int) -> None:
    spec = write_spec(
        tmp_path, BASE + f"vault: {{}}\nvaultSecrets:\n  a/b: {{ data: {{ n: {'7' * digits} }} }}\n"
    )
    code, output = _validate(str(spec))
    assert code == 1
    assert "spec.yaml:9:21: error[SA001]: a number with more than 1,000 digits" in output


@pytest.mark.parametrize("ttl", ['"15m\\n"', '"1h\\t"', '"90 s"'])
def test_bad_durations_are_findings(tmp_path: Path, ttl: str) -> None:
    code, output = _validate(str(write_spec(tmp_path, BASE + f"vault: {{ tokenTtl: {ttl} }}\n")))
    assert code == 1 and "error[SA100]" in output


def test_a_very_deep_directory_is_walked(tmp_path: Path) -> None:
    levels = []
    deep = tmp_path
    for _ in range(1500):  # os.makedirs and shutil.rmtree recurse too: one level at a time
        deep = deep / "d"
        deep.mkdir()
        levels.append(deep)
    (tmp_path / "d" / "spec.yaml").write_text(FULL, encoding="utf-8")
    try:
        code, output = _validate(str(tmp_path))
        assert code == 0, output
    finally:
        (tmp_path / "d" / "spec.yaml").unlink()
        for level in reversed(levels):
            level.rmdir()


@pytest.mark.parametrize("name", ["x" * 300, ("y" * 200 + "/") * 30 + "z"])
def test_a_file_name_too_long_for_the_system_is_a_finding(tmp_path: Path, name: str) -> None:
    spec = write_spec(
        tmp_path, BASE + f"secrets:\n  s: {{ namespace: ml, data: {{ a: {{ fromFile: {name} }} }} }}\n"
    )
    code, output = _validate(str(spec))
    assert code == 1 and "error[SA120]" in output and "cannot be looked up (File name too long)" in output


@pytest.mark.parametrize("name", ["x" * 300, ("y" * 200 + "/") * 30 + "s.yaml"])
@pytest.mark.parametrize("command", ["validate", "render"])
def test_a_spec_path_too_long_for_the_system_is_unreadable_input(
    tmp_path: Path, name: str, command: str
) -> None:
    args = [command, str(tmp_path / name)] + (["-o", str(tmp_path / "out")] if command == "render" else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "error[SA000]: cannot read the file: File name too long" in result.output
    assert "internal error" not in result.output


@pytest.mark.parametrize("fmt", ["sarif", "json", "text"])
def test_a_file_name_that_is_not_utf8(tmp_path: Path, fmt: str) -> None:
    raw = os.fsencode(str(tmp_path)) + b"/sp\xffec.yaml"
    with open(raw, "wb") as handle:
        handle.write(b"version: 1\nproject: Demo\n")
    name = os.fsdecode(raw)
    result = runner.invoke(app, ["validate", name, "--format", fmt])
    assert result.exit_code == 1, result.output
    assert "internal error" not in result.output
    if fmt == "sarif":
        uri = json.loads(result.output)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        assert "%FF" in uri["artifactLocation"]["uri"]


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"abc\x80"])
def test_an_environment_value_that_is_not_utf8(
    tmp_path: Path, raw: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BAD_VALUE", os.fsdecode(raw))
    spec = write_spec(
        tmp_path, BASE + "secrets:\n  s: { namespace: ml, data: { a: { fromEnv: BAD_VALUE } } }\n"
    )
    result = runner.invoke(app, ["render", str(spec), "-o", str(tmp_path / "out"), "--include-secret-values"])
    assert result.exit_code == 2, result.output
    assert "environment variable BAD_VALUE is not valid UTF-8" in result.output
    assert "internal error" not in result.output


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX devices and FIFOs")
@pytest.mark.parametrize("kind", ["/dev/zero", "fifo", "directory", "huge"])
def test_passphrase_file_is_a_bounded_regular_file(tmp_path: Path, kind: str) -> None:
    if kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)  # nobody writes: reading it would hang
    elif kind == "directory":
        path = tmp_path
    elif kind == "huge":
        path = tmp_path / "big"
        path.write_bytes(b"p" * (1024 * 1024))
    else:
        path = Path(kind)
    environ = {"PULUMI_CONFIG_PASSPHRASE_FILE": str(path)}
    with pytest.raises(DeployError) as raised:
        passphrase_env(DeployOptions(environ=environ), environ)
    assert raised.value.kind == "passphrase"
    assert credential_values(environ) == []


def test_passphrase_file_that_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "pass"
    path.write_text("correct horse battery staple\n", encoding="utf-8")
    environ = {"PULUMI_CONFIG_PASSPHRASE_FILE": str(path)}
    assert passphrase_env(DeployOptions(environ=environ), environ) == {
        "PULUMI_CONFIG_PASSPHRASE_FILE": str(path)
    }
    assert credential_values(environ) == ["correct horse battery staple"]


# ----------------------------------------------------------------------------- 16: what reaches the terminal


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ('"ml\\e]52;c;aGVsbG8=\\a"', "\\x1b]52;c;aGVsbG8=\\x07"),
        ('"ml\\rfake: ok"', "\\rfake: ok"),
        ('"ml\\0x"', "\\x00x"),
        ('"ml\\u202Eevil"', "\\u202eevil"),
    ],
)
@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_control_characters_are_escaped_in_every_format(
    tmp_path: Path, written: str, shown: str, fmt: str
) -> None:
    spec = write_spec(tmp_path, FULL.replace("namespace: ml", f"namespace: {written}"))
    result = runner.invoke(app, ["validate", str(spec), "--format", fmt])
    assert result.exit_code == 1
    assert not any(c in result.output for c in "\x1b\x07\x00\r\u202e")
    text = (
        result.output if fmt == "text" else json.loads(result.output) and result.output.replace("\\\\", "\\")
    )
    assert shown in text


@pytest.mark.parametrize("length", [10_000, 1024 * 1024])
def test_a_huge_name_is_shortened(tmp_path: Path, length: int) -> None:
    spec = write_spec(tmp_path, FULL.replace("namespace: ml", "namespace: " + "n" * length))
    result = runner.invoke(app, ["validate", str(spec)])
    assert result.exit_code == 1
    assert len(result.output) < 5000
    assert f"({length:,} characters)" in result.output
