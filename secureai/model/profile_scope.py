"""Which security profile governs each workload on the target, the implicit one included.

Below 1.25 PodSecurityPolicy admission checks every pod, and from 1.28 the admission policy
requires every pod of a namespace that uses profiles to carry an allowed profile. Either way a
workload without a profile would never be admitted, so it runs under the implicit restricted
profile `secureai-default` (the model's defaults, which its pod spec already follows).
Checks and compilers both ask here, so what validate checks is what the cluster enforces.
"""

from __future__ import annotations

from secureai.model.spec import Spec
from secureai.model.versions import PSP_REMOVED, VAP_BETA

IMPLICIT_PROFILE = "secureai-default"


def profile_namespaces(spec: Spec) -> set[str]:
    """Namespaces whose pods must all run under a profile (empty where nothing enforces one)."""
    if spec.minor < PSP_REMOVED:
        return {w.namespace for w in spec.workloads.values()}
    if spec.minor >= VAP_BETA:
        return {w.namespace for w in spec.workloads.values() if w.security_profile is not None}
    return set()


def effective_profile(spec: Spec, workload: str, namespaces: set[str] | None = None) -> str | None:
    """The profile a workload's pods carry: its own, the implicit one, or none."""
    w = spec.workloads[workload]
    own: str | None = w.security_profile
    if own is not None:
        return own
    if w.namespace in (profile_namespaces(spec) if namespaces is None else namespaces):
        return IMPLICIT_PROFILE
    return None
