"""The committed JSON Schema is the one the models generate, and the examples point at it."""

from __future__ import annotations

import os
from pathlib import Path

from secureai.schema import schema_text

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "schemas" / "secureai.schema.json"
PART = ROOT / "schemas" / "secureai-part.schema.json"


def test_committed_schema_is_fresh() -> None:
    fresh = schema_text()
    if os.environ.get("SECUREAI_ACCEPT"):
        COMMITTED.write_text(fresh, encoding="utf-8")
    assert COMMITTED.read_text(encoding="utf-8") == fresh, (
        "schemas/secureai.schema.json is stale: run `SECUREAI_ACCEPT=1 pytest tests/test_schema.py`"
    )


def test_committed_part_schema_is_fresh() -> None:
    fresh = schema_text(part=True)
    if os.environ.get("SECUREAI_ACCEPT"):
        PART.write_text(fresh, encoding="utf-8")
    assert PART.read_text(encoding="utf-8") == fresh, (
        "schemas/secureai-part.schema.json is stale: run `SECUREAI_ACCEPT=1 pytest tests/test_schema.py`"
    )


def test_the_org_example_validates_against_its_schemas() -> None:
    """The root against the spec's schema, each team's file against the part schema (which
    refuses what only a root may set)."""
    import json

    import jsonschema
    import yaml

    org = ROOT / "specs" / "org"
    root = org / "secureai.yaml"
    assert (
        root.read_text(encoding="utf-8")
        .splitlines()[0]
        .endswith("$schema=../../schemas/secureai.schema.json")
    )
    jsonschema.validate(yaml.safe_load(root.read_text(encoding="utf-8")), json.loads(COMMITTED.read_text()))
    part_schema = json.loads(PART.read_text(encoding="utf-8"))
    teams = sorted((org / "teams").glob("*.yaml"))
    assert len(teams) == 3
    for team in teams:
        text = team.read_text(encoding="utf-8")
        assert (
            text.splitlines()[0]
            == "# yaml-language-server: $schema=../../../schemas/secureai-part.schema.json"
        )
        jsonschema.validate(yaml.safe_load(text), part_schema)
    with_version = {"version": 1, **yaml.safe_load(teams[0].read_text(encoding="utf-8"))}
    try:
        jsonschema.validate(with_version, part_schema)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("the part schema accepted 'version', which only a root may set")


def test_every_example_has_a_working_modeline() -> None:
    specs = sorted((ROOT / "specs").glob("*.yaml"))
    assert specs
    for spec in specs:
        first = spec.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/secureai.schema.json", spec.name
        assert (spec.parent / "../schemas/secureai.schema.json").resolve() == COMMITTED


def test_examples_validate_against_the_schema() -> None:
    import json

    import jsonschema
    import yaml

    schema = json.loads(COMMITTED.read_text(encoding="utf-8"))
    for spec in sorted((ROOT / "specs").glob("*.yaml")):
        data = yaml.load(spec.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        # YAML 1.1 would make `version: "1.30"` fine but `on` a bool; the examples avoid both traps.
        jsonschema.validate(data, schema)


def test_readme_lists_every_diagnostic_code() -> None:
    from secureai.codes import CODES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [code for code, title in CODES.items() if f"| {code} | {title} |" not in readme]
    assert not missing, f"README's code table is stale: {missing}"


def test_readme_spec_reference_is_valid_spec_language() -> None:
    """The annotated reference in the README passes the schema, so it cannot drift from it."""
    from secureai.loader import load_text
    from secureai.model import build_spec

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The spec", 1)[1]
    reference = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    document = load_text(reference, "README.md", ROOT / "specs").value
    assert document is not None
    result = build_spec(document)
    assert result.value is not None, [d.text() for d in result.diagnostics]
