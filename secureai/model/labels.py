"""The labels and paths secureai puts on what it creates: one definition for compile and checks."""

from __future__ import annotations

from collections.abc import Mapping

from secureai.model.spec import Spec, Workload

MANAGED_BY = "app.kubernetes.io/managed-by"
APP_NAME = "app.kubernetes.io/name"
PROFILE_LABEL = "secureai.dev/profile"
NAMESPACE_NAME = "kubernetes.io/metadata.name"
SECUREAI = "secureai"
VAULT_TOKEN_DIR = "/var/run/secrets/vault"  # where a Vault reader's projected token is mounted


def managed(labels: Mapping[str, str] | None = None) -> dict[str, str]:
    """`labels` plus the managed-by label every secureai object carries."""
    return {**(labels or {}), MANAGED_BY: SECUREAI}


def pod_labels(name: str, w: Workload) -> dict[str, str]:
    """The labels every pod of a workload carries; ours win over the user's for our keys.

    Pods created elsewhere (`managedBy`) carry only what their chart sets: the labels the
    spec selects them by.
    """
    if w.external:
        return dict(w.labels)
    labels = {**w.labels, APP_NAME: name}
    if w.security_profile is not None:
        labels[PROFILE_LABEL] = w.security_profile
    return managed(labels)


def pod_selector(name: str, w: Workload) -> dict[str, str]:
    """The labels that select exactly a workload's pods: our name label, or the chart's labels."""
    return dict(w.labels) if w.external else {APP_NAME: name}


def pods_by_namespace(spec: Spec) -> dict[str, list[tuple[str, Workload, dict[str, str]]]]:
    """Each namespace's workloads with their pod labels, for the spec being compiled.

    Network rules and checks ask "which pods in namespace N carry labels L" once per peer and
    port; scanning every workload each time made a 10,000-workload spec quadratic. The index
    is kept for the last spec asked about (a run compiles one spec after another), and holds
    that spec so its id cannot be reused while the entry lives.
    """
    return _index(spec).by_namespace


def selected_pods(spec: Spec, namespace: str, labels: Mapping[str, str]) -> list[tuple[str, Workload]]:
    """The workloads of `namespace` whose pods carry all of `labels` (each distinct selector is
    answered once: many rules repeat the same peer)."""
    index = _index(spec)
    key = (namespace, frozenset(labels.items()))
    found = index.selected.get(key)
    if found is None:
        wanted = labels.items()
        pods = index.by_namespace.get(namespace, ())
        found = [(name, w) for name, w, have in pods if wanted <= have.items()]
        index.selected[key] = found
    return found


class _Index:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.by_namespace: dict[str, list[tuple[str, Workload, dict[str, str]]]] = {}
        for name, w in spec.workloads.items():
            self.by_namespace.setdefault(w.namespace, []).append((name, w, pod_labels(name, w)))
        self.selected: dict[tuple[str, frozenset[tuple[str, str]]], list[tuple[str, Workload]]] = {}


def _index(spec: Spec) -> _Index:
    hit = _LAST.get("index")
    if hit is None or hit.spec is not spec:
        hit = _Index(spec)
        _LAST["index"] = hit
    return hit


_LAST: dict[str, _Index] = {}
