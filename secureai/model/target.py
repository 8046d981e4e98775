"""The target cluster and its namespaces: version, context, DNS, API server, Pod Security level."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from secureai.model.base import Int, Model, empty_list
from secureai.model.names import Cidr, DnsLabel, KubeVersion, Labels, Text

PodSecurityLevel = Literal["privileged", "baseline", "restricted"]


class ClusterDns(Model):
    """Where cluster DNS runs, so default-deny egress can still reach it."""

    namespace: DnsLabel = "kube-system"
    pod_labels: Labels = Field(default_factory=lambda: {"k8s-app": "kube-dns"})
    cidrs: list[Cidr] = Field(
        default_factory=empty_list, description="e.g. NodeLocal DNSCache 169.254.20.10/32"
    )


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
