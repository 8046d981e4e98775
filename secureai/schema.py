"""The JSON Schema of the spec, generated from the models (the committed copy is tested fresh)."""

from __future__ import annotations

import json
from typing import Any

from secureai.model.spec import Spec

SCHEMA_ID = "https://secureai.dev/schemas/secureai.schema.json"


def schema_dict() -> dict[str, Any]:
    schema = Spec.model_json_schema(by_alias=True, mode="validation")
    return {
        **schema,
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "secureai spec",
    }


def schema_text() -> str:
    return json.dumps(schema_dict(), indent=2, sort_keys=True) + "\n"
