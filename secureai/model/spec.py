"""The spec language, version 1, as pydantic models.

Conventions, so that a spec is hard to get subtly wrong:
- every model forbids unknown keys (answered with "did you mean");
- YAML keys are camelCase (the aliases); Python attributes are snake_case;
- collections are maps keyed by name, so a duplicate name is a YAML error and a reference
  is a plain string;
- alternatives ("exactly one of") are one model with optional fields and a check, never a
  pydantic union, so an error names one thing instead of every union member;
- booleans and whole numbers are strict (`yes`/`on` are not booleans here, `false` and `"10"`
  are not numbers);
- defaults are the secure choice: restricted pod security, default-deny networking,
  non-root, read-only root filesystem, no privilege escalation.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Strict,
    StrictBool,
    StrictStr,
    Tag,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from secureai.model.names import (
    AbsPath,
    Capability,
    Cidr,
    DnsLabel,
    DnsSubdomain,
    Duration,
    EnvName,
    Image,
    KubeVersion,
    Labels,
    LocalhostProfile,
    PortName,
    Quantity,
    SecretKey,
    Text,
    VaultGrant,
    VaultPath,
)

PodSecurityLevel = Literal["privileged", "baseline", "restricted"]
WorkloadKind = Literal["Pod", "Deployment", "StatefulSet", "Job", "CronJob"]
Protocol = Literal["TCP", "UDP", "SCTP"]
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
Verb = Literal[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "use",
    "bind",
    "escalate",
    "impersonate",
    "*",
]
# Whole numbers are strict: pydantic would take `true` as 1, `false` as 0 (`runAsUser: false`
# is root) and "10" or 10.0 as 10.
Int = Annotated[int, Strict()]
# Kubernetes keeps user and group ids and replica counts in 32 bits and refuses larger ones.
INT32_MAX = 2**31 - 1

SAFE_VOLUMES: list[VolumeType] = [
    "configMap",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
]


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        frozen=True,
        # Build validators once, for Spec, on first use: building every sub-model on its own
        # at import costs `secureai validate` ~20 ms of its 0.2 s budget.
        defer_build=True,
    )


def exactly_one(model: BaseModel, fields: tuple[str, ...], what: str) -> None:
    given = [f for f in fields if getattr(model, f) is not None]
    names = ", ".join(f"'{to_camel(f)}'" for f in fields)
    if len(given) != 1:
        found = ", ".join(f"'{to_camel(f)}'" for f in given) or "none"
        raise ValueError(f"{what} needs exactly one of {names}; found {found}")


# ----------------------------------------------------------------------------- target


class ClusterDns(Model):
    """Where cluster DNS runs, so default-deny egress can still reach it."""

    namespace: DnsLabel = "kube-system"
    pod_labels: Labels = Field(default_factory=lambda: {"k8s-app": "kube-dns"})
    cidrs: list[Cidr] = Field(default_factory=list, description="e.g. NodeLocal DNSCache 169.254.20.10/32")


class ApiServer(Model):
    cidrs: list[Cidr] = Field(min_length=1)
    port: Int = Field(443, ge=1, le=65535)


class KubernetesTarget(Model):
    version: KubeVersion = Field(description='Target minor version, e.g. "1.30".')
    context: Text | None = Field(None, description="kubeconfig context; default: KUBECONFIG's current one")
    network_plugin: Literal["kubernetes", "calico"] = "kubernetes"
    cluster_dns: ClusterDns = Field(default_factory=ClusterDns)
    api_server: ApiServer | None = None


class Namespace(Model):
    pod_security: PodSecurityLevel = "restricted"
    network: Literal["default-deny", "open"] = "default-deny"
    labels: Labels = Field(default_factory=dict)


# ----------------------------------------------------------------------------- values


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
        return self


def _source_or_scalar(value: Any) -> str:
    return "source" if isinstance(value, dict | ValueSource) else "scalar"


def _plain_scalar(value: Any) -> bool | int | float | str:
    """A Vault data value: one scalar, its type kept (loader numbers lose their source text)."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    got = "nothing" if value is None else "a list" if isinstance(value, list) else type(value).__name__
    raise ValueError(
        f"a Vault value is a string, number or boolean, or a mapping with one of fromEnv, "
        f"fromFile, generate, fromVault, literal; got {got}"
    )


Scalar = Annotated[
    bool | int | float | str,
    PlainValidator(_plain_scalar),
    WithJsonSchema({"type": ["string", "number", "integer", "boolean"]}),
]
VaultValue = Annotated[
    Annotated[ValueSource, Tag("source")] | Annotated[Scalar, Tag("scalar")],
    Discriminator(_source_or_scalar),
]


class Secret(Model):
    namespace: DnsLabel
    type: Text = "Opaque"
    data: dict[SecretKey, ValueSource] = Field(min_length=1)
    immutable: StrictBool = False


class VaultSecret(Model):
    """A KV v2 secret. Numbers and booleans keep their types."""

    data: dict[SecretKey, VaultValue] = Field(min_length=1)


# ----------------------------------------------------------------------------- pods


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
    allowed_capabilities: list[Capability] = Field(default_factory=list)
    volumes: list[VolumeType] = Field(default_factory=lambda: list(SAFE_VOLUMES))
    allowed_host_paths: list[HostPath] = Field(default_factory=list)
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


_PORT = re.compile(
    r"^(?:(?P<name>[a-z0-9]([-a-z0-9]*[a-z0-9])?):)?(?P<port>[0-9]+)(?:/(?P<proto>TCP|UDP|SCTP))?$"
)


