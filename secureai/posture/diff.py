"""The change in posture between two compiled specs: readers, flows, outside reach, privileges.

Not a YAML diff: a renamed rule that allows the same traffic is no change, and a one-word
label edit that opens a flow is one. Each change says whether it widens (a new reader, a new
or wider flow, a new privilege, a removed protection) or narrows the posture; CI fails on the
widening kinds it names with `--fail-on`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from secureai.diagnostics import SpecPath
from secureai.posture import Exposure, Outside, Posture, Reader
from secureai.posture.privileges import Privileges

# kind -> (code for SARIF, widens the posture, title)
KINDS: dict[str, tuple[str | None, bool, str]] = {
    "new-reader": ("SA420", True, "new reader of a secret"),
    "new-flow": ("SA421", True, "new connection between workloads"),
    "widened-flow": ("SA421", True, "connection between workloads on more ports"),
    "new-outside": ("SA422", True, "new connection to or from outside the workloads"),
    "new-exposure": ("SA422", True, "workload newly exposed outside the cluster (NodePort, LoadBalancer)"),
    "new-privilege": ("SA423", True, "new privilege"),
    "new-token": ("SA423", True, "API token newly mounted"),
    "removed-protection": ("SA424", True, "protection removed"),
    "new-workload": (None, True, "new workload"),
    "removed-reader": (None, False, "reader removed"),
    "removed-flow": (None, False, "connection removed"),
    "narrowed-flow": (None, False, "connection on fewer ports"),
    "removed-outside": (None, False, "connection to or from outside removed"),
    "removed-privilege": (None, False, "privilege removed"),
    "removed-workload": (None, False, "workload removed"),
}


@dataclass(frozen=True)
class Change:
    kind: str
    subject: str
    detail: str
    origin: SpecPath = field(default=(), compare=False)  # where in the new spec it comes from

    @property
    def widens(self) -> bool:
        return KINDS[self.kind][1]

    @property
    def code(self) -> str | None:
        return KINDS[self.kind][0]


def diff_postures(old: Posture, new: Posture) -> list[Change]:
    return [
        *_workloads(old, new),
        *_readers(old, new),
        *_flows(old, new),
        *_outside(old, new),
        *_exposures(old, new),
        *_privileges(old, new),
        *_admin_tier(old, new),
    ]


def _admin_tier(old: Posture, new: Posture) -> list[Change]:
    """An admin-tier Deny gone (kubernetes.adminNetworkPolicy turned off, or a namespace left out):
    the connections allowed stay the same, but a namespace's own NetworkPolicy can now open them."""
    kept = {(a.subject, a.direction, a.peers, a.ports) for a in new.admin_tier if a.action == "Deny"}
    return [
        Change(
            "removed-protection",
            a.subject,
            f"admin tier no longer denies {'ingress from' if a.direction == 'ingress' else 'egress to'} "
            f"{a.peers} on {a.ports} (AdminNetworkPolicy {a.policy}): the namespace's NetworkPolicies decide",
            ("kubernetes",),
        )
        for a in old.admin_tier
        if a.action == "Deny" and (a.subject, a.direction, a.peers, a.ports) not in kept
    ]


def _exposures(old: Posture, new: Posture) -> list[Change]:
    def external(p: Posture) -> dict[tuple[str, str, str], Exposure]:
        return {
            (e.workload, e.service, e.type): e
            for e in p.network.services
            if e.type in ("NodePort", "LoadBalancer")
        }

    before = external(old)
    return [
        Change("new-exposure", k[0], f"Service {k[1]} ({k[2]}) on {e.ports}", e.origin)
        for k, e in external(new).items()
        if k not in before
    ]


def _workloads(old: Posture, new: Posture) -> list[Change]:
    before, after = set(old.workloads), set(new.workloads)
    origins = {p.workload: p.origin for p in new.privileges}
    return [Change("new-workload", w, "", origins.get(w, ())) for w in new.workloads if w not in before] + [
        Change("removed-workload", w, "") for w in old.workloads if w not in after
    ]


def _reader_keys(p: Posture) -> dict[tuple[str, str, str, str], Reader]:
    return {
        (s.id, r.workload or f"account {r.account}", r.how, r.grant): r for s in p.secrets for r in s.readers
    }


def _readers(old: Posture, new: Posture) -> list[Change]:
    before, after = _reader_keys(old), _reader_keys(new)
    out = [
        Change(
            "new-reader", secret, f"{who} by {how} ({after[k].detail}), granted by {grant}", after[k].origin
        )
        for k in after
        if k not in before
        for secret, who, how, grant in [k]
    ]
    out += [
        Change("removed-reader", secret, f"{who} by {how} ({before[k].detail}), granted by {grant}")
        for k in before
        if k not in after
        for secret, who, how, grant in [k]
    ]
    return out


