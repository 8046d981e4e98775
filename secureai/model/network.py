"""Allowed network flows: peers (pods, namespaces, CIDRs, the API server) and rules between them."""

from __future__ import annotations

from pydantic import Field, StrictBool, model_validator

from secureai.model.base import Model, empty_list
from secureai.model.names import Cidr, DnsLabel, Fqdn, Labels
from secureai.model.ports import Port


class Peer(Model):
    """One end of an allowed flow: pods (by labels, in a namespace), a namespace, a CIDR, the API
    server, or (a destination only, on the cilium backend) a domain name."""

    pods: Labels | None = None
    namespace: DnsLabel | None = None
    namespace_labels: Labels | None = None
    cidr: Cidr | None = None
    except_: list[Cidr] = Field(default_factory=empty_list, alias="except")
    api_server: StrictBool = False
    fqdn: Fqdn | None = Field(
        None,
        description="a domain ('huggingface.co') or '*.' and one ('*.s3.amazonaws.com'); "
        "a 'to' peer on kubernetes.networkPlugin: cilium only",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Peer:
        kinds = [
            self.pods is not None or self.namespace is not None or self.namespace_labels is not None,
            self.cidr is not None,
            self.api_server,
            self.fqdn is not None,
        ]
        if sum(kinds) != 1:
            raise ValueError(
                "a peer is one of: 'pods' (with optional 'namespace' or 'namespaceLabels'), "
                "'namespace', 'namespaceLabels', 'cidr' (with optional 'except'), "
                "'apiServer: true', or 'fqdn'"
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

    # Needed only by `pods` peers that name no namespace (checked with the peer's position).
    namespace: DnsLabel | None = Field(
        None, description="namespace of pods peers that name none (not needed when every peer names its own)"
    )
    from_: list[Peer] = Field(min_length=1, alias="from")
    to: list[Peer] = Field(min_length=1)
    ports: list[Port] = Field(default_factory=empty_list)
