"""Render a Plan's Kubernetes resources as YAML manifests, one file per object.

Files are `kubernetes/<NNN>-<kind>-[<namespace>-]<name>.yaml`; a Secret whose values are
still placeholders goes to `secret-templates/` instead, so that the applyable folder never
stores a placeholder as a real value. The numeric prefix is the apply
order, so `kubectl apply -f DIR/kubernetes` (which reads files in name order) creates what an
object needs before the object: 010 namespaces, 020 cluster-scoped policies, 030 service
accounts, 040 secrets, 050 RBAC, 060 network policies, 070 workloads and their Services,
080 anything else. YAML has sorted keys, so output is byte-stable. Secret values appear only
through `reveal`; without it each is its placeholder (`<secret:env:DB_PASSWORD>`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from typing import Any

import yaml
from yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import ScalarNode

from secureai.compile.plan import Plan, PropertyPath, Resource, SecretValue, replace_secrets

Reveal = Callable[[SecretValue], str]

ORDER: Mapping[str, int] = {
    "Namespace": 10,
    "PodSecurityPolicy": 20,
    "ValidatingAdmissionPolicy": 20,
    "ValidatingAdmissionPolicyBinding": 20,
    "ClusterImagePolicy": 20,
    # Before any pod: a pod created before its namespace's LimitRange gets no defaults.
    "ResourceQuota": 20,
    "LimitRange": 20,
    "ServiceAccount": 30,
    "Secret": 40,
    "ConfigMap": 40,
    "SecretStore": 40,
    "ExternalSecret": 40,
    "PersistentVolumeClaim": 40,
    "Role": 50,
    "ClusterRole": 50,
    "RoleBinding": 50,
    "ClusterRoleBinding": 50,
    "NetworkPolicy": 60,
    "GlobalNetworkPolicy": 60,
    "CiliumNetworkPolicy": 60,
    "CiliumClusterwideNetworkPolicy": 60,
    "AdminNetworkPolicy": 60,
    "Service": 70,
    "Pod": 70,
    "Deployment": 70,
    "StatefulSet": 70,
    "Job": 70,
    "CronJob": 70,
}
OTHER = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Strings PyYAML (a YAML 1.1 emitter) writes plain although a YAML 1.2 or Go YAML reader takes
# them for a number or a boolean: `1e-3`, `1.5e3`, `08`, `0o17`, `y`, `n`. kubectl reads
# manifests with Go YAML, so `args: [--lr, 1e-3]` would reach the API server as a number and be
# rejected (or, decoded into a typed string field, come back as `0.001`). Such strings are
# always written quoted. The float and int shapes are Go YAML's (go-yaml v2 resolve.go).
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_GO_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)")
_GO_BOOL = frozenset({"y", "Y", "n", "N"})
_NUMBER_START = frozenset("0123456789+-.")


def _read_as_non_string(text: str) -> bool:
    if text[:1] not in _NUMBER_START:  # most strings: no regex at all (render speed)
        return text in _GO_BOOL
    plain = text.replace("_", "")  # Go YAML drops underscores in numbers
    return text in _GO_BOOL or bool(_GO_FLOAT.fullmatch(plain) or _GO_INT.fullmatch(plain))


def _string_style(text: str) -> str | None:
    """Quoted when another reader could take it for a number; a file's text (an agent
    configuration) in a block, so it reads as itself (the emitter falls back to quoting when a
    block cannot hold it: trailing spaces, control characters); else PyYAML's choice."""
    if _read_as_non_string(text):
        return "'"
    return "|" if "\n" in text else None


def _represent_str(dumper: Any, text: str) -> Any:
    style = _string_style(text)
    if style is None:
        return dumper.represent_str(text)
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


def quoting_dumper(base: Any) -> Any:
    """`base` (a safe dumper) that quotes every string another YAML reader could take for a number."""
    dumper: Any = type("Dumper", (base,), {})
    dumper.add_representer(str, _represent_str)
    return dumper