def _parse_port(value: Any) -> Any:
    """`5432`, `"5432/TCP"` and `"postgres:5432/TCP"` are shorthands for the mapping form."""
    value = getattr(value, "raw", value)
    if isinstance(value, int) and not isinstance(value, bool):
        return {"port": value}
    if isinstance(value, str):
        match = _PORT.match(value)
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
            },
        },
    ]
}
Port = Annotated[PortSpec, BeforeValidator(_parse_port), WithJsonSchema(_PORT_SCHEMA)]


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


class ResourceAmounts(Model):
    cpu: Quantity | None = None
    memory: Quantity | None = None
    ephemeral_storage: Quantity | None = Field(None, alias="ephemeral-storage")


class Resources(Model):
    requests: ResourceAmounts | None = None
    limits: ResourceAmounts | None = None


class WorkloadVault(Model):
    read: list[VaultGrant] = Field(min_length=1)


class Workload(Model):
    namespace: DnsLabel
    kind: WorkloadKind = "Deployment"
    image: Image
    command: list[Text] | None = None
    args: list[Text] | None = None
    replicas: Int | None = Field(None, ge=0, le=INT32_MAX)
    schedule: Text | None = None
    labels: Labels = Field(default_factory=dict)
    security_profile: DnsLabel | None = None
    service_account: DnsSubdomain | None = None
    run_as_user: Int | None = Field(None, ge=0, le=INT32_MAX)
    run_as_group: Int | None = Field(None, ge=0, le=INT32_MAX)
    fs_group: Int | None = Field(None, ge=0, le=INT32_MAX)
    env: dict[EnvName, EnvValue] = Field(default_factory=dict)
    volumes: dict[DnsLabel, Volume] = Field(default_factory=dict)
    ports: list[Port] = Field(default_factory=list)
    resources: Resources | None = None
    vault: WorkloadVault | None = None


# ----------------------------------------------------------------------------- network


class Peer(Model):
    """One end of an allowed flow: pods (by labels, in a namespace), a namespace, a CIDR or the API server."""

    pods: Labels | None = None
    namespace: DnsLabel | None = None
    namespace_labels: Labels | None = None
    cidr: Cidr | None = None
    except_: list[Cidr] = Field(default_factory=list, alias="except")
    api_server: StrictBool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Peer:
        kinds = [
            self.pods is not None or self.namespace is not None or self.namespace_labels is not None,
            self.cidr is not None,
            self.api_server,
        ]
        if sum(kinds) != 1:
            raise ValueError(
                "a peer is one of: 'pods' (with optional 'namespace' or 'namespaceLabels'), "
                "'namespace', 'namespaceLabels', 'cidr' (with optional 'except'), or 'apiServer: true'"
            )
        if self.namespace is not None and self.namespace_labels is not None:
            raise ValueError("a peer takes 'namespace' or 'namespaceLabels', not both")
        if self.except_ and self.cidr is None:
            raise ValueError("'except' goes with 'cidr'")
        return self


class NetworkRule(Model):
    """An allowed flow: traffic from any `from` peer to any `to` peer, on `ports` (all if empty).

    One rule compiles to both ends: ingress on the receiving pods and egress on the sending
    pods, so that a default-deny namespace lets exactly this flow through.
    """

    namespace: DnsLabel = Field(description="namespace of peers that name no namespace")
    from_: list[Peer] = Field(min_length=1, alias="from")
    to: list[Peer] = Field(min_length=1)
    ports: list[Port] = Field(default_factory=list)


class VaultSettings(Model):
    address: Text | None = Field(None, description="default: VAULT_ADDR")
    kv_mount: DnsLabel = "secret"
    kubernetes_auth_mount: DnsLabel = "kubernetes"
    audience: Text = "vault"
    token_ttl: Duration = "15m"
    token_max_ttl: Duration = "1h"
    network: list[Peer] = Field(
        default_factory=list,
        description="where Vault is (CIDRs, or pods/namespace in the cluster), so that its readers "
        "in default-deny namespaces may reach it",
    )
    port: Int = Field(8200, ge=1, le=65535)


# ----------------------------------------------------------------------------- access


class AccessRule(Model):
    verbs: list[Verb] = Field(min_length=1)
    resources: list[Text] = Field(min_length=1)
    api_groups: list[Text] = Field(default_factory=lambda: [""])
    names: list[DnsSubdomain] = Field(default_factory=list)


class Access(Model):
    """A service account and what it may do: least privilege, secrets always by name."""

    namespace: DnsLabel
    can: list[AccessRule] = Field(default_factory=list)
    cluster_wide: StrictBool = False
    allow_secret_listing: StrictBool = Field(
        False, description="permit list/watch on secrets, which return every secret's contents"
    )


# ----------------------------------------------------------------------------- spec


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
    vault_secrets: dict[VaultPath, VaultSecret] = Field(default_factory=dict)
    # Profile names become a label value on pods (63 characters at most): a label, not a subdomain.
    security_profiles: dict[DnsLabel, SecurityProfile] = Field(default_factory=dict)
    workloads: dict[DnsLabel, Workload] = Field(default_factory=dict)
    network: dict[DnsLabel, NetworkRule] = Field(default_factory=dict)
    access: dict[DnsSubdomain, Access] = Field(default_factory=dict)

    @property
    def minor(self) -> int:
        return int(self.kubernetes.version.split(".")[1])
