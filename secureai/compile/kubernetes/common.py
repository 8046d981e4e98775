"""Shared helpers for the Kubernetes compilers: type tokens, metadata and labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secureai.compile.naming import logical_name
from secureai.compile.plan import Resource
from secureai.diagnostics import SpecPath
from secureai.model.labels import NAMESPACE_NAME, managed

Manifest = dict[str, Any]


def type_token(api_version: str, kind: str) -> str:
    """`apps/v1` + `Deployment` -> `kubernetes:apps/v1:Deployment` (core group is `core`)."""
    group, _, version = api_version.rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{kind}"


def key_of(api_version: str, kind: str, namespace: str | None, name: str) -> str:
    """The Plan key (`type::name`) of a resource, for `depends_on`."""
    return f"{type_token(api_version, kind)}::{logical_name(namespace, name)}"


def namespace_key(namespace: str) -> str:
    return key_of("v1", "Namespace", None, namespace)


def metadata(
    name: str,
    namespace: str | None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> Manifest:
    meta: Manifest = {"name": name, "labels": managed(labels)}
    if namespace is not None:
        meta["namespace"] = namespace
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def resource(
    api_version: str,
    kind: str,
    name: str,
    namespace: str | None,
    body: Mapping[str, Any],
    source: SpecPath,
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    depends_on: tuple[str, ...] = (),
    logical: str | None = None,
) -> Resource:
    """A Plan resource whose properties are the whole manifest.

    `logical` overrides the object name in the logical name, for objects whose Kubernetes
    name carries a project prefix but whose Plan identity should not.
    """
    manifest: Manifest = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": metadata(name, namespace, labels, annotations),
        **body,
    }
    if namespace is not None:
        depends_on = (namespace_key(namespace), *depends_on)
    return Resource(
        type=type_token(api_version, kind),
        name=logical_name(namespace, logical or name),
        properties=manifest,
        depends_on=tuple(dict.fromkeys(depends_on)),
        source=source,
    )


def match_name(namespace: str) -> Manifest:
    """A namespaceSelector for one namespace, by the label the API server sets (1.21+)."""
    return {"matchLabels": {NAMESPACE_NAME: namespace}}
