"""`secureai validate` never imports pulumi (its import alone costs 0.3-0.6 s), and its plain
command lines (the fast path) never import typer or click (~45 ms of a ~0.2 s run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TYPER_PATH = """
import sys
from secureai.cli import app
try:
    app(["validate", sys.argv[1]])
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("pulumi", "pulumi_kubernetes", "pulumi_vault"))
print(code, heavy)
"""

# What the `secureai` console script runs (secureai.cli.main), up to its os._exit.
FAST_PATH = """
import os, sys
import secureai.cli as cli
def report(code):
    heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("pulumi", "typer", "click", "rich"))
    print(code, heavy, flush=True)
    os._exit(0)
cli._exit = report
sys.argv = ["secureai", "validate", "-q", sys.argv[1]]
cli.main()
"""


def _last_line(probe: str) -> str:
    spec = ROOT / "specs" / "ai-platform.yaml"
    proc = subprocess.run(
        [sys.executable, "-c", probe, str(spec)], capture_output=True, text=True, check=True
    )
    return proc.stdout.strip().splitlines()[-1]


def test_validate_imports_no_pulumi() -> None:
    assert _last_line(TYPER_PATH) == "0 []"


def test_the_fast_path_imports_neither_pulumi_nor_typer() -> None:
    assert _last_line(FAST_PATH) == "0 []"
