"""Namespace guardrails: a ResourceQuota and a LimitRange for each namespace with a `quota`.

The quota caps what the namespace's pods request together (`requests.*`, `limits.*`, extended
resources by `requests.` only, as Kubernetes allows), how many pods run and what its claims
request (`requests.storage`). The LimitRange gives containers that set no amounts the
namespace's defaults, so that a quota on cpu or memory does not refuse them.
"""

from __future__ import annotations

from secureai.compile.kubernetes.common import Manifest, key_of, resource
from secureai.compile.plan import Resource
from secureai.model.quota import Quota
from secureai.model.spec import Spec


def quota_name(spec: Spec) -> str:
    return f"{spec.project}-quota"


def defaults_name(spec: Spec) -> str:
    return f"{spec.project}-defaults"


def quota_hard(quota: Quota) -> dict[str, str]:
    hard: dict[str, str] = {}
    for kind, amounts in (("requests", quota.requests), ("limits", quota.limits)):
        for name, amount in amounts.items():
            hard[f"{kind}.{name}"] = str(amount)
    if quota.pods is not None:
        hard["pods"] = str(quota.pods)
    if quota.storage is not None:
        hard["requests.storage"] = str(quota.storage)
    return hard


def compile_quota(spec: Spec) -> list[Resource]:
    out: list[Resource] = []
    for namespace, ns in spec.namespaces.items():
        if ns.quota is None:
            continue
        source = ("namespaces", namespace, "quota")
        hard = quota_hard(ns.quota)
        if hard:
            body: Manifest = {"spec": {"hard": hard}}
            out.append(resource("v1", "ResourceQuota", quota_name(spec), namespace, body, source))
        limits = _limit_range(ns.quota)
        if limits:
            body = {"spec": {"limits": [limits]}}
            out.append(
                resource("v1", "LimitRange", defaults_name(spec), namespace, body, (*source, "defaults"))
            )
    return out


def _limit_range(quota: Quota) -> Manifest:
    if quota.defaults is None:
        return {}
    out: Manifest = {}
    if quota.defaults.limits:
        out["default"] = {k: str(v) for k, v in quota.defaults.limits.items()}
    if quota.defaults.requests:
        out["defaultRequest"] = {k: str(v) for k, v in quota.defaults.requests.items()}
    return {"type": "Container", **out} if out else {}


def quota_dependencies(spec: Spec, namespace: str) -> list[str]:
    """A workload's pods are created after its namespace's quota and defaults: a pod admitted
    before the LimitRange exists gets no defaults, and the quota then refuses its replacement."""
    ns = spec.namespaces.get(namespace)
    if ns is None or ns.quota is None:
        return []
    deps = []
    if quota_hard(ns.quota):
        deps.append(key_of("v1", "ResourceQuota", namespace, quota_name(spec)))
    if _limit_range(ns.quota):
        deps.append(key_of("v1", "LimitRange", namespace, defaults_name(spec)))
    return deps