def _flows(old: Posture, new: Posture) -> list[Change]:
    before = {(f.source, f.target): f for f in old.network.flows}
    after = {(f.source, f.target): f for f in new.network.flows}
    out = []
    for key, f in after.items():
        subject = f"{key[0]} -> {key[1]}"
        was = before.get(key)
        if was is None:
            out.append(
                Change("new-flow", subject, f"on {f.ports.text()}, allowed by {', '.join(f.via)}", f.origin)
            )
        elif f.ports - was.ports:
            out.append(
                Change(
                    "widened-flow",
                    subject,
                    f"now also on {(f.ports - was.ports).text()}, allowed by {', '.join(f.via)}",
                    f.origin,
                )
            )
        if was is not None and was.ports - f.ports:
            out.append(Change("narrowed-flow", subject, f"no longer on {(was.ports - f.ports).text()}"))
    out += [
        Change("removed-flow", f"{k[0]} -> {k[1]}", f"was on {f.ports.text()}")
        for k, f in before.items()
        if k not in after
    ]
    return out


def _outside(old: Posture, new: Posture) -> list[Change]:
    def keys(p: Posture) -> dict[tuple[str, str, str, str], Outside]:
        return {(o.workload, o.direction, o.peer, o.ports): o for o in p.network.outside}

    before, after = keys(old), keys(new)

    def text(k: tuple[str, str, str, str]) -> str:
        arrow = "from" if k[1] == "ingress" else "to"
        return f"{arrow} {k[2]} on {k[3]}"

    out = [
        Change("new-outside", k[0], f"{text(k)}, allowed by {', '.join(o.via)}", o.origin)
        for k, o in after.items()
        if k not in before
    ]
    out += [Change("removed-outside", k[0], text(k)) for k in before if k not in after]
    return out


def _privileges(old: Posture, new: Posture) -> list[Change]:
    before = {p.workload: p for p in old.privileges}
    out: list[Change] = []
    for p in new.privileges:
        was = before.get(p.workload)
        out += [replace(c, origin=p.origin) for c in _privilege_changes(was, p)]
    return out


def _privilege_changes(was: Privileges | None, now: Privileges) -> list[Change]:
    w = now.workload
    if was is None:
        # A new workload's privileges are news only where they are not the locked-down default.
        found = []
        if now.api_token:
            found.append(Change("new-token", w, f"mounts the API token of {now.account}"))
        if now.privileged or now.escalation or now.capabilities or now.host:
            found.append(Change("new-privilege", w, _privilege_text(now)))
        return found
    out = []
    if now.api_token and not was.api_token:
        out.append(Change("new-token", w, f"now mounts the API token of {now.account}"))
    if was.api_token and not now.api_token:
        out.append(Change("removed-privilege", w, "no longer mounts an API token"))
    for flag, label in (("privileged", "privileged"), ("escalation", "privilege escalation")):
        if getattr(now, flag) and not getattr(was, flag):
            out.append(Change("new-privilege", w, f"now allows {label}"))
        if getattr(was, flag) and not getattr(now, flag):
            out.append(Change("removed-privilege", w, f"no longer allows {label}"))
    for name, label in (("capabilities", "capability"), ("host", "host access")):
        added = [x for x in getattr(now, name) if x not in getattr(was, name)]
        removed = [x for x in getattr(was, name) if x not in getattr(now, name)]
        if added:
            out.append(Change("new-privilege", w, f"new {label}: {', '.join(added)}"))
        if removed:
            out.append(Change("removed-privilege", w, f"{label} removed: {', '.join(removed)}"))
    host_paths = [v for v in now.volumes if v.startswith("hostPath") and v not in was.volumes]
    if host_paths:
        out.append(Change("new-privilege", w, f"new volume: {', '.join(host_paths)}"))
    if was.read_only_root and not now.read_only_root:
        out.append(Change("removed-protection", w, "root filesystem no longer read-only"))
    if _rootish(now.user) and not _rootish(was.user):
        out.append(Change("removed-protection", w, f"user {was.user} -> {now.user}"))
    if _rootish(was.user) and not _rootish(now.user):
        out.append(Change("removed-privilege", w, f"user {was.user} -> {now.user}"))
    if was.seccomp != now.seccomp:
        out.append(Change("removed-protection", w, f"seccomp {was.seccomp} -> {now.seccomp}"))
    return out


def _rootish(user: str) -> bool:
    return "may be root" in user or "(root)" in user


def _privilege_text(p: Privileges) -> str:
    parts = []
    if p.privileged:
        parts.append("privileged")
    if p.escalation:
        parts.append("privilege escalation")
    parts += [f"capability {c}" for c in p.capabilities]
    parts += list(p.host)
    return ", ".join(parts)
