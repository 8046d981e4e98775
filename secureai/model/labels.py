"""The labels and paths secureai puts on what it creates: one definition for compile and checks."""

from __future__ import annotations

from collections.abc import Mapping

from secureai.model.spec import Workload

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
