"""Volumes a workload mounts, and the one source each volume has (including claims it creates)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, model_validator

from secureai.model.base import Model, exactly_one
from secureai.model.names import AbsPath, DnsSubdomain, Quantity
from secureai.model.security import VolumeType

AccessMode = Literal["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]
_SOURCES = ("secret", "config_map", "empty_dir", "persistent_volume_claim", "host_path", "claim", "ephemeral")
# Volumes that hold data the workload writes are writable unless the spec says otherwise;
# the rest (secrets, config, host paths, claims made elsewhere) are read-only.
_WRITABLE_BY_DEFAULT = ("empty_dir", "claim", "ephemeral")


def _read_write_once() -> list[AccessMode]:
    return ["ReadWriteOnce"]


class EmptyDir(Model):
    medium: Literal["", "Memory"] = ""
    size_limit: Quantity | None = None


class ClaimShape(Model):
    """A PersistentVolumeClaim secureai creates: a StatefulSet's claim template, else its own claim."""

    size: Quantity
    storage_class_name: DnsSubdomain | None = Field(None, description="default: the cluster's default class")
    access_modes: list[AccessMode] = Field(default_factory=_read_write_once, min_length=1)


class Volume(Model):
    mount_path: AbsPath
    read_only: StrictBool | None = Field(
        None, description="default: writable for emptyDir, claim and ephemeral; read-only otherwise"
    )
    secret: DnsSubdomain | None = None
    config_map: DnsSubdomain | None = None
    empty_dir: EmptyDir | None = None
    persistent_volume_claim: DnsSubdomain | None = Field(None, description="an existing claim, by name")
    host_path: AbsPath | None = None
    claim: ClaimShape | None = None
    ephemeral: ClaimShape | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Volume:
        exactly_one(self, _SOURCES, "a volume")
        return self

    @property
    def source(self) -> str:
        return next(field for field in _SOURCES if getattr(self, field) is not None)

    @property
    def writable(self) -> bool:
        if self.read_only is not None:
            return not self.read_only
        return self.source in _WRITABLE_BY_DEFAULT

    @property
    def type(self) -> VolumeType:
        return _TYPES[self.source]


_TYPES: dict[str, VolumeType] = {
    "secret": "secret",
    "config_map": "configMap",
    "empty_dir": "emptyDir",
    "persistent_volume_claim": "persistentVolumeClaim",
    "host_path": "hostPath",
    "claim": "persistentVolumeClaim",
    "ephemeral": "ephemeral",
}
