"""Benchmark `secureai validate`: cold-process wall time, and a 1,000-workload spec.

Run: python benchmarks/bench_validate.py [--runs 10]
Targets (2-core machine): the example spec <= 0.2 s median; 1,000 workloads <= 1.5 s median.
Each run is a fresh interpreter (cold: imports included), as a user or CI would see it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

PROBE = (
    "import sys\nfrom secureai.cli import app\n"
    "try:\n    app(['validate', sys.argv[1]])\n"
    "except SystemExit: pass\n"
    "heavy = ('pulumi', 'pulumi_kubernetes', 'pulumi_vault')\n"
    "bad = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
    "print('PULUMI-IMPORTED:' + ','.join(bad) if bad else 'NO-PULUMI', file=sys.stderr)\n"
)


def cold_runs(spec: Path, runs: int, *extra: str, command: str = "validate") -> list[float]:
    """Wall time of `secureai <command> SPEC <extra>` in fresh interpreters (bench_access too)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "secureai", command, str(spec), *extra],
            capture_output=True,
            text=True,
            check=False,
        )
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{command} failed on {spec}:\n{proc.stdout}{proc.stderr}")
    return times


def imports_pulumi(spec: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(spec)], capture_output=True, text=True, check=False
    )
    return proc.stderr.strip().splitlines()[-1]


def report(label: str, times: list[float], budget: float) -> bool:
    median = statistics.median(times)
    ok = median <= budget
    print(
        f"{label}: median {median:.3f} s, min {min(times):.3f} s, max {max(times):.3f} s "
        f"over {len(times)} cold runs (budget {budget} s) {'OK' if ok else 'OVER BUDGET'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    from gen_spec import generate

    example = ROOT / "specs" / "ai-platform.yaml"
    print(f"pulumi modules imported by validate: {imports_pulumi(example)}")
    ok = report("validate specs/ai-platform.yaml", cold_runs(example, args.runs), 0.2)
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.yaml"
        big.write_text(generate(1000), encoding="utf-8")
        ok &= report("validate 1,000-workload spec", cold_runs(big, args.runs), 1.5)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
