"""What one container is given: environment and resources."""

from __future__ import annotations

from pydantic import Field, model_validator

from secureai.model.base import Model
from secureai.model.names import DnsSubdomain, Quantity, SecretKey, Text


class EnvValue(Model):
    """An environment variable: a plain value, or a key of a declared secret."""

    value: Text | None = None
    secret: DnsSubdomain | None = None
    key: SecretKey | None = None

    @model_validator(mode="after")
    def _one_source(self) -> EnvValue:
        if self.value is not None and (self.secret or self.key):
            raise ValueError("an env value takes either 'value' or 'secret' with 'key', not both")
        if self.value is None and not (self.secret and self.key):
            raise ValueError("an env value needs 'value', or 'secret' and 'key'")
        return self


class ResourceAmounts(Model):
    cpu: Quantity | None = None
    memory: Quantity | None = None
    ephemeral_storage: Quantity | None = Field(None, alias="ephemeral-storage")


class Resources(Model):
    requests: ResourceAmounts | None = None
    limits: ResourceAmounts | None = None
