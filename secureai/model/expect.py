"""Expectations: what the posture must be, asserted in the spec and checked on the compiled output.

Each entry of `expect` states one fact a reviewer cares about (only these workloads read this
secret; nothing here reaches there; no API token in this namespace; this workload reaches
only these places). `validate` computes the posture from the compiled Plan and reports every
expectation it contradicts at the expectation, naming the grant or policy that breaks it.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from secureai.model.base import Model, empty_list, exactly_one
from secureai.model.names import Cidr, DnsLabel, DnsSubdomain, Fqdn, FreeText, SecretKey, VaultPath
from secureai.model.ports import Port


class Workloads(Model):
    """The workloads an expectation is about: one workload, or every workload of a namespace."""

    workload: DnsLabel | None = None
    namespace: DnsLabel | None = None

    @model_validator(mode="after")
    def _one(self) -> Workloads:
        exactly_one(self, ("workload", "namespace"), "a workload set")
        return self


class OnlyReaders(Model):
    """Nobody but `readers` can read the secret (its `key`, or every key), by any means."""

    secret: DnsSubdomain | None = None
    key: SecretKey | None = None
    vault: VaultPath | None = Field(None, description="a vaultSecrets path instead of a Kubernetes Secret")
    readers: list[DnsLabel] = Field(
        default_factory=empty_list, description="workloads allowed to read; empty: nobody"
    )

    @model_validator(mode="after")
    def _one(self) -> OnlyReaders:
        exactly_one(self, ("secret", "vault"), "onlyReaders")
        if self.key is not None and self.secret is None:
            raise ValueError("'key' goes with 'secret'")
        return self


class Unreachable(Model):
    """No workload of `from` can connect to a workload of `to` (on `ports`; empty: on any port)."""

    from_: Workloads = Field(alias="from")
    to: Workloads
    ports: list[Port] = Field(default_factory=empty_list)


class Destination(Model):
    """A place a workload may reach: workloads, or outside ones (a namespace, a CIDR, a domain)."""

    workload: DnsLabel | None = None
    namespace: DnsLabel | None = None
    cidr: Cidr | None = None
    fqdn: Fqdn | None = Field(None, description="a domain a cilium fqdn peer allows ('*.x.com' covers them)")
    ports: list[Port] = Field(default_factory=empty_list, description="empty: any port")

    @model_validator(mode="after")
    def _one(self) -> Destination:
        exactly_one(self, ("workload", "namespace", "cidr", "fqdn"), "a destination")
        return self


class ReachesOnly(Model):
    """`from` can connect to nothing but `to` (cluster DNS on port 53 aside)."""

    from_: Workloads = Field(alias="from")
    to: list[Destination] = Field(default_factory=empty_list)


class Expectation(Model):
    description: FreeText | None = None
    only_readers: OnlyReaders | None = None
    unreachable: Unreachable | None = None
    no_token_in: Workloads | None = Field(None, description="no pod of these workloads mounts an API token")
    reaches_only: ReachesOnly | None = None

    @model_validator(mode="after")
    def _one(self) -> Expectation:
        exactly_one(self, ("only_readers", "unreachable", "no_token_in", "reaches_only"), "an expectation")
        return self

    @property
    def kind(self) -> str:
        given = [f for f in KINDS if getattr(self, f) is not None]
        return KINDS[given[0]]


KINDS = {
    "only_readers": "onlyReaders",
    "unreachable": "unreachable",
    "no_token_in": "noTokenIn",
    "reaches_only": "reachesOnly",
}
