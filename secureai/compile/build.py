"""Assemble the Plan from the per-domain compilers, in a deterministic order."""

from __future__ import annotations

from secureai.compile.collisions import check_collisions
from secureai.compile.kubernetes import compile_kubernetes
from secureai.compile.kubernetes.unmanaged import unmanaged_pods
from secureai.compile.plan import Plan, Resource
from secureai.compile.pss import check_pod_security
from secureai.compile.vault import compile_vault
from secureai.diagnostics import Diagnostic, Result
from secureai.model.spec import Spec


def compile_spec(spec: Spec) -> Result[Plan]:
    diagnostics: list[Diagnostic] = []
    resources: list[Resource] = []
    for part in (compile_kubernetes(spec), compile_vault(spec)):
        diagnostics.extend(part.diagnostics)
        resources.extend(part.value or ())
    settings = {
        "kube_context": spec.kubernetes.context,
        "vault_address": spec.vault.address if spec.vault else None,
        "vault_provider": spec.vault.provider if spec.vault else "builtin",
        "vault_kv_mount": spec.vault.kv_mount if spec.vault else None,
        "vault_auth_mount": spec.vault.kubernetes_auth_mount if spec.vault else None,
    }
    plan = Plan(
        project=spec.project,
        environment=spec.environment,
        kubernetes_version=spec.kubernetes.version,
        resources=tuple(resources),
        settings=settings,
        unmanaged_pods=tuple(unmanaged_pods(spec)),
    )
    diagnostics.extend(check_collisions(plan))
    diagnostics.extend(check_pod_security(spec, plan))
    return Result(plan, diagnostics)
