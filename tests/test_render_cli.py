"""`secureai render` end to end through the CLI: files, stdout, secrets, refusals, exit codes."""

from __future__ import annotations

import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from specutil import BASE, WORKLOAD, write_spec
from typer.testing import CliRunner

from secureai.cli import app

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from gen_spec import generate  # noqa: E402

SECRET = "s3cr3t-db-pa55word"
SPEC = (
    BASE
    + WORKLOAD
    + "    env:\n      DB_PASSWORD: { secret: db, key: password }\n"
    + "secrets:\n  db:\n    namespace: ml\n    data:\n"
    + "      password: { fromEnv: DB_PASSWORD }\n      token: { generate: { length: 40 } }\n"
)
runner = CliRunner()


@pytest.fixture(autouse=True)
def db_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_PASSWORD", SECRET)


def everything_under(path: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(path.rglob("*")) if p.is_file())


def secret_manifest(out: Path, folder: str = "kubernetes") -> dict:
    (path,) = out.glob(f"{folder}/*-secret-ml-db.yaml")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_render_writes_tree_with_placeholders(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", str(write_spec(tmp_path, SPEC)), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {len(list(out.rglob('*.yaml')))} files to {out}" in result.output
    assert SECRET not in everything_under(out) + result.output
    assert secret_manifest(out, "secret-templates")["stringData"]["password"] == "<secret:env:DB_PASSWORD>"
    assert (out / ".secureai-render").is_file()


def test_placeholder_secrets_stay_out_of_the_applyable_folder(tmp_path: Path) -> None:
    """`kubectl apply -f out/kubernetes` must never store `<secret:env:X>` as a value."""
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", str(write_spec(tmp_path, SPEC)), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert not list(out.glob("kubernetes/*-secret-*"))
    assert "<secret:" not in everything_under(out / "kubernetes")
    assert (
        f"1 Secret(s) hold placeholders, not values: written to {out / 'secret-templates'} for review, "
        "not to kubernetes/ (apply them with `secureai apply`, or render --include-secret-values)"
    ) in result.output
    revealed = tmp_path / "revealed"
    result = runner.invoke(
        app, ["render", str(tmp_path / "spec.yaml"), "-o", str(revealed), "--include-secret-values"]
    )
    assert result.exit_code == 0, result.output
    assert secret_manifest(revealed)["stringData"]["password"] == SECRET
    assert not (revealed / "secret-templates").exists()


def test_render_to_stdout_streams_the_applyable_documents(tmp_path: Path) -> None:
    result = runner.invoke(app, ["render", str(write_spec(tmp_path, SPEC)), "-o", "-"])
    assert result.exit_code == 0, result.output
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    kinds = [d["kind"] for d in docs]
    assert kinds[0] == "Namespace" and "Deployment" in kinds and "Secret" not in kinds
    assert SECRET not in result.output
    assert (
        "note: left out of the stream: 1 Secret(s) whose values are placeholders (ml/db); "
        "add --include-secret-values, or deploy with `secureai apply`"
    ) in result.stderr
    revealed = runner.invoke(
        app, ["render", str(tmp_path / "spec.yaml"), "-o", "-", "--include-secret-values"]
    )
    assert "Secret" in [d["kind"] for d in yaml.safe_load_all(revealed.stdout) if d]
    assert "note:" not in revealed.stderr


def test_render_to_stdout_says_the_vault_files_are_left_out(tmp_path: Path) -> None:
    result = runner.invoke(app, ["render", str(ROOT / "specs/004-model-parameters.yaml"), "-o", "-"])
    assert result.exit_code == 0, result.output
    assert 'path "secret/data/' not in result.stdout
    assert (
        "note: left out of the stream: 3 Vault file(s) (policies, auth roles, KV data); "
        "`secureai render SPEC -o DIR` writes them under DIR/vault/"
    ) in result.stderr


def test_include_secret_values_reveals_and_protects_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = write_spec(tmp_path, SPEC)
    result = runner.invoke(app, ["render", str(spec), "-o", str(out), "--include-secret-values"])
    assert result.exit_code == 0, result.output
    data = secret_manifest(out)["stringData"]
    assert data["password"] == SECRET
    assert len(data["token"]) == 40 and not data["token"].startswith("<secret")
    assert SECRET not in result.output
    for path in out.rglob("*"):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))


def test_missing_env_value_with_reveal_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DB_PASSWORD")
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["render", str(write_spec(tmp_path, SPEC)), "-o", str(out), "--include-secret-values"]
    )
    assert result.exit_code == 2
    assert "error: environment variable DB_PASSWORD is not set" in result.output
    assert "Traceback" not in result.output


def test_spec_with_errors_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["render", str(write_spec(tmp_path, SPEC.replace("image:", "imagee:"))), "-o", str(out)]
    )
    assert result.exit_code == 1
    assert "error[SA101]" in result.output and "render stopped: the spec has errors" in result.output
    assert not out.exists()


def test_refuses_a_foreign_directory_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "home"
    out.mkdir()
    (out / "precious.txt").write_text("keep me", encoding="utf-8")
    spec = str(write_spec(tmp_path, SPEC))
    refused = runner.invoke(app, ["render", spec, "-o", str(out)])
    assert refused.exit_code == 2 and "error:" in refused.output
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]
    forced = runner.invoke(app, ["render", spec, "-o", str(out), "--force"])
    assert forced.exit_code == 0
    assert (out / "precious.txt").read_text(encoding="utf-8") == "keep me"


def test_rerender_removes_what_the_spec_no_longer_has(tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = write_spec(tmp_path, SPEC)
    assert runner.invoke(app, ["render", str(spec), "-o", str(out)]).exit_code == 0
    assert list(out.glob("secret-templates/*-secret-ml-db.yaml"))
    smaller = SPEC.split("    env:\n")[0]
    write_spec(tmp_path, smaller)
    assert runner.invoke(app, ["render", str(spec), "-o", str(out)]).exit_code == 0
    assert not list(out.glob("secret-templates/*-secret-ml-db.yaml"))
    assert not (out / "secret-templates").exists()


def test_example_renders_what_the_golden_holds(tmp_path: Path) -> None:
    spec_dir = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", spec_dir)
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", str(spec_dir / "ai-platform.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    golden = ROOT / "tests" / "golden" / "ai-platform"
    rendered = sorted(
        p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and p.name != ".secureai-render"
    )
    expected = sorted(p.relative_to(golden).as_posix() for p in golden.rglob("*") if p.is_file())
    assert rendered == expected


def test_an_unwritable_output_is_an_error_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder", encoding="utf-8")
    result = runner.invoke(app, ["render", str(write_spec(tmp_path, SPEC)), "-o", str(blocker / "out")])
    assert result.exit_code == 2
    assert f"error: cannot write {blocker / 'out'}: Not a directory" in result.output
    assert "internal error" not in result.output


def test_a_from_file_value_is_read_bounded(tmp_path: Path) -> None:
    """A Kubernetes Secret holds at most 1 MiB: a bigger file (or a device) is refused, not
    read into memory whole."""
    (tmp_path / "big.bin").write_bytes(b"x" * (1024 * 1024 + 1))
    spec = write_spec(tmp_path, SPEC.replace("{ fromEnv: DB_PASSWORD }", "{ fromFile: big.bin }"))
    result = runner.invoke(app, ["render", str(spec), "-o", str(tmp_path / "out"), "--include-secret-values"])
    assert result.exit_code == 2
    assert (
        f"error: cannot read {tmp_path / 'big.bin'}: larger than 1 MiB, more than a Kubernetes Secret holds"
        in result.output
    )


def test_a_render_stopped_by_sigterm_says_so_and_leaves_no_tree(tmp_path: Path) -> None:
    """SIGTERM while render writes: exit 130 with a word on stderr, no partial output and no
    temporary directory beside it (a real process, a real signal)."""
    spec = tmp_path / "big.yaml"
    spec.write_text(generate(1000), encoding="utf-8")
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "secureai", "render", str(spec), "-o", str(out)]
    for _ in range(10):  # until the signal lands while the tree is being written
        shutil.rmtree(out, ignore_errors=True)
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        while proc.poll() is None and not any(
            p.name.startswith(".out.secureai-tmp-") for p in tmp_path.iterdir()
        ):
            time.sleep(0.002)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        if proc.returncode == 130:
            break
    assert (proc.returncode, err) == (130, "interrupted\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.yaml"]
