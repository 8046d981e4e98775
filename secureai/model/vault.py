"""Vault: the server settings and the KV v2 secrets the spec writes (delivery: `vault_delivery`)."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, PlainValidator, Tag, WithJsonSchema

from secureai.model.base import Int, Model, empty_list
from secureai.model.names import DnsLabel, Duration, SecretKey, Text
from secureai.model.network import Peer
from secureai.model.secrets import ValueSource
from secureai.model.vault_delivery import ExternalSecrets, VaultCa, VaultInjector, WorkloadVault


def _source_or_scalar(value: Any) -> str:
    return "source" if isinstance(value, dict | ValueSource) else "scalar"


def _plain_scalar(value: Any) -> bool | int | float | str:
    """A Vault data value: one scalar, its type kept (loader numbers lose their source text)."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            # JSON has no NaN or infinity: Vault would be sent text it cannot parse.
            raise ValueError(
                "NaN and infinities are not numbers Vault can store; quote the value to store text"
            )
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


class VaultSecret(Model):
    """A KV v2 secret. Numbers and booleans keep their types."""

    data: dict[SecretKey, VaultValue] = Field(min_length=1)


class VaultSettings(Model):
    address: Text | None = Field(None, description="default: VAULT_ADDR")
    provider: Literal["builtin", "pulumi-vault"] = Field(
        "builtin",
        description="how `apply` writes Vault: `builtin` (needs no plugin) "
        "or the `pulumi-vault` provider plugin",
    )
    pod_address: Text | None = Field(
        None, description="the address pods (agents, External Secrets) reach Vault at; default: address"
    )
    kv_mount: DnsLabel = "secret"
    kubernetes_auth_mount: DnsLabel = "kubernetes"
    audience: Text = "vault"
    token_ttl: Duration = "15m"
    token_max_ttl: Duration = "1h"
    network: list[Peer] = Field(
        default_factory=empty_list,
        description="where Vault is (CIDRs, or pods/namespace in the cluster), so that its readers "
        "in default-deny namespaces may reach it",
    )
    port: Int = Field(8200, ge=1, le=65535)
    ca_cert: VaultCa | None = Field(
        None, description="Vault's CA (https, private CA) for agents, External Secrets and `none` readers"
    )
    injector: VaultInjector | None = Field(None, description="the cluster runs the Vault Agent Injector")
    external_secrets: ExternalSecrets | None = Field(
        None, description="the cluster runs the External Secrets Operator"
    )

    @property
    def address_for_pods(self) -> str | None:
        return self.pod_address or self.address


__all__ = ["ExternalSecrets", "VaultCa", "VaultInjector", "WorkloadVault"]
