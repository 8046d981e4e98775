"""Check the spec's `expect` assertions against the posture computed from the compiled Plan.

Every contradicted assertion is an error at the assertion naming what breaks it (the reader
and its grant, the flow and the policies that allow it, the workload and its token); an
assertion that names something the spec does not have is an error too, so a typo cannot make
an assertion pass by being about nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from secureai.diagnostics import Diagnostic, SpecPath, did_you_mean, error
from secureai.model.expect import Expectation, OnlyReaders, ReachesOnly, Unreachable, Workloads
from secureai.model.ports import PortSpec
from secureai.model.spec import Spec
from secureai.posture import Posture
from secureai.posture.cilium import FQDN_PEER, fqdn_covers
from secureai.posture.inventory import Workload
from secureai.posture.ports import PortSet

DNS = PortSet.of([("TCP", 53, 53), ("UDP", 53, 53)])


class _Unknown(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def port_set(ports: Iterable[PortSpec]) -> PortSet:
    given = [(p.protocol, p.port, p.port) for p in ports]
    return PortSet.of(given) if given else PortSet.all()


def check_expectations(spec: Spec, posture: Posture) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name, expectation in spec.expect.items():
        path: SpecPath = ("expect", name, expectation.kind)
        try:
            out += _check(spec, posture, name, expectation, path)
        except _Unknown as unknown:
            out.append(unknown.diagnostic)
    return out


def _check(spec: Spec, posture: Posture, name: str, e: Expectation, path: SpecPath) -> list[Diagnostic]:
    if e.only_readers is not None:
        return _only_readers(spec, posture, name, e.only_readers, path)
    if e.unreachable is not None:
        return _unreachable(spec, posture, name, e.unreachable, path)
    if e.no_token_in is not None:
        return _no_token(spec, posture, name, e.no_token_in, path)
    assert e.reaches_only is not None
    return _reaches_only(spec, posture, name, e.reaches_only, path)


class _Index:
    """The posture's workloads by name and by namespace, made once per posture: every
    expectation looks its members up, and scanning every workload for each one made many
    expectations over many workloads quadratic."""

    def __init__(self, posture: Posture) -> None:
        self.posture = posture
        self.by_name: dict[str, list[Workload]] = {}
        self.by_namespace: dict[str, list[Workload]] = {}
        for w in posture.inventory.workloads:
            self.by_name.setdefault(w.name, []).append(w)
            self.by_namespace.setdefault(w.namespace, []).append(w)
        self.names = frozenset(self.by_name)


_LAST: dict[str, _Index] = {}


def _index(posture: Posture) -> _Index:
    hit = _LAST.get("index")
    if hit is None or hit.posture is not posture:
        hit = _Index(posture)
        _LAST["index"] = hit
    return hit


def _members(spec: Spec, posture: Posture, ws: Workloads, path: SpecPath) -> list[Workload]:
    index = _index(posture)
    if ws.workload is not None:
        found = index.by_name.get(ws.workload, [])
        if not found:
            raise _Unknown(
                error(
                    "SA410",
                    f"expectation names workload '{ws.workload}', which the spec does not deploy"
                    + did_you_mean(ws.workload, index.names),
                    (*path, "workload"),
                )
            )
        return list(found)
    assert ws.namespace is not None
    if ws.namespace not in spec.namespaces and ws.namespace not in index.by_namespace:
        raise _Unknown(
            error(
                "SA411",
                f"expectation names namespace '{ws.namespace}', which the spec does not have"
                + did_you_mean(ws.namespace, spec.namespaces),
                (*path, "namespace"),
            )
        )
    return list(index.by_namespace.get(ws.namespace, []))


def _workload_names(posture: Posture, names: list[str], path: SpecPath) -> set[str]:
    known = _index(posture).names
    for index, n in enumerate(names):
        if n not in known:
            raise _Unknown(
                error(
                    "SA410",
                    f"expectation names workload '{n}', which the spec does not deploy"
                    + did_you_mean(n, known),
                    (*path, "readers", index),
                )
            )
    return set(names)


def _only_readers(
    spec: Spec, posture: Posture, name: str, e: OnlyReaders, path: SpecPath
) -> list[Diagnostic]:
    allowed = _workload_names(posture, e.readers, path)
    if e.secret is not None:
        secret = spec.secrets.get(e.secret)
        if secret is None:
            raise _Unknown(
                error(
                    "SA412",
                    f"expectation names secret '{e.secret}', which the spec does not declare"
                    + did_you_mean(e.secret, spec.secrets),
                    (*path, "secret"),
                )
            )
        if e.key is not None and e.key not in secret.data:
            raise _Unknown(
                error(
                    "SA412",
                    f"secret '{e.secret}' has no key '{e.key}'" + did_you_mean(e.key, secret.data),
                    (*path, "key"),
                )
            )
        prefix = f"{secret.namespace}/{e.secret}/"
        items = [
            s
            for s in posture.secrets
            if s.kind == "kubernetes"
            and s.id.startswith(prefix)
            and (e.key is None or s.id == prefix + e.key)
        ]
    else:
        assert e.vault is not None
        if e.vault not in spec.vault_secrets:
            raise _Unknown(
                error(
                    "SA413",
                    f"expectation names Vault path '{e.vault}', which vaultSecrets does not declare"
                    + did_you_mean(e.vault, spec.vault_secrets),
                    (*path, "vault"),
                )
            )
        items = [s for s in posture.secrets if s.kind == "vault" and s.id.split("/", 1)[1] == e.vault]
    out: list[Diagnostic] = []
    seen: set[tuple[str, str, str]] = set()
    only = f"only {', '.join(sorted(allowed))} may" if allowed else "nobody may"
    for item in items:
        for r in item.readers:
            workload = r.workload.split("/", 1)[1] if r.workload else None
            if workload in allowed:
                continue
            who = f"workload {r.workload}" if workload else f"service account {r.account}"
            if (who, r.detail, r.grant) in seen:
                continue
            seen.add((who, r.detail, r.grant))
            out.append(
                error(
                    "SA400",
                    f"expectation '{name}': {who} can read {item.id} by {r.how} ({r.detail}), "
                    f"granted by {r.grant}; {only}",
                    path,
                    hint="remove that grant, or add the reader to 'readers' if it is intended",
                )
            )
    return out


def _unreachable(spec: Spec, posture: Posture, name: str, e: Unreachable, path: SpecPath) -> list[Diagnostic]:
    sources = {w.id for w in _members(spec, posture, e.from_, (*path, "from"))}
    targets = {w.id for w in _members(spec, posture, e.to, (*path, "to"))}
    ports = port_set(e.ports)
    out = []
    for flow in posture.network.flows:
        if flow.source in sources and flow.target in targets and flow.ports & ports:
            out.append(
                error(
                    "SA401",
                    f"expectation '{name}': {flow.source} can connect to {flow.target} on "
                    f"{(flow.ports & ports).text()}, allowed by {', '.join(flow.via)}",
                    path,
                    hint="narrow the network rule (or the namespace's network: open) that allows it",
                )
            )
    return out


def _no_token(spec: Spec, posture: Posture, name: str, e: Workloads, path: SpecPath) -> list[Diagnostic]:
    members = {w.id for w in _members(spec, posture, e, path)}
    return [
        error(
            "SA402",
            f"expectation '{name}': workload {p.workload} mounts an API token of service account {p.account}",
            path,
            hint="secureai mounts the token only for accounts with access grants: "
            "run the workload as an account without them",
        )
        for p in posture.privileges
        if p.workload in members and p.api_token
    ]


def _covered_outside(peer: str, ports: PortSet | None, e: ReachesOnly) -> bool:
    for d in e.to:
        wanted = port_set(d.ports)
        if ports is None and d.ports:
            continue
        if ports is not None and not wanted.covers(ports):
            continue
        if d.namespace is not None and peer.endswith(f" in namespace {d.namespace}"):
            return True
        if d.fqdn is not None and peer.startswith(FQDN_PEER) and fqdn_covers(d.fqdn, peer[len(FQDN_PEER) :]):
            return True
        if d.cidr is not None:
            first = peer.split(" ", 1)[0]
            try:
                mine, theirs = (
                    ipaddress.ip_network(first, strict=False),
                    ipaddress.ip_network(d.cidr, strict=False),
                )
                inside = mine.version == theirs.version and mine.subnet_of(theirs)  # type: ignore[arg-type]
            except ValueError:
                inside = False
            if inside:
                return True
    return False


def _reaches_only(
    spec: Spec, posture: Posture, name: str, e: ReachesOnly, path: SpecPath
) -> list[Diagnostic]:
    sources = {w.id for w in _members(spec, posture, e.from_, (*path, "from"))}
    for index, d in enumerate(e.to):
        if d.workload is not None:  # outside namespaces (vault, kube-system) are fine to name
            _members(spec, posture, Workloads(workload=d.workload), (*path, "to", index))
    out = []
    for flow in posture.network.flows:
        if flow.source not in sources:
            continue
        target_ns, target = flow.target.split("/", 1)
        allowed = PortSet.none()
        for d in e.to:
            if d.workload == target or d.namespace == target_ns:
                allowed |= port_set(d.ports)
        extra = flow.ports - allowed
        if extra:
            out.append(
                error(
                    "SA403",
                    f"expectation '{name}': {flow.source} can connect to {flow.target} on {extra.text()}, "
                    f"allowed by {', '.join(flow.via)}",
                    path,
                    hint="narrow the rule that allows it, or list the destination in 'to'",
                )
            )
    for o in posture.network.outside:
        if o.workload not in sources or o.direction != "egress":
            continue
        if o.peer != "anywhere" and o.port_set is not None and DNS.covers(o.port_set):
            continue  # cluster DNS: every default-deny namespace allows it
        if _covered_outside(o.peer, o.port_set, e):
            continue
        out.append(
            error(
                "SA403",
                f"expectation '{name}': {o.workload} can connect out to {o.peer} on {o.ports}, "
                f"allowed by {', '.join(o.via)}",
                path,
                hint="narrow the rule that allows it, or list the destination in 'to'",
            )
        )
    return out