# libyaml's emitter writes the same text as the pure-Python one (a test holds it to that),
# many times faster: it matters at a thousand workloads.
_DUMPER: Any = quoting_dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper))


APPLYABLE = "kubernetes/"
# A Secret whose values are placeholders would be stored by `kubectl apply` with
# `<secret:env:X>` as its value, and the pods reading it would start with that as a password.
# So without revealed values such Secrets go here, beside the applyable folder, for review.
TEMPLATES = "secret-templates/"


def kubernetes_files(plan: Plan, reveal: Reveal | None = None) -> dict[str, str]:
    """Relative path -> YAML text for every Kubernetes resource, in path order."""
    scalars: _Scalars = {}  # one render's, so no value outlives it

    def rendered(entry: tuple[str, Resource]) -> tuple[str, str]:
        path, resource = entry
        held: list[PropertyPath] = []
        document = manifest(resource, reveal, held)
        if reveal is None and held:
            path = TEMPLATES + path.removeprefix(APPLYABLE)
        return path, to_yaml(document, scalars)

    return dict(sorted(rendered(entry) for entry in _paths(plan)))


def stream(plan: Plan, reveal: Reveal | None = None) -> str:
    """The applyable manifests as one multi-document YAML stream, in apply order (for `-o -`):
    without `reveal`, Secrets holding placeholders are left out (see `TEMPLATES`)."""
    files = kubernetes_files(plan, reveal)
    return "".join(f"---\n{text}" for path, text in files.items() if path.startswith(APPLYABLE))


def manifest(resource: Resource, reveal: Reveal | None, held: list[PropertyPath] | None = None) -> Any:
    """The resource's manifest with each SecretValue revealed or replaced by its placeholder;
    `held` collects where they stand (one walk instead of two: render speed)."""

    def leaf(path: PropertyPath, value: SecretValue) -> str:
        if held is not None:
            held.append(path)
        return value.placeholder() if reveal is None else reveal(value)

    # A copy even without secrets: compiled manifests share parts (a workload's labels are its
    # selector's), and YAML would write a part met twice as an anchor and an alias.
    return replace_secrets(resource.properties, leaf)


def to_yaml(document: Any, scalars: _Scalars | None = None) -> str:
    """`yaml.safe_dump(sort_keys=True, default_flow_style=False)`, through libyaml if present,
    with number-like strings quoted (see `_read_as_non_string`). `scalars` may be shared by
    the documents of one render."""
    events: list[Any] = []
    try:
        _events(document, set(), events, {} if scalars is None else scalars)
    except _Unusual:
        return yaml.dump(document, Dumper=_DUMPER, sort_keys=True, default_flow_style=False)
    out = io.StringIO()
    dumper = _DUMPER(out)
    try:
        dumper.open()
        dumper.emit(DocumentStartEvent(explicit=False))
        for event in events:
            dumper.emit(event)
        dumper.emit(DocumentEndEvent(explicit=False))
        dumper.close()
    finally:
        dumper.dispose()
    return out.getvalue()


class _Unusual(Exception):
    """What `_events` leaves to PyYAML's representer: a float, a type it refuses, an alias."""


_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ = _TAG + "str", _TAG + "map", _TAG + "seq"
_RESOLVER: Any = yaml.resolver.Resolver()  # PyYAML's, as its safe dumper resolves


# The event `_scalar` made per (tag, text), worked out once: whether the text reads back as the
# tag written plain, and its style. Manifests repeat the same keys and values thousands of times
# (`metadata`, `name`, `RuntimeDefault`) and PyYAML's resolver runs its regexes on each. The
# emitters only read an event, so one event object serves every occurrence (making 1.5 million
# of them was a fifth of a 10,000-workload render).
_Scalars = dict[tuple[str, str], ScalarEvent]
# The collection events carry nothing of their own: one of each serves every manifest.
_SEQ_START = SequenceStartEvent(None, _SEQ, True, flow_style=False)
_SEQ_END = SequenceEndEvent()
_MAP_START = MappingStartEvent(None, _MAP, True, flow_style=False)
_MAP_END = MappingEndEvent()


