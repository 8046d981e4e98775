"""Map a Plan resource's type token to the Pulumi class that registers it, and its kwargs.

The table is data, not code: built-in Kubernetes API groups map to `pulumi_kubernetes`
submodules, any other Kubernetes group (Calico, other CRDs) goes through
`apiextensions.CustomResource`, and Vault tokens name their `pulumi_vault` module directly.
Submodules are imported only when a resource needs them: `pulumi_kubernetes` as a whole is
slow to import.

Kubernetes Plan properties are whole manifests; their top-level keys become the class's
snake_case kwargs (derived from the class signature, so nothing is guessed) while nested
values stay exactly as written: the SDK sends plain dicts through unchanged, so the
registered inputs equal the manifest.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

# API group (as in the type token) -> pulumi_kubernetes submodule. Groups without a dot and
# groups ending in ".k8s.io" are built-in; a built-in group missing here is an error rather
# than a silent CustomResource, so a typo cannot deploy as a CRD.
K8S_GROUP_MODULES: Mapping[str, str] = {
    "core": "core",
    "apps": "apps",
    "batch": "batch",
    "policy": "policy",
    "autoscaling": "autoscaling",
    "networking.k8s.io": "networking",
    "rbac.authorization.k8s.io": "rbac",
    "admissionregistration.k8s.io": "admissionregistration",
    "scheduling.k8s.io": "scheduling",
    "storage.k8s.io": "storage",
    "node.k8s.io": "node",
    "coordination.k8s.io": "coordination",
    "discovery.k8s.io": "discovery",
    "certificates.k8s.io": "certificates",
}

# Manifest keys the typed classes set themselves from their type token.
_TYPE_KEYS = ("apiVersion", "kind")

# Vault args that hold a JSON document: a mapping in the Plan is serialised here, after its
# secret leaves were resolved to Outputs, so secretness survives the encoding.
VAULT_JSON_ARGS = frozenset({"data_json"})

_K8S_TOKEN = re.compile(r"^kubernetes:(?P<group>[a-z0-9.-]+)/(?P<version>v[a-z0-9]+):(?P<kind>\w+)$")
_VAULT_TOKEN = re.compile(r"^vault:(?P<module>\w+)/(?P<member>\w+):(?P<cls>\w+)$")


class MappingError(ValueError):
    """A Plan resource has no Pulumi class, or properties that class does not accept."""


@dataclass(frozen=True)
class Target:
    """How to register one type token: the class, and how its kwargs are shaped."""

    token: str
    cls: type[Any]
    style: str  # "k8s" (typed manifest), "crd" (CustomResource) or "vault" (snake_case args)
    params: frozenset[str]


@cache
def target_for(token: str) -> Target:
    """The Pulumi class for a Plan type token; raises MappingError for unknown tokens."""
    if token.startswith("kubernetes:"):
        return _kubernetes_target(token)
    if token.startswith("vault:"):
        return _vault_target(token)
    raise MappingError(f"no Pulumi mapping for resource type {token!r} (known: kubernetes:*, vault:*)")


def _kubernetes_target(token: str) -> Target:
    match = _K8S_TOKEN.match(token)
    if match is None:
        raise MappingError(f"malformed Kubernetes type token {token!r}")
    group, version, kind = match["group"], match["version"], match["kind"]
    if _is_builtin_group(group):
        if group not in K8S_GROUP_MODULES:
            raise MappingError(f"unsupported Kubernetes API group {group!r} in {token!r}")
        module = f"pulumi_kubernetes.{K8S_GROUP_MODULES[group]}.{version}"
        return _typed_target(token, module, kind, "k8s")
    custom = importlib.import_module("pulumi_kubernetes.apiextensions").CustomResource
    return Target(token, custom, "crd", frozenset({"api_version", "kind", "metadata", "spec"}))


def _vault_target(token: str) -> Target:
    match = _VAULT_TOKEN.match(token)
    if match is None:
        raise MappingError(f"malformed Vault type token {token!r}")
    module = "pulumi_vault" if match["module"] == "index" else f"pulumi_vault.{match['module']}"
    return _typed_target(token, module, match["cls"], "vault")


def _typed_target(token: str, module_name: str, cls_name: str, style: str) -> Target:
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise MappingError(f"no Pulumi module {module_name} for {token!r}") from None
    cls = getattr(module, cls_name, None)
    # The class's own token must agree, or we would register something else than planned.
    if cls is None or getattr(cls, "pulumi_type", None) != token:
        raise MappingError(f"no Pulumi class for {token!r} in {module_name}")
    return Target(token, cls, style, _init_params(cls))


# Groups under k8s.io that Kubernetes itself does not serve: CRDs (sigs.k8s.io network-policy-api).
CRD_GROUPS_UNDER_K8S_IO = frozenset({"policy.networking.k8s.io"})


def _is_builtin_group(group: str) -> bool:
    if group in CRD_GROUPS_UNDER_K8S_IO:
        return False
    return "." not in group or group.endswith(".k8s.io")


def _init_params(cls: type[Any]) -> frozenset[str]:
    skip = {"__self__", "self", "resource_name", "opts", "__props__", "args"}
    params = inspect.signature(cls._internal_init).parameters
    return frozenset(p for p in params if p not in skip)


def camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def kwargs_for(target: Target, properties: Mapping[str, Any]) -> dict[str, Any]:
    """The constructor kwargs for `properties` (a manifest or Vault args)."""
    if target.style == "vault":
        return _checked(target, dict(properties))
    if target.style == "crd":
        api_version, kind = _crd_identity(target.token)
        rest = {camel_to_snake(k): v for k, v in properties.items() if k not in _TYPE_KEYS}
        return _checked(target, {"api_version": api_version, "kind": kind, **rest})
    _check_identity(target.token, properties)
    return _checked(target, {camel_to_snake(k): v for k, v in properties.items() if k not in _TYPE_KEYS})


def _checked(target: Target, kwargs: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(kwargs) - target.params)
    if unknown:
        raise MappingError(
            f"{target.token} does not accept {', '.join(unknown)}"
            f" (accepted: {', '.join(sorted(target.params))})"
        )
    return kwargs


def _crd_identity(token: str) -> tuple[str, str]:
    match = _K8S_TOKEN.match(token)
    assert match is not None  # target_for already matched it
    return f"{match['group']}/{match['version']}", match["kind"]


def _check_identity(token: str, manifest: Mapping[str, Any]) -> None:
    """apiVersion/kind in a manifest must agree with the token that chose the class."""
    match = _K8S_TOKEN.match(token)
    assert match is not None
    group = match["group"]
    expected = match["version"] if group == "core" else f"{group}/{match['version']}"
    api_version = manifest.get("apiVersion", expected)
    kind = manifest.get("kind", match["kind"])
    if (api_version, kind) != (expected, match["kind"]):
        raise MappingError(f"manifest says {api_version}/{kind}, but the type token is {token!r}")
