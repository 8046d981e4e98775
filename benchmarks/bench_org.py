"""Benchmark a composed organisation: `validate` and `render` of a root spec and its team files.

Run: python benchmarks/bench_org.py [--runs 3]
Budgets (issue #18): 10,000 workloads over 100 files, `validate` within 2 s and `render` within
6 s, peak RSS within 400 MB; from 1,000 workloads (over 10 files) to 10,000 the cost grows at
most 11x.

Each run is a fresh interpreter (imports included), as CI would run it; the two sizes run
interleaved, round by round, so that a busy neighbour slows both alike, and the growth is the
median of the per-round ratios. Peak RSS is the child's own (wait4), not this script's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

SIZES = ((1_000, 10), (10_000, 100))
BUDGETS = {"validate": 2.0, "render": 6.0}  # seconds, at 10,000 workloads
RSS_BUDGET_MB = 400
GROWTH_BUDGET = 11.0


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    rss_mb: float


def measured(argv: list[str]) -> Run:
    """Wall, CPU and peak RSS of `argv` in a fresh process; a failure stops the benchmark."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:6])} failed ({proc.returncode}):\n{err}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def argv(command: str, root: Path, out: Path) -> list[str]:
    base = [sys.executable, "-m", "secureai", command, str(root), "-q"]
    return [*base, "-o", str(out), "--force"] if command == "render" else base


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from gen_org import write_org

    with open("/proc/loadavg", encoding="ascii") as f:
        print(f"load average before: {f.read().split()[:3]} (2-core machine)")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        roots = {n: write_org(Path(tmp) / f"org-{n}", n, files) for n, files in SIZES}
        for command in ("validate", "render"):
            runs: dict[int, list[Run]] = {n: [] for n, _ in SIZES}
            for n, root in roots.items():
                measured(argv(command, root, Path(tmp) / f"out-{n}"))  # warm the file cache
            for i in range(args.runs):
                order = list(roots.items()) if i % 2 == 0 else list(reversed(roots.items()))
                for n, root in order:
                    runs[n].append(measured(argv(command, root, Path(tmp) / f"out-{n}")))
            for n, files in SIZES:
                walls = [r.wall for r in runs[n]]
                print(
                    f"{command} {n:,} workloads over {files} files: wall median "
                    f"{statistics.median(walls):.2f} s (min {min(walls):.2f}), CPU median "
                    f"{statistics.median(r.cpu for r in runs[n]):.2f} s, peak RSS "
                    f"{max(r.rss_mb for r in runs[n]):.0f} MB"
                )
            small, big = SIZES[0][0], SIZES[-1][0]
            growth = statistics.median(b.wall / s.wall for s, b in zip(runs[small], runs[big], strict=True))
            cpu_growth = statistics.median(b.cpu / s.cpu for s, b in zip(runs[small], runs[big], strict=True))
            wall = statistics.median(r.wall for r in runs[big])
            rss = max(r.rss_mb for r in runs[big])
            fits = wall <= BUDGETS[command] and rss <= RSS_BUDGET_MB and growth <= GROWTH_BUDGET
            ok &= fits
            print(
                f"    {command}: {small:,} -> {big:,} workloads costs {growth:.1f}x wall "
                f"({cpu_growth:.1f}x CPU; budget {GROWTH_BUDGET}x); {wall:.2f} s against "
                f"{BUDGETS[command]} s; peak RSS {rss:.0f} MB "
                f"against {RSS_BUDGET_MB} MB: {'OK' if fits else 'OVER BUDGET'}"
            )
    with open("/proc/loadavg", encoding="ascii") as f:
        print(f"load average after: {f.read().split()[:3]}; {args.runs} interleaved rounds")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
