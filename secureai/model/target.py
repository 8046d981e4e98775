"""The target cluster and its namespaces: version, context, DNS, API server, Pod Security level."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from secureai.model.base import Int, Model, empty_list
from secureai.model.images import ImagePolicy
from secureai.model.names import Cidr, DnsLabel, KubeVersion, Labels, Text
from secureai.model.quota import Quota

PodSecurityLevel = Literal["privileged", "baseline", "restricted"]


def _kube_dns_labels() -> dict[str, str]:
    return {"k8s-app": "kube-dns"}


class ClusterDns(Model):
    """Where cluster DNS runs, so default-deny egress can still reach it."""

    namespace: DnsLabel = "kube-system"
    pod_labels: Labels = Field(default_factory=_kube_dns_labels)
    cidrs: list[Cidr] = Field(
        default_factory=empty_list, description="e.g. NodeLocal DNSCache 169.254.20.10/32"
    )


class ApiServer(Model):
    cidrs: list[Cidr] = Field(min_length=1)
    port: Int = Field(443, ge=1, le=65535)


class AdminNetworkPolicy(Model):
    """The admin tier (sigs.k8s.io network-policy-api, `policy.networking.k8s.io/v1alpha1`):
    cross-namespace traffic between the spec's namespaces denied by AdminNetworkPolicies, which no
    NetworkPolicy overrides, except the declared flows."""

    priority: Int = Field(
        ge=0,
        le=999,
        description="the Pass policies' priority (0 is checked first); the Deny policies take "
        "priority + 1. Unique in the cluster: two AdminNetworkPolicies of one priority that match "
        "the same traffic are applied in an undefined order",
    )


class KubernetesTarget(Model):
    version: KubeVersion = Field(description='Target minor version, e.g. "1.30".')
    context: Text | None = Field(None, description="kubeconfig context; default: KUBECONFIG's current one")
    network_plugin: Literal["kubernetes", "calico", "cilium"] = Field(
        "kubernetes",
        description="what enforces the network rules: kubernetes (NetworkPolicies), calico "
        "(NetworkPolicies and a GlobalNetworkPolicy backstop), cilium (CiliumNetworkPolicies "
        "instead of NetworkPolicies; fqdn peers)",
    )
    cluster_dns: ClusterDns = Field(default_factory=ClusterDns)
    api_server: ApiServer | None = None
    admin_network_policy: AdminNetworkPolicy | None = Field(
        None,
        description="opt-in: AdminNetworkPolicies that keep the spec's cross-namespace denies even "
        "against a namespace's own NetworkPolicies; needs the network-policy-api CRDs and a CNI "
        "that enforces them",
    )


class Namespace(Model):
    pod_security: PodSecurityLevel = "restricted"
    network: Literal["default-deny", "open"] = "default-deny"
    labels: Labels = Field(default_factory=dict)
    images: ImagePolicy | None = Field(
        None, description="which images its pods may run (digest, registries), enforced by the cluster"
    )
    quota: Quota | None = Field(None, description="a ResourceQuota and container defaults (LimitRange)")
