"""Specs with very many mistakes (issue #18, "Bad input"): text shows the first findings of each
file and counts the rest; every suggestion stays right however many mistakes or names there
are. How long they take is `benchmarks/bench_bad_keys.py`'s business, not a test's."""

from __future__ import annotations

import difflib
import json
import random
import sys
from pathlib import Path

from specutil import BASE, WORKLOAD, write_spec
from typer.testing import CliRunner

from secureai.cli import app
from secureai.diagnostics import EXACT_CHOICES, _choice_set, _edits, _SlipIndex, closest, misspelling_of
from secureai.loader import MAX_BYTES
from secureai.model.build import allowed_fields
from secureai.pipeline import validate_paths

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_bad_keys import FAMILIES, SIZES, bad_keys, misspelt_names  # noqa: E402
from bench_bad_keys import MAX_BYTES as BENCH_MAX_BYTES  # noqa: E402

runner = CliRunner()
GOOD = BASE + WORKLOAD
TOP = "error[SA101]: spec: unknown field 'k{}': it is not part of the secureai spec"


def _unknown_top_keys(count: int) -> str:
    return "".join(f"k{i}: 1\n" for i in range(count)) + GOOD


def _lines(output: str, tmp_path: Path) -> list[str]:
    """The output without hint lines, file names relative to `tmp_path`."""
    text = output.replace(str(tmp_path) + "/", "")
    return [line for line in text.splitlines() if not line.startswith("  hint: ")]


def test_text_shows_50_findings_per_file_then_counts_the_rest(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, _unknown_top_keys(53))
    result = runner.invoke(app, ["validate", str(spec)])
    assert result.exit_code == 1
    assert _lines(result.output, tmp_path) == [
        *(f"spec.yaml:{i + 1}:1: {TOP.format(i)}" for i in range(50)),
        "... and 3 more findings in spec.yaml (--max-findings 0 shows them all)",
        "1 file checked: 53 error(s), 0 warning(s)",
    ]


def test_max_findings_sets_the_cap_and_0_shows_all(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, _unknown_top_keys(3))
    result = runner.invoke(app, ["validate", "--max-findings", "2", str(spec)])
    assert result.exit_code == 1
    assert _lines(result.output, tmp_path) == [
        f"spec.yaml:1:1: {TOP.format(0)}",
        f"spec.yaml:2:1: {TOP.format(1)}",
        "... and 1 more finding in spec.yaml (--max-findings 0 shows them all)",
        "1 file checked: 3 error(s), 0 warning(s)",
    ]
    every = runner.invoke(app, ["validate", "--max-findings", "0", str(spec)])
    assert every.exit_code == 1
    assert len([line for line in _lines(every.output, tmp_path) if "error[SA101]" in line]) == 3
    assert "more finding" not in every.output
    negative = runner.invoke(app, ["validate", "--max-findings", "-1", str(spec)])
    assert negative.exit_code == 2


def test_the_cap_is_per_file_and_quiet_keeps_the_count(tmp_path: Path) -> None:
    first = write_spec(tmp_path, _unknown_top_keys(3), "a.yaml")
    second = write_spec(tmp_path, _unknown_top_keys(2), "b.yaml")
    result = runner.invoke(app, ["validate", "-q", "--max-findings", "1", str(first), str(second)])
    assert result.exit_code == 1
    assert _lines(result.output, tmp_path) == [
        f"a.yaml:1:1: {TOP.format(0)}",
        "... and 2 more findings in a.yaml (--max-findings 0 shows them all)",
        f"b.yaml:1:1: {TOP.format(0)}",
        "... and 1 more finding in b.yaml (--max-findings 0 shows them all)",
    ]


def test_json_and_sarif_list_every_finding(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, _unknown_top_keys(60))
    as_json = runner.invoke(app, ["validate", "--format", "json", str(spec)])
    assert as_json.exit_code == 1
    assert len(json.loads(as_json.output)["diagnostics"]) == 60
    sarif = runner.invoke(app, ["validate", "--format", "sarif", str(spec)])
    assert sarif.exit_code == 1
    results = json.loads(sarif.output)["runs"][0]["results"]
    assert len(results) == 60
    assert len({r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}) == 1


SLIPS = {"imagee": "image", "namspace": "namespace", "runAsUsr": "runAsUser", "Labels": "labels"}


def test_many_misspelt_fields_each_get_their_suggestion(tmp_path: Path) -> None:
    workloads = ""
    for i in range(2000):
        slip = list(SLIPS)[i % len(SLIPS)]
        namespace = "" if slip == "namspace" else "    namespace: ml\n"
        workloads += f"  w{i}:\n{namespace}    image: x:1\n    {slip}: ml\n    extra{i}: 1\n"
    spec = write_spec(tmp_path, BASE + "workloads:\n" + workloads)
    found = validate_paths([spec]).diagnostics
    by_workload: dict[object, set[str]] = {}
    for d in found:
        assert d.code == "SA101", d.text()  # `namspace` explains the missing `namespace`
        by_workload.setdefault(d.path[1], set()).add(d.message)
    assert len(found) == 4000
    for i in range(2000):
        slip = list(SLIPS)[i % len(SLIPS)]
        assert by_workload[f"w{i}"] == {
            f"workloads.w{i}: unknown field '{slip}' (did you mean '{SLIPS[slip]}'?)",
            f"workloads.w{i}: unknown field 'extra{i}': it is not part of the secureai spec",
        }


