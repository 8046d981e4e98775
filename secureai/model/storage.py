"""Volumes a workload mounts, and the one source each volume has."""

from __future__ import annotations

from typing import Literal

from pydantic import StrictBool, model_validator
from pydantic.alias_generators import to_camel

from secureai.model.base import Model, exactly_one
from secureai.model.names import AbsPath, DnsSubdomain, Quantity
from secureai.model.security import VolumeType


class EmptyDir(Model):
    medium: Literal["", "Memory"] = ""
    size_limit: Quantity | None = None


class Volume(Model):
    mount_path: AbsPath
    read_only: StrictBool = True
    secret: DnsSubdomain | None = None
    config_map: DnsSubdomain | None = None
    empty_dir: EmptyDir | None = None
    persistent_volume_claim: DnsSubdomain | None = None
    host_path: AbsPath | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Volume:
        exactly_one(
            self,
            ("secret", "config_map", "empty_dir", "persistent_volume_claim", "host_path"),
            "a volume",
        )
        return self

    @property
    def type(self) -> VolumeType:
        for field in ("secret", "config_map", "empty_dir", "persistent_volume_claim", "host_path"):
            if getattr(self, field) is not None:
                return "persistentVolumeClaim" if field == "persistent_volume_claim" else to_camel(field)  # type: ignore[return-value]
        raise AssertionError("validated volume has a source")