def _scalar(tag: str, text: str, scalars: _Scalars) -> ScalarEvent:
    """The event PyYAML's serializer makes of a scalar node: `implicit` says whether the text
    reads back as `tag` plain, and quoted (a quoted scalar is a string)."""
    known = scalars.get((tag, text))
    if known is None:
        plain = _RESOLVER.resolve(ScalarNode, text, (True, False)) == tag
        style = _string_style(text) if tag == _STR else None
        known = scalars[tag, text] = ScalarEvent(None, tag, (plain, tag == _STR), text, style=style)
    return known


def _events(value: Any, containers: set[int], out: list[Any], scalars: _Scalars) -> None:
    """The events PyYAML's safe representer and serializer emit for `value` (with
    `_represent_str`, sorted keys, block style), for the types a manifest holds. They look up a
    function per value by type, build a node graph, search it for aliases, and resolve each
    scalar twice; emitting the same events directly halves the 1,000-workload render. A
    container met twice (the representer writes an anchor and alias) goes back to it."""
    kind = type(value)
    if kind is str:
        out.append(_scalar(_STR, value, scalars))
    elif kind is dict or kind is list:
        if id(value) in containers:
            raise _Unusual
        containers.add(id(value))
        if kind is list:
            out.append(_SEQ_START)
            for item in value:
                _events(item, containers, out, scalars)
            out.append(_SEQ_END)
            return
        try:
            items = sorted(value.items())
        except TypeError:  # as the representer: unsortable keys stay in order
            items = list(value.items())
        out.append(_MAP_START)
        get = scalars.get
        for key, item in items:
            # Strings (every key, most values) inline: one call less per scalar.
            if type(key) is str:
                out.append(get((_STR, key)) or _scalar(_STR, key, scalars))
            else:
                _events(key, containers, out, scalars)
            if type(item) is str:
                out.append(get((_STR, item)) or _scalar(_STR, item, scalars))
            else:
                _events(item, containers, out, scalars)
        out.append(_MAP_END)
    elif kind is bool:
        out.append(_scalar(_TAG + "bool", "true" if value else "false", scalars))
    elif kind is int:
        out.append(_scalar(_TAG + "int", str(value), scalars))
    elif value is None:
        out.append(_scalar(_TAG + "null", "null", scalars))
    else:
        raise _Unusual


def _paths(plan: Plan) -> list[tuple[str, Resource]]:
    """A file name per resource, never two the same.

    Stems can clash: `<ns>-<name>` is ambiguous when names contain dashes (namespace `a` with
    name `b-c`, and namespace `a-b` with name `c`), and sanitising maps `:` to `-`. The first
    (by resource key) keeps the stem; the others get the lowest numeric suffix that is not
    itself another resource's stem, so no manifest can overwrite another.
    """
    named = sorted(
        ((_file_stem(r), r.key, r) for r in plan.of_provider("kubernetes")),
        key=lambda t: (t[0], t[1]),
    )
    taken = {stem for stem, _, _ in named}
    used: set[str] = set()
    out: list[tuple[str, Resource]] = []
    for stem, _, resource in named:
        unique, count = stem, 1
        while unique in used or (unique != stem and unique in taken):
            count += 1
            unique = f"{stem}-{count}"
        used.add(unique)
        out.append((f"kubernetes/{unique}.yaml", resource))
    return out


def _file_stem(resource: Resource) -> str:
    props = resource.properties
    kind = str(props.get("kind", resource.type.rsplit(":", 1)[-1]))
    meta = props.get("metadata", {})
    parts = [f"{ORDER.get(kind, OTHER):03d}", kind.lower()]
    if meta.get("namespace"):
        parts.append(str(meta["namespace"]))
    parts.append(str(meta.get("name", resource.name)))
    return "-".join(_UNSAFE.sub("-", p).strip("-") for p in parts)