def test_misspelt_names_among_many_get_the_one_slip_away(tmp_path: Path) -> None:
    count = 3 * EXACT_CHOICES  # beyond difflib over every name: the slip index answers
    namespaces = "".join(f"  team-{i:04d}: {{}}\n" for i in range(count))
    wrong = [
        *((f"taem-{i:04d}", f"team-{i:04d}") for i in range(count)),  # two neighbours swapped
        *((f"team-{i:04d}x", f"team-{i:04d}") for i in range(count)),  # a letter added
        *((f"tem-{i:04d}", f"team-{i:04d}") for i in range(count)),  # a letter left out
        ("platform", None),  # nothing like any of them
    ]
    workloads = "".join(f"  w{n}: {{namespace: {given}, image: x:1}}\n" for n, (given, _) in enumerate(wrong))
    text = BASE.replace("  ml: {}\n", namespaces) + "workloads:\n" + workloads
    found = {d.message for d in validate_paths([write_spec(tmp_path, text)]).diagnostics if d.code == "SA110"}
    assert found == {
        f"workload 'w{n}' is in namespace '{given}' which is not declared"
        + (f" (did you mean '{meant}'?)" if meant else "")
        for n, (given, meant) in enumerate(wrong)
    }


def test_closest_is_difflibs_pick_among_few_names() -> None:
    rng = random.Random(18)
    letters = "abcde-01"
    for _ in range(2000):
        names = [
            "".join(rng.choices(letters, k=rng.randint(1, 9))) for _ in range(rng.randint(1, EXACT_CHOICES))
        ]
        word = "".join(rng.choices(letters, k=rng.randint(1, 9)))
        expected = difflib.get_close_matches(word, sorted(names), n=1, cutoff=0.6)
        assert closest(word, names) == (expected[0] if expected else None), (word, names)


def test_the_slip_index_finds_every_name_one_slip_away() -> None:
    rng = random.Random(18)
    for _ in range(80):
        names = sorted({"".join(rng.choices("abc-", k=rng.randint(1, 12))) for _ in range(150)})
        index = _SlipIndex(names)
        for _ in range(20):
            word = "".join(rng.choices("abc-", k=rng.randint(1, 13)))
            expected = [n for n in names if _edits(word, n, 1) <= 1]
            if len(expected) <= 8:  # not a bucket so full that the candidate bound applies
                assert sorted(index.near(word)) == expected, (word, names)


def _old_misspelling_of(word: str, choices: list[str]) -> str | None:
    """misspelling_of as it was before the letter bounds and the memo."""
    lowered = word.lower()
    limit = 1 if len(word) <= 4 else 2 if len(word) <= 10 else 3
    best: tuple[int, str] | None = None
    for choice in sorted(choices):
        distance = _edits(lowered, choice.lower(), limit)
        if distance <= limit and (best is None or distance < best[0]):
            best = (distance, choice)
    return best[1] if best else None


def test_misspelling_of_answers_as_before_for_every_field_set() -> None:
    rng = random.Random(18)
    fields = allowed_fields(("workloads", "w"))
    words = [*fields, *(f[:-1] for f in fields), *(f + "s" for f in fields), *(f.upper() for f in fields)]
    words += ["".join(rng.sample(f, len(f))) for f in fields for _ in range(3)]
    words += ["".join(rng.choices("aeinrstuclm", k=rng.randint(2, 16))) for _ in range(2000)]
    for word in words:
        assert misspelling_of(word, fields) == _old_misspelling_of(word, list(fields)), word


def test_the_benchmark_specs_fit_and_hold_the_mistakes_they_claim(tmp_path: Path) -> None:
    assert BENCH_MAX_BYTES == MAX_BYTES
    for family, generate in FAMILIES.items():
        assert len(generate(max(SIZES[family])).encode()) <= MAX_BYTES
    assert max(SIZES["bad keys"]) == 100_000
    keys = validate_paths([write_spec(tmp_path, bad_keys(1000), "keys.yaml")]).diagnostics
    assert len(keys) == 1000 and all(d.code == "SA101" for d in keys)
    names = validate_paths([write_spec(tmp_path, misspelt_names(1000), "names.yaml")]).diagnostics
    assert len([d for d in names if d.code == "SA110" and "(did you mean 'n" in d.message]) == 1000


def test_a_big_name_set_is_prepared_once_however_many_small_sets_pass() -> None:
    big = {f"team-{i:04d}": None for i in range(3 * EXACT_CHOICES)}
    assert closest("taem-0001", big) == "team-0001"
    prepared = _choice_set(big)
    for i in range(200):  # a workload's ports, a mapping's fields: new small sets each time
        closest("http", [f"port-{i}", "metrics"])
    assert _choice_set(big) is prepared
    assert closest("team-0002x", big) == "team-0002"
