"""Ports, in the mapping form and the `5432`, `5432/TCP`, `postgres:5432/TCP` shorthands."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from secureai.model.base import Int, Model
from secureai.model.names import PortName

Protocol = Literal["TCP", "UDP", "SCTP"]

_PORT = re.compile(
    r"^(?:(?P<name>[a-z0-9]([-a-z0-9]*[a-z0-9])?):)?(?P<port>[0-9]+)(?:/(?P<proto>TCP|UDP|SCTP))?$"
)


def _parse_port(value: Any) -> Any:
    """`5432`, `"5432/TCP"` and `"postgres:5432/TCP"` are shorthands for the mapping form."""
    value = getattr(value, "raw", value)
    if isinstance(value, int) and not isinstance(value, bool):
        return {"port": value}
    if isinstance(value, str):
        match = _PORT.fullmatch(value)
        if not match:
            raise ValueError(f"'{value}' is not a port: write 5432, 5432/TCP or postgres:5432/TCP")
        out: dict[str, Any] = {"port": int(match["port"]), "protocol": match["proto"] or "TCP"}
        if match["name"]:
            out["name"] = match["name"]
        return out
    return value


class PortSpec(Model):
    port: Int = Field(ge=1, le=65535)
    protocol: Protocol = "TCP"
    name: PortName | None = None
    end_port: Int | None = Field(
        None, ge=1, le=65535, description="network rules only: the last port of a range"
    )

    @model_validator(mode="after")
    def _range(self) -> PortSpec:
        if self.end_port is not None and (self.end_port < self.port or self.name is not None):
            raise ValueError("'endPort' is the last port of a numbered range: at least 'port', and no 'name'")
        return self


_PORT_SCHEMA = {
    "anyOf": [
        {"type": "integer", "minimum": 1, "maximum": 65535},
        {"type": "string", "pattern": _PORT.pattern},
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["port"],
            "properties": {
                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                "protocol": {"enum": ["TCP", "UDP", "SCTP"]},
                "name": {"type": "string", "maxLength": 15},
                "endPort": {"type": "integer", "minimum": 1, "maximum": 65535},
            },
        },
    ]
}
Port = Annotated[PortSpec, BeforeValidator(_parse_port), WithJsonSchema(_PORT_SCHEMA)]
