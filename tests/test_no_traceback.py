"""No input produces a traceback: mutated example specs always come back as diagnostics.

A deterministic mutation fuzzer (fixed seed, so a failure reproduces): it deletes, duplicates
and swaps lines, flips characters, and splices in YAML that tends to break things, then runs
the whole pipeline. Every outcome must be a Result; an exception is a bug.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from secureai.pipeline import compile_path

ROOT = Path(__file__).resolve().parents[1]
SPLICES = [
    "{",
    "}",
    "[",
    "]",
    ": ",
    "- ",
    "&a ",
    "*a",
    "!!binary ",
    "!!map ",  # a core tag on the wrong kind of node once raised KeyError
    "!!seq ",
    "!!str {a: 1}",
    "!!int ",
    "!!python/name:os.system",
    "~",
    "\t",
    "\x00",
    "'",
    '"',
    "<<: *a",
    "<<: [*a, 1]",
    "'<<': ",
    "*a : ",
    "&a &b ",
    "\x07",
    "\u202e",
    "\r",
    "? ",
    "%YAML 1.1\n---\n",
    "---\n",
    "null",
    "true",
    "1e309",
    "0x",
    "-.inf",
    "ü",
    "\ufeff",
    "\u2028",
    "9" * 40,
    "a" * 300,
]


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True)
    for _ in range(rng.randint(1, 4)):
        if not lines:
            break
        i = rng.randrange(len(lines))
        action = rng.randrange(5)
        if action == 0:
            del lines[i]
        elif action == 1:
            lines.insert(i, lines[i])
        elif action == 2:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif action == 3 and lines[i]:
            k = rng.randrange(len(lines[i]))
            lines[i] = lines[i][:k] + rng.choice(SPLICES) + lines[i][k:]
        else:
            k = rng.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:k] + lines[i][k + 1 :]
    return "".join(lines)


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "specs").glob("*.yaml")))
def test_mutated_examples_never_raise(example: str, tmp_path: Path) -> None:
    rng = random.Random(f"secureai-{example}")
    source = (ROOT / "specs" / example).read_text(encoding="utf-8")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "ca.pem").write_text("x", encoding="utf-8")
    spec = tmp_path / "spec.yaml"
    for round_ in range(300):
        spec.write_bytes(mutate(source, rng).encode("utf-8", "surrogatepass"))
        try:
            result = compile_path(spec, {})
        except Exception as exc:  # pragma: no cover - the failure report is the point
            pytest.fail(f"round {round_}: {type(exc).__name__}: {exc}\n--- input ---\n{spec.read_text()}")
        assert result.value is not None or result.diagnostics


ODD_VALUES = [
    None,
    True,
    0,
    -1,
    70000,
    2**40,
    1.5,
    "",
    "x",
    "UPPER",
    "a/b",
    "../etc",
    "*",
    [],
    [1],
    {},
    {"a": 1},
    {"fromEnv": "X"},
    "5432/TCP",
    "1.30",
    "0.0.0.0/0",
]


def _paths(data: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [path] if path else []
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out += _paths(value, (*path, index))
    return out


@pytest.mark.parametrize("example", sorted(p.name for p in (ROOT / "specs").glob("*.yaml")))
def test_any_value_of_the_wrong_type_anywhere_never_raises(example: str, tmp_path: Path) -> None:
    rng = random.Random(f"types-{example}")
    base = yaml.safe_load((ROOT / "specs" / example).read_text(encoding="utf-8"))
    paths = _paths(base)
    spec = tmp_path / "spec.yaml"
    for round_ in range(150):
        data = yaml.safe_load(yaml.safe_dump(base))
        for _ in range(rng.randint(1, 3)):
            *parents, last = rng.choice(paths)
            node = data
            try:
                for key in parents:
                    node = node[key]
                node[last] = rng.choice(ODD_VALUES)
            except (KeyError, IndexError, TypeError):
                continue  # an earlier swap removed this path
        spec.write_text(yaml.safe_dump(data), encoding="utf-8")
        try:
            result = compile_path(spec, {})
        except Exception as exc:  # pragma: no cover - the failure report is the point
            pytest.fail(f"round {round_}: {type(exc).__name__}: {exc}\n--- input ---\n{spec.read_text()}")
        assert result.value is not None or result.diagnostics
