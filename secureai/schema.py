"""The JSON Schema of the spec, generated from the models (the committed copy is tested fresh)."""

from __future__ import annotations

import json
from typing import Any

from secureai.model.spec import Spec

SCHEMA_ID = "https://secureai.dev/schemas/secureai.schema.json"
PART_SCHEMA_ID = "https://secureai.dev/schemas/secureai-part.schema.json"


def schema_dict() -> dict[str, Any]:
    schema = Spec.model_json_schema(by_alias=True, mode="validation")
    return {
        **schema,
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "secureai spec",
    }


def part_schema_dict() -> dict[str, Any]:
    """The schema of a file a root spec includes: the naming sections only, none required."""
    from secureai.loader.compose import SECTIONS

    whole = Spec.model_json_schema(by_alias=True, mode="validation")
    return {
        "$defs": whole["$defs"],
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": PART_SCHEMA_ID,
        "title": "secureai spec part (a file a root spec includes)",
        "type": "object",
        "additionalProperties": False,
        "properties": {k: v for k, v in whole["properties"].items() if k in SECTIONS},
    }


def schema_text(part: bool = False) -> str:
    return json.dumps(part_schema_dict() if part else schema_dict(), indent=2, sort_keys=True) + "\n"
