"""One posture from many files: a root spec includes its teams' files, each owning namespaces.

Every message is asserted exactly, with the file and position of each side.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from secureai.cli import app
from secureai.pipeline import compile_path, validate_paths

ORG = Path(__file__).resolve().parents[1] / "specs" / "org"

ROOT = """\
version: 1
project: org
kubernetes: { version: "1.30" }
include:
  - { files: teams/ml.yaml, owns: [ml-*], vaultPaths: [ml/*] }
  - { files: teams/data.yaml, owns: [data] }
namespaces:
  shared: {}
"""

ML = """\
namespaces:
  ml-train: {}
secrets:
  creds:
    namespace: ml-train
    data: { token: { fromFile: token.txt } }
workloads:
  trainer:
    namespace: ml-train
    image: ghcr.io/acme/train:1.0.0
    runAsUser: 10001
    env: { TOKEN: { secret: creds, key: token } }
    resources: { limits: { cpu: "1", memory: 1Gi } }
"""

DATA = """\
namespaces:
  data: {}
workloads:
  store:
    namespace: data
    image: ghcr.io/acme/store:1.0.0
    runAsUser: 10001
    resources: { limits: { cpu: "1", memory: 1Gi } }
"""


@pytest.fixture
def org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A root and two parts in tmp_path, which is the working directory (names stay short)."""
    (tmp_path / "teams").mkdir()
    (tmp_path / "secureai.yaml").write_text(ROOT, encoding="utf-8")
    (tmp_path / "teams" / "ml.yaml").write_text(ML, encoding="utf-8")
    (tmp_path / "teams" / "data.yaml").write_text(DATA, encoding="utf-8")
    (tmp_path / "teams" / "token.txt").write_text("not-a-real-token\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def texts(path: str = "secureai.yaml") -> list[str]:
    return [d.text() for d in compile_path(Path(path), {}).diagnostics]


def test_a_composed_spec_compiles_as_one(org: Path) -> None:
    result = compile_path(Path("secureai.yaml"), {})
    assert result.value is not None, texts()
    assert result.diagnostics == []
    spec = result.value.spec
    assert sorted(spec.namespaces) == ["data", "ml-train", "shared"]
    assert sorted(spec.workloads) == ["store", "trainer"]
    # fromFile is read relative to the file that says it (teams/), not the root.
    assert spec.secrets["creds"].data["token"].from_file == "teams/token.txt"


def test_a_reference_across_files_is_checked_with_both_positions(org: Path) -> None:
    _edit(org / "teams" / "ml.yaml", "namespace: ml-train\n    image", "namespace: ml-tran\n    image")
    assert texts()[0] == (
        "teams/ml.yaml:9:16: error[SA110]: workload 'trainer' is in namespace 'ml-tran' which is not "
        "declared (did you mean 'ml-train', declared at teams/ml.yaml:2:3?)"
    )
    _edit(org / "teams" / "ml.yaml", "namespace: ml-tran\n", "namespace: ml-train\n")
    _edit(org / "teams" / "ml.yaml", "secret: creds", "secret: cred")
    assert texts() == [
        "teams/ml.yaml:12:29: error[SA111]: workload 'trainer' reads secret 'cred' which is not declared "
        "(did you mean 'creds', declared at teams/ml.yaml:4:3?)",
    ]


def test_did_you_mean_names_the_file_of_the_other_team(org: Path) -> None:
    _edit(
        org / "secureai.yaml",
        "namespaces:\n  shared: {}\n",
        "namespaces:\n  shared: {}\nsecrets:\n  x:\n    namespace: dta\n    data: { k: { generate: {} } }\n",
    )
    assert texts() == [
        "secureai.yaml:11:16: error[SA110]: secret 'x' is in namespace 'dta' which is not declared "
        "(did you mean 'data', declared at teams/data.yaml:2:3?)",
    ]


def test_a_second_declaration_names_both_files(org: Path) -> None:
    (org / "teams" / "data.yaml").write_text(DATA.replace("store:", "trainer:"), encoding="utf-8")
    assert texts() == [
        "teams/data.yaml:4:3: error[SA017]: workloads.trainer: declared twice: here and at teams/ml.yaml:8:3"
        "\n  hint: one file declares each entry; reference it from the others",
    ]
    # The root and a part collide the same way.
    (org / "teams" / "data.yaml").write_text("namespaces:\n  shared: {}\n", encoding="utf-8")
    assert texts()[0].startswith(
        "teams/data.yaml:2:3: error[SA017]: namespaces.shared: declared twice: here and at secureai.yaml:8:3"
    )


def test_a_part_declares_only_in_what_it_owns(org: Path) -> None:
    (org / "teams" / "data.yaml").write_text(
        textwrap.dedent(
            """\
            namespaces:
              ml-extra: {}
            vaultSecrets:
              data/params: { data: { a: 1 } }
            access:
              reader: { namespace: data, clusterWide: true, can: [{ verbs: [get], resources: [pods] }] }
            network:
              out:
                namespace: data
                from: [{ pods: { a: b } }]
                to: [{ namespace: ml-train, pods: { a: b } }]
              wide:
                namespace: data
                from: [{ pods: { a: b } }]
                to: [{ namespaceLabels: { team: ml } }]
            version: 1
            """
        ),
        encoding="utf-8",
    )
    hint = (
        "\n  hint: include[1] of secureai.yaml owns namespaces 'data' and Vault paths none; declare it in "
        "the file that owns it, or in the root spec"
    )
    assert texts() == [
        "teams/data.yaml:2:3: error[SA016]: namespaces.ml-extra: namespace 'ml-extra' is not owned by this file"
        + hint,
        "teams/data.yaml:4:3: error[SA016]: vaultSecrets.data/params: Vault path 'data/params' is not owned "
        "by this file" + hint,
        "teams/data.yaml:6:43: error[SA016]: access.reader: cluster-wide access is granted by the root spec only"
        + hint,
        "teams/data.yaml:11:23: error[SA016]: network.out: a flow with namespace 'ml-train', which this file "
        "does not own, is declared in the root spec" + hint,
        "teams/data.yaml:15:29: error[SA016]: network.wide: a flow to namespaces chosen by label may reach "
        "other teams' namespaces; it is declared in the root spec" + hint,
        "teams/data.yaml:16:1: error[SA015]: 'version' is set by the root spec (secureai.yaml), not by an "
        "included file\n  hint: an included file declares only: namespaces, secrets, configMaps, "
        "vaultSecrets, workloads, network, access, expect",
    ]


def test_unknown_section_in_a_part(org: Path) -> None:
    _edit(org / "teams" / "data.yaml", "workloads:", "workload:")
    assert texts()[0] == (
        "teams/data.yaml:3:1: error[SA101]: spec: unknown field 'workload' in an included file "
        "(did you mean 'workloads'?)\n  hint: an included file declares only: namespaces, secrets, "
        "configMaps, vaultSecrets, workloads, network, access, expect"
    )


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "{ files: teams/none.yaml, owns: [x] }",
            "secureai.yaml:7:14: error[SA010]: included file 'teams/none.yaml' does not exist"
            "\n  hint: paths are relative to the root spec",
        ),
        (
            '{ files: "teams/*.yml", owns: [x] }',
            "secureai.yaml:7:14: error[SA011]: 'teams/*.yml' matches no file"
            "\n  hint: check the pattern against the folder",
        ),
        (
            '{ files: "*.yaml", owns: [x] }',
            "secureai.yaml:7:14: error[SA012]: include cycle: '*.yaml' matches the root spec itself"
            "\n  hint: name the parts' files or folder (teams/*.yaml), not a pattern that matches the root",
        ),
        (
            '{ files: "teams/d*.yaml", owns: [x] }',
            "secureai.yaml:7:14: error[SA013]: 'teams/data.yaml' is included twice: also by include[1]"
            "\n  hint: a file belongs to one entry: its owner is then unambiguous",
        ),
        (
            "{ files: ../outside.yaml, owns: [x] }",
            "secureai.yaml:7:14: error[SA014]: '../outside.yaml' is outside the root spec's directory"
            "\n  hint: move it below the root's directory, or set allowOutsideRoot: true on this entry if a "
            "file elsewhere is meant to shape this posture",
        ),
    ],
)
def test_bad_includes_are_positioned_errors(org: Path, entry: str, expected: str) -> None:
    (org.parent / "outside.yaml").write_text("namespaces: {}\n", encoding="utf-8")
    _edit(org / "secureai.yaml", "namespaces:\n  shared", f"  - {entry}\nnamespaces:\n  shared")
    assert texts() == [expected]
    result = CliRunner().invoke(app, ["validate", "secureai.yaml"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_outside_the_root_is_allowed_when_said(org: Path) -> None:
    (org.parent / "outside.yaml").write_text("namespaces: { x-outside: {} }\n", encoding="utf-8")
    _edit(
        org / "secureai.yaml",
        "namespaces:\n  shared",
        "  - { files: ../outside.yaml, owns: [x-*], allowOutsideRoot: true }\nnamespaces:\n  shared",
    )
    result = compile_path(Path("secureai.yaml"), {})
    assert result.value is not None, texts()
    assert "x-outside" in result.value.spec.namespaces


def test_a_broken_part_is_reported_in_its_own_file(org: Path) -> None:
    (org / "teams" / "data.yaml").write_text("namespaces:\n  data: {\n", encoding="utf-8")
    [message] = texts()
    assert message.startswith("teams/data.yaml:3:1: error[SA001]: invalid YAML")


def test_a_model_error_in_a_part_names_the_part(org: Path) -> None:
    _edit(org / "teams" / "data.yaml", "image:", "imagee:")
    [message] = texts()
    assert message.startswith(
        "teams/data.yaml:6:5: error[SA101]: workloads.store: unknown field 'imagee' (did you mean 'image'?)"
    )


def test_validate_a_folder_checks_the_root_composed_and_not_its_parts_alone(org: Path) -> None:
    found = validate_paths([Path(".")], {})
    assert found.diagnostics == []
    assert found.files == 3
    result = CliRunner().invoke(app, ["validate", "."])
    assert result.exit_code == 0, result.output
    assert "3 files checked: 0 error(s), 0 warning(s)" in result.output


def test_the_org_example_validates_renders_and_diffs(tmp_path: Path) -> None:
    copy = tmp_path / "org"
    shutil.copytree(ORG, copy)
    env = {"WANDB_API_KEY": "x", "HF_TOKEN": "y"}
    result = compile_path(copy / "secureai.yaml", env)
    assert result.value is not None, [d.text() for d in result.diagnostics]
    assert {f.name for f in result.value.document.included} == {"ml.yaml", "data.yaml", "serving.yaml"}
    # A new reader in the serving team's file: diff names that file and line.
    _edit(
        copy / "teams" / "serving.yaml",
        "    service: { ports: [http] }\n",
        "    service: { ports: [http] }\n  batch:\n    namespace: serving\n    kind: Job\n"
        f"    image: ghcr.io/acme/batch:1.0.0@sha256:{'b' * 64}\n    runAsUser: 10001\n"
        "    env: { HF_TOKEN: { secret: hf-token, key: token } }\n"
        '    resources: { limits: { cpu: "1", memory: 1Gi } }\n',
    )
    _edit(copy / "teams" / "serving.yaml", "readers: [inference]", "readers: [inference, batch]")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        diff = CliRunner().invoke(app, ["diff", str(ORG / "secureai.yaml"), "org/secureai.yaml"])
    finally:
        os.chdir(cwd)
    assert diff.exit_code == 0, diff.output
    assert (
        "+ new-reader    serving/hf-token/token: serving/batch by env (env HF_TOKEN (batch)), granted by "
        "Job serving/batch  (org/teams/serving.yaml:26)" in diff.output
    )


def test_a_part_reads_only_the_vault_paths_it_owns(org: Path) -> None:
    _edit(
        org / "teams" / "data.yaml",
        "    runAsUser: 10001\n",
        "    runAsUser: 10001\n    vault: { read: [ml/params] }\n",
    )
    [message] = texts()
    assert message == (
        "teams/data.yaml:8:21: error[SA016]: workloads.store: reads Vault path 'ml/params', which this file "
        "does not own; a read of another team's path is granted in the root spec or by a vaultPaths entry "
        "there\n  hint: include[1] of secureai.yaml owns namespaces 'data' and Vault paths none; declare it "
        "in the file that owns it, or in the root spec"
    )
    # The ML team's file may read its own paths (and declares them).
    _edit(org / "teams" / "data.yaml", "    vault: { read: [ml/params] }\n", "")
    _edit(
        org / "teams" / "ml.yaml",
        "    runAsUser: 10001\n",
        "    runAsUser: 10001\n    vault: { read: [ml/params], deliver: none }\n",
    )
    (org / "teams" / "ml.yaml").write_text(
        (org / "teams" / "ml.yaml").read_text() + "vaultSecrets:\n  ml/params: { data: { lr: 0.1 } }\n"
    )
    assert [t for t in texts() if "SA016" in t] == []


def test_an_empty_part_declares_nothing(org: Path) -> None:
    (org / "teams" / "data.yaml").write_text("# the data team's file: nothing yet\n", encoding="utf-8")
    result = compile_path(Path("secureai.yaml"), {})
    assert result.value is not None, texts()
    assert "store" not in result.value.spec.workloads


def test_a_part_cannot_set_its_namespaces_guardrails(org: Path) -> None:
    _edit(
        org / "teams" / "data.yaml",
        "  data: {}\n",
        "  data: { labels: { team: data }, podSecurity: privileged }\n",
    )
    [message] = texts()
    assert message == (
        "teams/data.yaml:2:48: error[SA016]: namespaces.data: 'podSecurity' is a guardrail the root spec "
        "sets; a team's file declares its namespaces with the secure defaults (and labels), or the root "
        "declares the namespace\n  hint: include[1] of secureai.yaml owns namespaces 'data' and Vault paths "
        "none; declare it in the file that owns it, or in the root spec"
    )
    # Labels alone are the team's; the root may declare a team's namespace with its guardrails.
    _edit(org / "teams" / "data.yaml", ", podSecurity: privileged }", " }")
    assert texts() == []


def test_a_broken_part_is_reported_once_in_a_folder_walk(org: Path) -> None:
    (org / "teams" / "data.yaml").write_text("namespaces:\n  data: {\n", encoding="utf-8")
    found = validate_paths([Path(".")], {})
    assert [d.code for d in found.diagnostics] == ["SA001"]
    assert found.files == 3
