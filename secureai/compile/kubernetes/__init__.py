"""Kubernetes compilation: the spec's Kubernetes resources, hardened, in apply order.

Order: namespaces, cluster-scoped profile policies, service accounts, secrets, RBAC, network
policies, workloads; within a group, spec order. Pure: no I/O, no Pulumi.
"""

from __future__ import annotations

from secureai.compile.kubernetes.admin_tier import compile_admin_tier
from secureai.compile.kubernetes.calico import compile_calico
from secureai.compile.kubernetes.cilium import compile_cilium
from secureai.compile.kubernetes.configmaps import compile_config_maps
from secureai.compile.kubernetes.images import compile_images
from secureai.compile.kubernetes.namespaces import compile_namespaces
from secureai.compile.kubernetes.network import compile_network, network_diagnostics
from secureai.compile.kubernetes.profiles import (
    compile_profile_policies,
    compile_profile_rbac,
    with_implicit_profile,
)
from secureai.compile.kubernetes.quota import compile_quota
from secureai.compile.kubernetes.rbac import compile_access, compile_service_accounts
from secureai.compile.kubernetes.secrets import compile_secrets
from secureai.compile.kubernetes.signatures import compile_signatures
from secureai.compile.kubernetes.vault_delivery import compile_vault_delivery
from secureai.compile.kubernetes.vault_egress import compile_vault_egress, vault_egress_diagnostics
from secureai.compile.kubernetes.workloads import compile_workloads
from secureai.compile.plan import Resource
from secureai.diagnostics import Result
from secureai.model.spec import Spec


def compile_kubernetes(spec: Spec) -> Result[list[Resource]]:
    spec = with_implicit_profile(spec)
    workloads, diagnostics = compile_workloads(spec)
    resources = [
        *compile_namespaces(spec),
        *compile_quota(spec),
        *compile_profile_policies(spec),
        *compile_images(spec),
        *compile_signatures(spec),
        *compile_service_accounts(spec),
        *compile_secrets(spec),
        *compile_vault_delivery(spec),
        *compile_config_maps(spec),
        *compile_access(spec),
        *compile_profile_rbac(spec),
        *compile_network(spec),
        *compile_vault_egress(spec),
        *compile_calico(spec),
        *compile_cilium(spec),
        *compile_admin_tier(spec),
        *workloads,
    ]
    return Result(resources, [*network_diagnostics(spec), *vault_egress_diagnostics(spec), *diagnostics])


__all__ = ["compile_kubernetes"]
