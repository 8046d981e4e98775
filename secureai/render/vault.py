"""Render a Plan's Vault resources as files: policy HCL, auth-role JSON, and redacted KV data.

- `vault/policies/<name>.hcl`: the exact text Vault stores (`bao policy write <name> <file>`);
- `vault/auth-roles/<role>.json`: the body of `POST auth/<backend>/role/<role>`, the backend
  being the spec's `vault.kubernetesAuthMount`;
- `vault/kv/<mount>/<path>.json`: the secret's data (`bao kv put -mount=<mount> <path> @file`).
  Without `reveal` every value is a placeholder saying only where it comes from, or which JSON
  type it has: model parameters are not secret values, but a reviewer's copy needs none of
  them. With `reveal`, secret leaves are resolved and literals keep their types.

JSON has sorted keys, two-space indents and a trailing newline, so output is byte-stable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from secureai.compile.plan import Plan, Resource, SecretValue
from secureai.compile.vault import AUTH_ROLE, KV_SECRET, POLICY, ROLE_ADDRESS_FIELDS
from secureai.render.tree import RenderError

Reveal = Callable[[SecretValue], str]


def vault_files(plan: Plan, reveal: Reveal | None = None) -> dict[str, str]:
    files: dict[str, str] = {}
    for resource in plan.of_provider("vault"):
        for path, text in _files_of(resource, reveal).items():
            if path in files:  # compile refuses such specs (SA255); never overwrite silently
                raise RenderError(f"two Vault resources render to {path}")
            files[path] = text
    return dict(sorted(files.items()))


def _files_of(resource: Resource, reveal: Reveal | None) -> dict[str, str]:
    props = resource.properties
    if resource.type == POLICY:
        return {f"vault/policies/{props['name']}.hcl": props["policy"]}
    if resource.type == AUTH_ROLE:
        body = {k: v for k, v in props.items() if k not in ROLE_ADDRESS_FIELDS}
        return {f"vault/auth-roles/{props['role_name']}.json": to_json(body)}
    if resource.type == KV_SECRET:
        data = kv_values(props["data_json"], reveal)
        return {f"vault/kv/{props['mount']}/{props['name']}.json": to_json(data)}
    return {}


def kv_values(data: Mapping[str, Any], reveal: Reveal | None) -> dict[str, Any]:
    """KV data with every value revealed (when asked) or replaced by a placeholder."""
    return {key: _value(value, reveal) for key, value in data.items()}


def _value(value: Any, reveal: Reveal | None) -> Any:
    if isinstance(value, SecretValue):
        return value.placeholder() if reveal is None else reveal(value)
    return value if reveal is not None else f"<redacted:{json_type(value)}>"


def json_type(value: Any) -> str:
    """The JSON Schema type name of a scalar, so a redacted file still shows the shape."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
