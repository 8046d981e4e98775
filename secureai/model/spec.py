"""The spec language, version 1: the `Spec` root, composed of one model module per concern.

The concerns live in their own modules (target, secrets, security, ports, containers, storage,
workloads, network, vault, access); their models are re-exported here so that
`from secureai.model.spec import X` keeps working.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from secureai.model.access import Access, AccessRule, Verb
from secureai.model.base import INT32_MAX, Int, Model, empty_list, exactly_one
from secureai.model.configmaps import ConfigMap
from secureai.model.containers import (
    Container,
    ContainerFields,
    EnvFrom,
    EnvValue,
    ResourceAmounts,
    Resources,
)
from secureai.model.expect import Expectation
from secureai.model.include import Include
from secureai.model.names import DnsLabel, DnsSubdomain, VaultPath
from secureai.model.network import NetworkRule, Peer
from secureai.model.ports import Port, PortSpec, Protocol
from secureai.model.secrets import Generate, Secret, ValueSource, VaultRef
from secureai.model.security import SAFE_VOLUMES, HostPath, SecurityProfile, VolumeType
from secureai.model.storage import EmptyDir, Volume
from secureai.model.target import ApiServer, ClusterDns, KubernetesTarget, Namespace, PodSecurityLevel
from secureai.model.vault import Scalar, VaultSecret, VaultSettings, VaultValue, WorkloadVault
from secureai.model.workloads import HardeningException, Workload, WorkloadKind


def _whole_number(value: Any) -> Any:
    """`version: true` or `1.0` is not the number 1, though Python compares them equal."""
    if isinstance(value, bool | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


class Spec(Model):
    version: Annotated[Literal[1], BeforeValidator(_whole_number)]
    project: DnsLabel
    environment: DnsLabel = "dev"
    kubernetes: KubernetesTarget
    vault: VaultSettings | None = None
    namespaces: dict[DnsLabel, Namespace] = Field(default_factory=dict)
    secrets: dict[DnsSubdomain, Secret] = Field(default_factory=dict)
    config_maps: dict[DnsSubdomain, ConfigMap] = Field(default_factory=dict)
    vault_secrets: dict[VaultPath, VaultSecret] = Field(default_factory=dict)
    # Profile names become a label value on pods (63 characters at most): a label, not a subdomain.
    security_profiles: dict[DnsLabel, SecurityProfile] = Field(default_factory=dict)
    workloads: dict[DnsLabel, Workload] = Field(default_factory=dict)
    network: dict[DnsLabel, NetworkRule] = Field(default_factory=dict)
    access: dict[DnsSubdomain, Access] = Field(default_factory=dict)
    expect: dict[DnsLabel, Expectation] = Field(
        default_factory=dict, description="assertions on the compiled posture, checked by validate"
    )
    include: list[Include] = Field(
        default_factory=empty_list, description="files holding the teams' parts of this spec (root spec only)"
    )

    @property
    def minor(self) -> int:
        return int(self.kubernetes.version.split(".")[1])


__all__ = [
    "INT32_MAX",
    "SAFE_VOLUMES",
    "Access",
    "AccessRule",
    "ApiServer",
    "ClusterDns",
    "ConfigMap",
    "Container",
    "ContainerFields",
    "EmptyDir",
    "EnvFrom",
    "EnvValue",
    "Generate",
    "HardeningException",
    "HostPath",
    "Include",
    "Int",
    "KubernetesTarget",
    "Model",
    "Namespace",
    "NetworkRule",
    "Peer",
    "PodSecurityLevel",
    "Port",
    "PortSpec",
    "Protocol",
    "ResourceAmounts",
    "Resources",
    "Scalar",
    "Secret",
    "SecurityProfile",
    "Spec",
    "ValueSource",
    "VaultRef",
    "VaultSecret",
    "VaultSettings",
    "VaultValue",
    "Verb",
    "Volume",
    "VolumeType",
    "Workload",
    "WorkloadKind",
    "WorkloadVault",
    "exactly_one",
]
