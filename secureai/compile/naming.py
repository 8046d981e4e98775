"""Names the compilers share, so Kubernetes and Vault resources agree on who is who."""

from __future__ import annotations

from secureai.model.spec import Spec


def service_account_of(spec: Spec, workload: str) -> str:
    """A workload runs as the account it names, else as its own account named after it."""
    return spec.workloads[workload].service_account or workload


def logical_name(namespace: str | None, name: str) -> str:
    """Pulumi resource name: stable, derived from spec names only."""
    return f"{namespace}/{name}" if namespace else name


def vault_policy_name(spec: Spec, workload: str) -> str:
    return f"{spec.project}-{spec.workloads[workload].namespace}-{workload}"
