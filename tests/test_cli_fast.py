"""validate's fast path (secureai.cli.fast) answers exactly as the typer command does.

Each command line runs twice in fresh processes: through `main` (which takes the fast path when
it can) and through typer alone; stdout, stderr and the exit code must be equal. The parser is
also held to which lines it takes and which it leaves to typer.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from secureai.cli.fast import parse

ROOT = Path(__file__).resolve().parents[1]
TYPER_ONLY = "import sys\nfrom secureai.cli import app\napp(sys.argv[1:], prog_name='python -m secureai')"

BROKEN = """\
version: 1
project: demo
kubernetes: { version: "1.30" }
workloads:
  w: { namespace: nowhere, image: x, imagee: y }
"""


def _both(argv: list[str], cwd: Path) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
    env = {"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "HOME": str(cwd)}
    runs = []
    for head in ([sys.executable, "-m", "secureai"], [sys.executable, "-c", TYPER_ONLY]):
        done = subprocess.run(
            [*head, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        runs.append((done.returncode, done.stdout, done.stderr))
    return runs[0], runs[1]


CASES = [
    ["validate", "broken.yaml"],
    ["validate", "broken.yaml", "-q"],
    ["validate", "broken.yaml", "--format", "json"],
    ["validate", "--format=sarif", "broken.yaml"],
    ["validate", "-f", "json", "--strict", "good.yaml"],
    ["validate", "good.yaml", "--strict", "--quiet"],
    ["validate", "--max-findings", "1", "broken.yaml"],
    ["validate", "--max-findings=0", "-v", "broken.yaml", "good.yaml"],
    ["validate", "missing.yaml"],
    ["validate", "--", "broken.yaml"],
    ["validate", "org/"],
]
FALLBACK = [
    ["validate"],
    ["validate", "--help"],
    ["validate", "-qv", "good.yaml"],
    ["validate", "--format", "yaml", "good.yaml"],
    ["validate", "--max-findings", "-1", "good.yaml"],
    ["validate", "--max-findings"],
    ["validate", "--unknown", "good.yaml"],
    ["render", "good.yaml", "-o", "out"],
]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    folder = tmp_path_factory.mktemp("fast")
    (folder / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    shutil.copy(ROOT / "specs" / "000-training-secret.yaml", folder / "good.yaml")
    shutil.copytree(ROOT / "specs" / "org", folder / "org")
    return folder


@pytest.mark.parametrize("argv", CASES + FALLBACK, ids=lambda a: " ".join(a[1:]) or "none")
def test_fast_path_answers_as_typer_does(argv: list[str], work: Path) -> None:
    fast, typer_only = _both(argv, work)
    assert fast == typer_only


@pytest.mark.parametrize("argv", CASES, ids=lambda a: " ".join(a[1:]))
def test_the_plain_lines_take_the_fast_path(argv: list[str]) -> None:
    assert parse(argv) is not None


@pytest.mark.parametrize("argv", FALLBACK, ids=lambda a: " ".join(a) or "none")
def test_the_rest_is_left_to_typer(argv: list[str]) -> None:
    assert parse(argv) is None


def test_parsed_values() -> None:
    assert parse(["validate", "-f", "json", "--max-findings=3", "-q", "a.yaml", "-", "--", "-v"]) == {
        "output_format": "json",
        "max_findings": 3,
        "quiet": True,
        "specs": [Path("a.yaml"), Path("-"), Path("-v")],
    }


def test_one_default_cap() -> None:
    from secureai import report
    from secureai.cli.check import DEFAULT_MAX_FINDINGS

    assert DEFAULT_MAX_FINDINGS == report.MAX_FINDINGS


def test_render_access_and_deploys_cap_findings_too(tmp_path: Path) -> None:
    """The other commands print a screenful of findings per file too, then the count."""
    from typer.testing import CliRunner

    from secureai.cli import app

    keys = "".join(f"    bad{i}: 1\n" for i in range(60))
    head = 'version: 1\nproject: demo\nkubernetes: { version: "1.30" }\nworkloads:\n  w:\n'
    spec = tmp_path / "many.yaml"
    spec.write_text(head + keys, encoding="utf-8")
    commands = (
        ["render", str(spec), "-o", str(tmp_path / "out")],
        ["access", str(spec)],
        ["preview", str(spec)],
    )
    for argv in commands:
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 1, result.output
        lines = [line for line in result.output.splitlines() if ": error[SA" in line]
        assert len(lines) == 50, argv
        assert f"... and 11 more findings in {spec} (secureai validate --max-findings 0 lists them all)" in (
            result.output
        ), argv
