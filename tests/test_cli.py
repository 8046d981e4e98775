"""The CLI through typer's CliRunner: exit codes, formats, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from specutil import BASE, WORKLOAD, write_spec
from typer.testing import CliRunner

from secureai import __version__
from secureai.cli import app

runner = CliRunner()
GOOD = BASE + WORKLOAD
BAD = GOOD.replace("image:", "imagee:")
# Two problems: an unknown field that is no misspelling, and the field it replaced missing.
TWO = GOOD.replace("    namespace: ml\n    image:", "    picture: ml\n    image:")


def run(*args: str):
    return runner.invoke(app, list(args))


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"secureai {__version__}"


def test_help_lists_commands() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("validate", "render", "schema"):
        assert command in result.output


def test_valid_spec_exits_0(tmp_path: Path) -> None:
    result = run("validate", str(write_spec(tmp_path, GOOD)))
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("1 file checked: 0 error(s), 0 warning(s)")


def test_findings_exit_1_with_positioned_text(tmp_path: Path) -> None:
    path = write_spec(tmp_path, BAD)
    result = run("validate", str(path))
    assert result.exit_code == 1
    assert (
        f"{path}:10:5: error[SA101]: workloads.trainer: unknown field 'imagee' (did you mean 'image'?)"
        in result.output
    )


def test_warnings_pass_unless_strict(tmp_path: Path) -> None:
    path = write_spec(tmp_path, GOOD.replace("train:1.0.0", "train:latest"))
    assert run("validate", str(path)).exit_code == 0
    assert run("validate", "--strict", str(path)).exit_code == 1


def test_several_files_in_one_call(tmp_path: Path) -> None:
    good = write_spec(tmp_path, GOOD, "good.yaml")
    bad = write_spec(tmp_path, TWO, "bad.yaml")
    result = run("validate", str(good), str(bad))
    assert result.exit_code == 1
    assert "2 files checked: 2 error(s), 0 warning(s)" in result.output


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 2
    assert "error[SA000]: cannot read the file" in result.output


def test_a_directory_means_its_spec_files(tmp_path: Path) -> None:
    write_spec(tmp_path, GOOD, "a.yaml")
    (tmp_path / "sub").mkdir()
    write_spec(tmp_path / "sub", BAD, "b.yml")
    (tmp_path / "notes.txt").write_text("not a spec", encoding="utf-8")
    result = run("validate", str(tmp_path))
    assert result.exit_code == 1
    assert "2 files checked: 1 error(s), 0 warning(s)" in result.output
    assert f"{tmp_path}/sub/b.yml:10:5: error[SA101]" in result.output


def test_a_directory_without_specs_is_an_error_not_a_pass(tmp_path: Path) -> None:
    """CI pointed at the wrong folder must not go green on "0 files checked"."""
    result = run("validate", str(tmp_path))
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [
        f"{tmp_path}: error[SA000]: no spec files (*.yaml, *.yml) in this directory",
        "0 files checked: 1 error(s), 0 warning(s)",
    ]


def test_a_file_named_twice_is_checked_once(tmp_path: Path) -> None:
    path = write_spec(tmp_path, BAD)
    result = run("validate", str(path), str(tmp_path), str(path))
    assert result.exit_code == 1
    assert result.stdout.count("error[SA101]") == 1
    assert result.stdout.endswith("1 file checked: 1 error(s), 0 warning(s)\n")


def test_a_device_is_unreadable_input(tmp_path: Path) -> None:
    link = tmp_path / "spec.yaml"
    link.symlink_to("/dev/zero")
    result = run("validate", str(link))
    assert result.exit_code == 2
    assert f"{link}:1:1: error[SA000]: cannot read the file: not a regular file" in result.stdout


def test_the_bundled_examples_are_clean() -> None:
    result = run("validate", str(Path(__file__).resolve().parents[1] / "specs"))
    assert result.exit_code == 0, result.output
    assert "13 files checked: 0 error(s)" in result.output  # specs/org: a root and 3 parts


def test_usage_error_exits_2() -> None:
    assert run("validate").exit_code == 2
    assert run("validate", "--format", "xml", "x.yaml").exit_code == 2


def test_json_format(tmp_path: Path) -> None:
    path = write_spec(tmp_path, TWO)
    result = run("validate", "--format", "json", str(path))
    doc = json.loads(result.stdout)
    assert doc["errors"] == 2 and doc["files"] == 1
    assert {d["code"] for d in doc["diagnostics"]} == {"SA101", "SA102"}
    first = doc["diagnostics"][0]
    assert first == {
        "severity": "error",
        "code": "SA102",
        "file": str(path),
        "line": 8,
        "column": 3,
        "message": "workloads.trainer: missing required field 'namespace'",
        "hint": None,
    }


def test_sarif_format_is_code_scanning_shaped(tmp_path: Path) -> None:
    from secureai.codes import CODES

    path = write_spec(tmp_path, TWO)
    result = run("validate", "-f", "sarif", str(path))
    sarif = json.loads(result.stdout)
    assert sarif["version"] == "2.1.0"
    run_ = sarif["runs"][0]
    assert run_["tool"]["driver"]["name"] == "secureai"
    assert run_["columnKind"] == "unicodeCodePoints"
    rules = run_["tool"]["driver"]["rules"]
    # Every rule, in a fixed order, so a rule's index is the same in every upload.
    assert [r["id"] for r in rules] == sorted(CODES)
    for rule in rules:  # what GitHub code scanning requires of a rule
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
    assert [r["ruleId"] for r in run_["results"]] == ["SA102", "SA101"]
    for res in run_["results"]:
        assert res["ruleId"] == rules[res["ruleIndex"]]["id"]
        assert res["level"] == "error"
    location = run_["results"][1]["locations"][0]["physicalLocation"]
    assert location["region"] == {"startLine": 9, "startColumn": 5}


@pytest.mark.parametrize("output_format", ["json", "sarif"])
def test_machine_formats_are_alone_on_stdout(tmp_path: Path, output_format: str) -> None:
    result = run("validate", "-f", output_format, str(write_spec(tmp_path, TWO)), str(tmp_path / "no.yaml"))
    assert result.exit_code == 2
    assert json.loads(result.stdout)  # nothing else mixed in
    assert result.stderr == ""


def test_sarif_uris_are_relative_to_the_checkout_and_encoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitHub matches a result to a repository file by a relative URI: the CI working directory
    is the checkout root, however the file was named on the command line."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs dir").mkdir()
    inside = write_spec(tmp_path / "specs dir", BAD, "a#1.yaml")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    outside.write_text(BAD, encoding="utf-8")
    try:
        names = [str(inside), "specs dir/a#1.yaml", f"../{tmp_path.name}/specs dir/a#1.yaml", str(outside)]
        sarif = json.loads(run("validate", "-f", "sarif", *names).stdout)
    finally:
        outside.unlink()
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]
    }
    assert uris == {"specs%20dir/a%231.yaml", outside.as_uri()}


def test_sarif_validates_against_its_schema_shape(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema ships with kubernetes-validate")
    # The minimal subset of SARIF 2.1.0 that GitHub code scanning requires.
    schema = {
        "type": "object",
        "required": ["version", "runs"],
        "properties": {
            "version": {"const": "2.1.0"},
            "runs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["tool", "results"],
                    "properties": {
                        "results": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["ruleId", "message", "locations"],
                                "properties": {"level": {"enum": ["none", "note", "warning", "error"]}},
                            },
                        }
                    },
                },
            },
        },
    }
    result = run("validate", "-f", "sarif", str(write_spec(tmp_path, BAD)))
    jsonschema.validate(json.loads(result.output), schema)


def test_schema_command_prints_json_schema() -> None:
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["title"] == "secureai spec"
    assert "workloads" in schema["properties"]


def test_schema_to_an_unwritable_place_is_a_usage_error(tmp_path: Path) -> None:
    result = run("schema", "-o", str(tmp_path / "missing" / "schema.json"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: cannot write {tmp_path / 'missing' / 'schema.json'}: No such file or directory\n"
    )


@pytest.mark.parametrize("command", ["preview", "apply", "destroy"])
def test_deploy_commands_without_pulumi_cli_exit_2_naming_pulumi(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "pulumi" else real_which(name))
    extra = [] if command == "preview" else ["--yes"]
    result = run(command, str(write_spec(tmp_path, GOOD)), *extra)
    assert result.exit_code == 2
    assert "error: the pulumi CLI is not installed (no `pulumi` on PATH)" in result.output
    assert "https://www.pulumi.com/docs/install/" in result.output
    assert "Traceback" not in result.output


def test_real_process_exit_codes(tmp_path: Path) -> None:
    """main() ends the process itself (os._exit): the codes must survive that."""
    import subprocess
    import sys

    def code(*args: str) -> tuple[int, str]:
        proc = subprocess.run(
            [sys.executable, "-m", "secureai", *args], capture_output=True, text=True, check=False
        )
        return proc.returncode, proc.stdout + proc.stderr

    assert code("--version") == (0, f"secureai {__version__}\n")
    assert code("validate", str(write_spec(tmp_path, GOOD)))[0] == 0
    assert code("validate", str(write_spec(tmp_path, BAD, "bad.yaml")))[0] == 1
    status, output = code("validate", str(tmp_path / "missing.yaml"))
    assert status == 2 and "SA000" in output
    assert code("validate")[0] == 2
