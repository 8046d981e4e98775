"""Kubernetes Secrets and where each secret value comes from (env, file, generated, Vault, literal)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, StrictStr, model_validator

from secureai.model.base import Int, Model, exactly_one
from secureai.model.names import DnsLabel, EnvName, SecretKey, Text, VaultPath

# Kubernetes refuses a Secret whose data exceeds 1 MiB.
MAX_SECRET_BYTES = 1024 * 1024


class Generate(Model):
    length: Int = Field(32, ge=16, le=4096)
    charset: Literal["alphanumeric", "hex", "base64url", "printable"] = "alphanumeric"


class VaultRef(Model):
    path: VaultPath
    key: SecretKey


class ValueSource(Model):
    """Where a secret value comes from. A literal needs `allowPlaintext: true`."""

    from_env: EnvName | None = None
    from_file: Text | None = None
    generate: Generate | None = None
    from_vault: VaultRef | None = None
    literal: StrictStr | None = Field(None, repr=False)
    allow_plaintext: StrictBool = False

    @model_validator(mode="after")
    def _one_source(self) -> ValueSource:
        exactly_one(self, ("from_env", "from_file", "generate", "from_vault", "literal"), "a secret value")
        if self.literal is not None and len(self.literal.encode("utf-8", "surrogatepass")) > MAX_SECRET_BYTES:
            # Kubernetes refuses a Secret over 1 MiB; the value is not repeated (it is secret).
            raise ValueError("the literal is larger than 1 MiB, more than a Kubernetes Secret holds")
        return self


class Secret(Model):
    namespace: DnsLabel
    type: Text = "Opaque"
    data: dict[SecretKey, ValueSource] = Field(min_length=1)
    immutable: StrictBool = False
