"""The Plan: provider-neutral resources that render and the Pulumi program both consume.

A Plan is what the spec *means* once compiled, with no I/O and no Pulumi in it, so that the
manifests on disk and the resources Pulumi registers cannot disagree.

- `type` is the Pulumi type token (`kubernetes:apps/v1:Deployment`,
  `vault:kv/secretV2:SecretV2`); render and the Pulumi emitter both dispatch on it.
- `name` is the stable logical name (Pulumi resource name), derived only from spec entry
  names, so renaming one entry never replaces unrelated resources.
- `properties`: for Kubernetes, the whole manifest (apiVersion, kind, metadata, ...); for
  Vault, the resource's arguments in the provider's snake_case.
- `depends_on` holds the `key`s (`type::name`) of the resources that must exist first.
- Secret values are never in a Plan. Where one belongs stands a `SecretValue` leaf that says
  where the value comes from; whoever needs the value (Pulumi, or render with
  `--include-secret-values`) resolves it at the last moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from secureai.diagnostics import SpecPath

PropertyPath = tuple[str | int, ...]
# The only resource types a SecretValue is placed in (Kubernetes Secrets, Vault KV data). A test
# holds every example's Plan to it, so a pass that looks only for secret values can skip the
# other manifests (at 10,000 workloads, the walk of every manifest took 0.4 s of validate).
SECRET_TYPES = frozenset({"kubernetes:core/v1:Secret", "vault:kv/secretV2:SecretV2"})


@dataclass(frozen=True)
class SecretValue:
    """A placeholder for a secret: where its value comes from, never the value itself.

    `source` is one of `env`, `file`, `generate`, `vault`, `literal`; `ref` says which
    (variable name, file path relative to the spec, `<path>#<key>`, generator key, or for a
    literal the spec location).
    `spec_path` points at the spec entry that declares it, for messages.
    """

    source: str
    ref: str
    spec_path: SpecPath = ()
    length: int = 0
    charset: str = ""
    # Only for `literal` (an explicit, warned-about opt-in): kept out of repr and messages.
    literal: str = field(default="", repr=False, compare=False)

    def placeholder(self) -> str:
        """What render writes instead of the value: visible, and obviously not a value."""
        return f"<secret:{self.source}:{self.ref}>"


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    properties: Mapping[str, Any]
    depends_on: tuple[str, ...] = ()
    source: SpecPath = ()

    @property
    def provider(self) -> str:
        return self.type.split(":", 1)[0]

    @property
    def key(self) -> str:
        """Unique within a Plan: Pulumi URNs are unique by type and name."""
        return f"{self.type}::{self.name}"

    def secret_paths(self) -> list[PropertyPath]:
        return [path for path, _ in iter_secrets(self.properties)]


@dataclass(frozen=True)
class Plan:
    project: str
    environment: str
    kubernetes_version: str
    resources: tuple[Resource, ...] = ()
    # Vault mount facts the emitters need (kv mount, auth mount), kept out of resources.
    settings: Mapping[str, Any] = field(default_factory=dict)
    # Pods a chart or operator creates (`managedBy`): never deployed or rendered, but part of
    # the posture, as Pod manifests carrying their labels and service account.
    unmanaged_pods: tuple[Resource, ...] = ()

    def of_provider(self, provider: str) -> list[Resource]:
        return [r for r in self.resources if r.provider == provider]


_PLAIN = frozenset({str, int, bool, float, type(None)})


def iter_secrets(value: Any, path: PropertyPath = ()) -> Iterator[tuple[PropertyPath, SecretValue]]:
    """Every SecretValue leaf under `value`, with its property path."""
    # Plain leaves (most of a manifest) are skipped before a path or a generator is made for
    # them, and before the Mapping check, an ABC's: render and compile speed.
    if isinstance(value, SecretValue):
        yield path, value
    elif type(value) in _PLAIN:
        return
    elif isinstance(value, Mapping):
        for key, child in value.items():
            if type(child) not in _PLAIN:
                yield from iter_secrets(child, (*path, key))
    elif isinstance(value, list | tuple):
        for index, child in enumerate(value):
            if type(child) not in _PLAIN:
                yield from iter_secrets(child, (*path, index))


def replace_secrets(
    value: Any, leaf: Callable[[PropertyPath, SecretValue], Any], path: PropertyPath = ()
) -> Any:
    """A copy of `value` with every SecretValue replaced by `leaf(path, secret)`."""
    if isinstance(value, SecretValue):
        return leaf(path, value)
    if type(value) in _PLAIN:  # as in iter_secrets
        return value
    if isinstance(value, Mapping):
        return {k: v if type(v) in _PLAIN else replace_secrets(v, leaf, (*path, k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [v if type(v) in _PLAIN else replace_secrets(v, leaf, (*path, i)) for i, v in enumerate(value)]
    return value
