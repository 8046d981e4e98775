"""ConfigMaps: non-secret configuration the spec creates, or maps managed elsewhere (marked so)."""

from __future__ import annotations

from pydantic import Field, StrictBool, model_validator

from secureai.model.base import Model
from secureai.model.names import DnsLabel, SecretKey, Text


class ConfigMap(Model):
    """Inline values. `external: true` declares a map another tool manages, so references to it
    are still checked but secureai does not create it."""

    namespace: DnsLabel
    data: dict[SecretKey, Text] = Field(default_factory=dict)
    immutable: StrictBool = False
    external: StrictBool = False

    @model_validator(mode="after")
    def _data(self) -> ConfigMap:
        if self.external and self.data:
            raise ValueError("an external config map is managed elsewhere: it takes no 'data'")
        return self
