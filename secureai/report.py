"""Diagnostics out: text for people, JSON for scripts, SARIF 2.1.0 for code scanning."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from secureai import __version__
from secureai.diagnostics import Diagnostic, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def as_text(diagnostics: Sequence[Diagnostic], files: int) -> str:
    lines = [d.text() for d in diagnostics]
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    noun = "file" if files == 1 else "files"
    lines.append(f"{files} {noun} checked: {errors} error(s), {warnings} warning(s)")
    return "\n".join(lines)


def _as_dict(d: Diagnostic) -> dict[str, Any]:
    return {
        "severity": d.severity.value,
        "code": d.code,
        "file": d.file,
        "line": d.position.line if d.position else None,
        "column": d.position.column if d.position else None,
        "message": d.message,
        "hint": d.hint,
    }


def as_json(diagnostics: Sequence[Diagnostic], files: int) -> str:
    errors = sum(d.is_error for d in diagnostics)
    doc = {
        "files": files,
        "errors": errors,
        "warnings": len(diagnostics) - errors,
        "diagnostics": [_as_dict(d) for d in diagnostics],
    }
    return json.dumps(doc, indent=2, sort_keys=True)


def _uri(file: str | None) -> str:
    if not file:
        return "spec"
    path = Path(file)
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path.as_uri()
    return path.as_posix()


def _result(d: Diagnostic, rule_index: int) -> dict[str, Any]:
    text = d.message + (f" (hint: {d.hint})" if d.hint else "")
    region = (
        {"startLine": d.position.line, "startColumn": d.position.column} if d.position else {"startLine": 1}
    )
    return {
        "ruleId": d.code,
        "ruleIndex": rule_index,
        "level": "error" if d.severity is Severity.ERROR else "warning",
        "message": {"text": text},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(d.file)}, "region": region}}],
    }


def as_sarif(diagnostics: Sequence[Diagnostic], files: int) -> str:
    from secureai.codes import CODES  # only SARIF needs the rule titles

    rule_ids = sorted({d.code for d in diagnostics})
    rules = [
        {"id": code, "name": code, "shortDescription": {"text": CODES.get(code, code)}} for code in rule_ids
    ]
    index = {code: i for i, code in enumerate(rule_ids)}
    run = {
        "tool": {
            "driver": {
                "name": "secureai",
                "version": __version__,
                "informationUri": "https://github.com/secureai/secureai",
                "rules": rules,
            }
        },
        "results": [_result(d, index[d.code]) for d in diagnostics],
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2, sort_keys=True)


FORMATTERS = {"text": as_text, "json": as_json, "sarif": as_sarif}
