"""Security profiles: what PodSecurityPolicy said, with the locked-down choice as every default."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, model_validator

from secureai.model.base import Model, empty_list
from secureai.model.names import AbsPath, Capability, LocalhostProfile

VolumeType = Literal[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "hostPath",
    "nfs",
    "persistentVolumeClaim",
    "projected",
    "secret",
]

SAFE_VOLUMES: list[VolumeType] = [
    "configMap",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
]


def _safe_volumes() -> list[VolumeType]:
    return list(SAFE_VOLUMES)


class HostPath(Model):
    path_prefix: AbsPath
    read_only: StrictBool = True


class SecurityProfile(Model):
    """What the seeds' PodSecurityPolicies said, with secure defaults."""

    privileged: StrictBool = False
    allow_privilege_escalation: StrictBool = False
    run_as_non_root: StrictBool = True
    read_only_root_filesystem: StrictBool = True
    host_network: StrictBool = False
    host_pid: StrictBool = Field(False, alias="hostPID")
    host_ipc: StrictBool = Field(False, alias="hostIPC")
    allowed_capabilities: list[Capability] = Field(default_factory=empty_list)
    volumes: list[VolumeType] = Field(default_factory=_safe_volumes)
    allowed_host_paths: list[HostPath] = Field(default_factory=empty_list)
    seccomp_profile: Literal["RuntimeDefault", "Localhost"] = "RuntimeDefault"
    seccomp_localhost_profile: LocalhostProfile | None = Field(
        None, description="with Localhost: the profile file, relative to the kubelet's seccomp directory"
    )

    @model_validator(mode="after")
    def _localhost_file(self) -> SecurityProfile:
        if self.seccomp_localhost_profile is not None and self.seccomp_profile != "Localhost":
            raise ValueError("'seccompLocalhostProfile' goes with 'seccompProfile: Localhost'")
        return self

    def localhost_profile_path(self, name: str) -> str:
        """The file a Localhost profile reads: as the spec says, else `secureai/<profile>.json`."""
        return self.seccomp_localhost_profile or f"secureai/{name}.json"
