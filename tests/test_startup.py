"""`secureai validate` must never import pulumi (its import alone costs 0.3-0.6 s)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import sys
from secureai.cli import app
try:
    app(["validate", sys.argv[1]])
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("pulumi", "pulumi_kubernetes", "pulumi_vault"))
print(code, heavy)
"""


def test_validate_imports_no_pulumi() -> None:
    spec = ROOT / "specs" / "ai-platform.yaml"
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(spec)], capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip().splitlines()[-1] == "0 []"
