"""What one container is: image, command, environment, ports, resources, probes and hooks.

`ContainerFields` is shared by the workload's own container and by its init containers and
sidecars (`Container`), so every container is written, hardened and checked the same way.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, WithJsonSchema, model_validator

from secureai.model.base import Model, empty_list
from secureai.model.health import Lifecycle, Probe
from secureai.model.names import (
    QUANTITY,
    AbsPath,
    DnsLabel,
    DnsSubdomain,
    EnvName,
    FreeText,
    Image,
    Quantity,
    SecretKey,
    Text,
)
from secureai.model.ports import Port

STANDARD_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_EXTENDED = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_HUGEPAGES = re.compile(r"^hugepages-[0-9]+(Ki|Mi|Gi)$")


def is_extended(name: str) -> bool:
    """An extended resource (`nvidia.com/gpu`): whole numbers only, requests equal to limits."""
    return "/" in name


def _resource_name(value: str) -> str:
    if value in STANDARD_RESOURCES or _HUGEPAGES.fullmatch(value):
        return value
    if _EXTENDED.fullmatch(value) and not value.split("/")[0].endswith("kubernetes.io"):
        return value
    from secureai.diagnostics import did_you_mean

    raise ValueError(
        f"'{value}' is not a resource: cpu, memory, ephemeral-storage, hugepages-<size>, or an "
        f"extended resource named domain/name such as nvidia.com/gpu"
        + did_you_mean(value, STANDARD_RESOURCES)
    )


ResourceName = Annotated[str, AfterValidator(_resource_name), WithJsonSchema({"type": "string"})]
# YAML writes `nvidia.com/gpu: 2` and `cpu: 2` as numbers; both are read as the quantity text.
Amount = Annotated[
    Quantity,
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": QUANTITY}, {"type": "number", "minimum": 0}]}),
]
ResourceAmounts = dict[ResourceName, Amount]


class Resources(Model):
    """Requests and limits. Extended resources (GPUs) default the missing side to the other."""

    requests: ResourceAmounts | None = None
    limits: ResourceAmounts | None = None


class FieldRef(Model):
    field_path: Text
    api_version: Text | None = None


# What the API server's downward API serves (core/validation: validContainerResourceFieldPathExpressions
# plus hugepages); anything else, such as `limits.nvidia.com/gpu`, is refused at apply time.
_DOWNWARD_RESOURCE = re.compile(r"(limits|requests)\.(cpu|memory|ephemeral-storage|hugepages-[0-9A-Za-z]+)")


def _downward_resource(value: str) -> str:
    if not _DOWNWARD_RESOURCE.fullmatch(value):
        raise ValueError(
            f"resourceFieldRef cannot expose {value!r}: Kubernetes serves only limits.* and requests.* of "
            "cpu, memory, ephemeral-storage and hugepages-<size> (not extended resources such as GPUs)"
        )
    return value


class ResourceFieldRef(Model):
    resource: Annotated[Text, AfterValidator(_downward_resource)]
    container_name: DnsLabel | None = None
    divisor: Quantity | None = None


class EnvValue(Model):
    """An environment variable: a plain value, a key of a declared secret or config map, or a
    field of the pod (`fieldRef`) or of the container's resources (`resourceFieldRef`)."""

    value: FreeText | None = None
    secret: DnsSubdomain | None = None
    config_map: DnsSubdomain | None = None
    key: SecretKey | None = None
    optional: StrictBool | None = None
    field_ref: FieldRef | None = None
    resource_field_ref: ResourceFieldRef | None = None

    @model_validator(mode="after")
    def _one_source(self) -> EnvValue:
        if self.value is not None and (self.secret or self.key):
            raise ValueError("an env value takes either 'value' or 'secret' with 'key', not both")
        sources = [
            self.value is not None,
            self.secret is not None,
            self.config_map is not None,
            self.field_ref is not None,
            self.resource_field_ref is not None,
        ]
        if sum(sources) != 1 or ((self.secret or self.config_map) and not self.key):
            raise ValueError(
                "an env value needs 'value', or 'secret' and 'key', or 'configMap' and 'key', "
                "or 'fieldRef', or 'resourceFieldRef'"
            )
        if self.key is not None and not (self.secret or self.config_map):
            raise ValueError("'key' goes with 'secret' or 'configMap'")
        return self


class EnvFrom(Model):
    """Every key of a declared config map or secret as environment variables."""

    config_map: DnsSubdomain | None = None
    secret: DnsSubdomain | None = None
    prefix: Text | None = None

    @model_validator(mode="after")
    def _one_source(self) -> EnvFrom:
        if (self.config_map is None) == (self.secret is None):
            raise ValueError("an envFrom entry takes exactly one of 'configMap' and 'secret'")
        return self


class VolumeMount(Model):
    """A mount of one of the workload's volumes into an init container or sidecar."""

    name: DnsLabel
    mount_path: AbsPath
    read_only: StrictBool | None = Field(None, description="default: as the volume says")
    sub_path: Text | None = None


class ContainerFields(Model):
    """What every container has but its image (a workload managed elsewhere has none)."""

    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = Field(
        "Always",
        description="Always: the registry checks the pod's pull credentials each time, so a "
        "private image cached on a node is not reused by another tenant's pod",
    )
    command: list[FreeText] | None = None
    args: list[FreeText] | None = None
    working_dir: AbsPath | None = None
    env: dict[EnvName, EnvValue] = Field(default_factory=dict)
    env_from: list[EnvFrom] = Field(default_factory=empty_list)
    ports: list[Port] = Field(default_factory=empty_list)
    resources: Resources | None = None
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    lifecycle: Lifecycle | None = None


class Container(ContainerFields):
    """An init container or sidecar: a full container, hardened like the workload's own."""

    image: Image

    volume_mounts: list[VolumeMount] = Field(default_factory=empty_list)
