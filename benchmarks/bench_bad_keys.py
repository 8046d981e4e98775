"""Benchmark `secureai validate` on specs with many mistakes: the cost must grow linearly.

Run: python benchmarks/bench_bad_keys.py [--runs 5] [--sizes 1000,10000] [--format text|json|sarif]
Issue #18 ("Bad input"): a spec with a very large number of unknown or misspelt keys took
minutes to validate. Two generated families, at 1k, 10k and 100k mistakes, within the loader's
limits (4 MiB, 500,000 YAML values: misspelt names stop at 80k), which the script checks:
- bad keys: unknown keys at the top level, under a secret, under one of a secret's values
  (where names are not shown) and under a workload (long ones, near long field names: the
  costliest for "did you mean"), and workloads each with a misspelt field
  (`namspace`, with the "missing namespace" it explains), so every model-stage pass runs: the
  pydantic error walk, "did you mean" over the fields, the "allowed here" hints, positions;
- misspelt names: as many workloads, each in an undeclared namespace one letter off a declared
  one, among as many declared namespaces, so the check stage's "did you mean" searches a big
  set of names for every finding.

Each run is a fresh interpreter (cold: imports included), as CI would see it. The sizes run
interleaved, round by round, with the same spec with one mistake (start-up and the error path,
subtracted to give each row's own work); times are medians. A linear cost shows as about 10x
from one size to the next ten times bigger, a quadratic one as 100x; a row whose own work is
under 0.1 s is within the noise of start-up and not compared.
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_BYTES = 4 * 1024 * 1024  # secureai.loader.MAX_BYTES, held equal by tests/test_bad_keys.py
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
NOISE = 0.1  # seconds: own work below this is lost in the start-up's variation
WIDTHS = (9, 10, 8, 15, 11, 19)
_NEAR_FIELDS = ("serviceAccountt", "securityProfil", "imagePullPolicyy", "readinessProbee")


def _id(number: int) -> str:
    """Four base-36 digits: 100k names stay short enough for the 4 MiB limit."""
    out = ""
    for _ in range(4):
        number, digit = divmod(number, 36)
        out = _DIGITS[digit] + out
    return out


def bad_keys(n: int) -> str:
    """A spec with `n` unknown or misspelt keys (a quarter in each kind of place)."""
    q = n // 4
    lines = ["version: 1", "project: bad-keys", 'kubernetes: { version: "1.30" }', "namespaces: { a: {} }"]
    lines += [f"k{i}: 1" for i in range(q)]
    lines += ["secrets:", "  s:", "    namespace: a", "    data:", "      v:", "        fromEnv: V"]
    lines += [f"        x{i}: 1" for i in range(q // 2)]  # below a value: the name is not shown
    lines += [f"    y{i}: 1" for i in range(q - q // 2)]
    lines += ["workloads:", "  one:", "    namespace: a", "    image: x:1"]
    # Long keys near long field names: the costliest for "did you mean" (up to three edits).
    lines += [f"    {_NEAR_FIELDS[i % len(_NEAR_FIELDS)]}{i}: 1" for i in range(q)]
    lines += [f"  w{i}: {{namspace: a, image: x:1}}" for i in range(n - 3 * q)]
    return "\n".join(lines) + "\n"


def misspelt_names(n: int) -> str:
    """A spec with `n` workloads, each in an undeclared namespace one letter off one of `n`
    declared namespaces (`m0a2b` for `n0a2b`)."""
    lines = ["version: 1", "project: bad-names", 'kubernetes: { version: "1.30" }', "namespaces:"]
    lines += [f"  n{_id(i)}: {{}}" for i in range(n)]
    lines += ["workloads:"]
    lines += [f"  w{_id(i)}: {{namespace: m{_id(i)}}}" for i in range(n)]
    return "\n".join(lines) + "\n"


FAMILIES: dict[str, Callable[[int], str]] = {"bad keys": bad_keys, "misspelt names": misspelt_names}
# 100k misspelt names do not fit: a workload and its namespace are six YAML values, and the
# loader refuses a document of more than 500,000 (MAX_NODES); 80k is the largest round size.
SIZES = {"bad keys": (1000, 10_000, 100_000), "misspelt names": (1000, 10_000, 80_000)}


def timed(argv: list[str]) -> float:
    """Wall seconds of `argv` in a fresh process; anything but exit 0 or 1 stops the benchmark."""
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr}")
    return wall


def loaded(argv: list[str]) -> None:
    """Run `argv` once (to warm the file cache) and stop if the spec did not load: a timing of
    the loader refusing the file (over 4 MiB, over its 500,000 values) would measure nothing."""
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    refused = [code for code in ("SA002", "SA006") if code in proc.stdout]
    if proc.returncode not in (0, 1) or refused:
        raise SystemExit(f"{' '.join(argv)}: the spec does not load ({', '.join(refused)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--sizes", help="comma-separated numbers of mistakes (default: 1k, 10k, 100k; 80k names)"
    )
    parser.add_argument("--format", default="text", choices=("text", "json", "sarif"))
    parser.add_argument("--family", choices=sorted(FAMILIES), action="append", help="default: both")
    args = parser.parse_args()
    # An installed package carries its bytecode; a checkout under PYTHONDONTWRITEBYTECODE would
    # otherwise compile every module of secureai in every run (~0.1 s).
    compileall.compile_dir(ROOT / "secureai", quiet=1)
    with open("/proc/loadavg", encoding="ascii") as f:
        print(f"load average before: {f.read().split()[:3]} (2-core machine)")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for family in args.family or list(FAMILIES):
            sizes = [int(n) for n in args.sizes.split(",")] if args.sizes else list(SIZES[family])
            specs: dict[int, Path] = {}
            for n in [1, *sizes]:
                text = FAMILIES[family](n)
                if len(text.encode()) > MAX_BYTES:
                    raise SystemExit(f"{family} x {n:,}: {len(text.encode()):,} bytes, over the 4 MiB limit")
                specs[n] = Path(tmp) / f"{family.replace(' ', '-')}-{n}.yaml"
                specs[n].write_text(text, encoding="utf-8")
            argv = {
                n: [sys.executable, "-m", "secureai", "validate", "--format", args.format, str(p)]
                for n, p in specs.items()
            }
            for n, command in argv.items():
                loaded([*command[:5], "text", str(specs[n])])  # text: the rest list every rule code
                timed(command)  # warm the file cache; not counted
            samples: dict[int, list[float]] = {n: [] for n in argv}
            order = list(argv)
            for i in range(args.runs):
                for n in order[i % len(order) :] + order[: i % len(order)]:
                    samples[n].append(timed(argv[n]))
            base = statistics.median(samples[1])
            print(f"\n{family}, validate --format {args.format}: median of {args.runs} fresh runs")
            print(f"  one mistake (start-up and the error path): {base:.3f} s")
            header = ("mistakes", "bytes", "wall s", "beyond one s", "x previous", "beyond, x previous")
            print("  " + " ".join(f"{h:>{w}}" for h, w in zip(header, WIDTHS, strict=True)))
            previous: tuple[float, float] | None = None
            for n in sizes:
                wall = statistics.median(samples[n])
                own = max(wall - base, 1e-3)
                ratios = ("", "")
                if previous is not None:
                    compared = f"{own / previous[1]:.1f}x" if previous[1] >= NOISE else "(noise)"
                    ratios = (f"{wall / previous[0]:.1f}x", compared)
                size = specs[n].stat().st_size
                print(f"  {n:>9,} {size:>10,} {wall:>8.3f} {own:>15.3f} {ratios[0]:>11} {ratios[1]:>19}")
                previous = (wall, own)
            # Linear: ten times the mistakes cost about ten times the work; a loaded 2-core
            # machine moves single rows by tens of percent, so only twice that is flagged
            # (a quadratic pass would show 100x).
            for small, big in itertools.pairwise(sizes):
                own_small = statistics.median(samples[small]) - base
                grown = (statistics.median(samples[big]) - base) / max(own_small, 1e-3)
                if own_small >= NOISE and grown > 2 * big / small:
                    ok = False
                    print(f"  NOT LINEAR: {small:,} -> {big:,} mistakes costs {grown:.0f}x")
    with open("/proc/loadavg", encoding="ascii") as f:
        print(f"\nload average after: {f.read().split()[:3]}; {args.runs} interleaved rounds")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
