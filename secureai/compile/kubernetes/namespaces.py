"""Namespaces, labelled for Pod Security Admission at the spec's level, pinned to the target."""

from __future__ import annotations

from secureai.compile.kubernetes.common import resource
from secureai.compile.kubernetes.signatures import signature_labels
from secureai.compile.plan import Resource
from secureai.model.labels import NAMESPACE_NAME, managed
from secureai.model.spec import Spec

PSA_MODES = ("enforce", "audit", "warn")


def psa_labels(level: str, version: str) -> dict[str, str]:
    """Enforce, audit and warn at one level; the version pin keeps a cluster upgrade from
    silently tightening (or loosening) the standard under running workloads."""
    labels: dict[str, str] = {}
    for mode in PSA_MODES:
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = f"v{version}"
    return labels


def _labels(spec: Spec, name: str) -> dict[str, str]:
    ns = spec.namespaces[name]
    # User labels first: the Pod Security labels are the spec's `podSecurity`, not overridable.
    return {
        **ns.labels,
        **psa_labels(ns.pod_security, spec.kubernetes.version),
        **signature_labels(spec, name),
    }


def namespace_labels(spec: Spec, name: str) -> dict[str, str]:
    """The labels a declared namespace has in the cluster (the name label is the API's own)."""
    return {**managed(_labels(spec, name)), NAMESPACE_NAME: name}


def compile_namespaces(spec: Spec) -> list[Resource]:
    return [
        resource("v1", "Namespace", name, None, {}, ("namespaces", name), labels=_labels(spec, name))
        for name in spec.namespaces
    ]
