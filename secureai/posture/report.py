"""Posture out: text tables for a terminal, and a JSON document for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from secureai.posture import AdminRule, Posture, Reader
from secureai.posture.privileges import Privileges


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return lines


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def as_text(p: Posture) -> str:
    out = [f"# Secrets: who can read them ({len(p.secrets)})", ""]
    rows = []
    for item in p.secrets:
        if not item.readers:
            rows.append([item.id, "-", "-", "nobody", ""])
        for r in item.readers:
            who = r.workload or f"account {r.account}"
            credential = "" if r.credential else " (credential not mounted)"
            rows.append([item.id, who, r.how, r.detail + credential, r.grant])
    out += table(["SECRET", "READER", "HOW", "DETAIL", "GRANTED BY"], rows)
    out += ["", f"# Network: allowed connections between workloads ({len(p.network.flows)})", ""]
    rows = [[f.source, f.target, f.ports.text(), ", ".join(f.via)] for f in p.network.flows]
    out += table(["FROM", "TO", "PORTS", "ALLOWED BY"], rows) if rows else ["(none)"]
    out += ["", "# Network: to and from outside the workloads", ""]
    rows = [
        [o.workload, "in from" if o.direction == "ingress" else "out to", o.peer, o.ports, ", ".join(o.via)]
        for o in p.network.outside
    ]
    out += table(["WORKLOAD", "", "PEER", "PORTS", "ALLOWED BY"], rows) if rows else ["(none)"]
    if p.admin_tier:
        out += [
            "",
            "# Network: admin tier (AdminNetworkPolicy; Deny and Allow no NetworkPolicy overrides)",
            "",
        ]
        rows = [
            [
                a.policy,
                str(a.priority),
                a.subject,
                "in from" if a.direction == "ingress" else "out to",
                a.action,
                a.peers,
                a.ports,
            ]
            for a in p.admin_tier
        ]
        out += table(["POLICY", "PRIORITY", "SUBJECT", "", "ACTION", "PEERS", "PORTS"], rows)
    out += ["", "# Services in front of workloads", ""]
    rows = [[e.workload, e.service, e.type, e.ports] for e in p.network.services]
    out += table(["WORKLOAD", "SERVICE", "TYPE", "PORTS"], rows) if rows else ["(none)"]
    out += ["", "# Privileges", ""]
    rows = [
        [
            x.workload,
            x.account,
            x.user,
            _yes(x.api_token),
            *(
                ["?"] * 5
                if x.unchecked_by is not None
                else [
                    _yes(x.privileged or x.escalation),
                    ",".join(x.capabilities) or "-",
                    ",".join(x.host) or "-",
                    _yes(x.read_only_root),
                    ", ".join(x.volumes) or "-",
                ]
            ),
        ]
        for x in p.privileges
    ]
    headers = ["WORKLOAD", "ACCOUNT", "USER", "API TOKEN", "ESCALATE", "CAPS", "HOST", "RO ROOT", "VOLUMES"]
    out += table(headers, rows)
    return "\n".join(out)


def _reader(r: Reader) -> dict[str, Any]:
    return {
        "workload": r.workload,
        "account": r.account,
        "how": r.how,
        "detail": r.detail,
        "grant": r.grant,
        "credential": r.credential,
    }


def as_data(p: Posture) -> dict[str, Any]:
    return {
        "project": p.project,
        "workloads": list(p.workloads),
        "secrets": [
            {"kind": s.kind, "id": s.id, "readers": [_reader(r) for r in s.readers]} for s in p.secrets
        ],
        "network": {
            "flows": [
                {
                    "from": f.source,
                    "to": f.target,
                    "ports": f.ports.text(),
                    "portRanges": f.ports.to_json(),
                    "via": list(f.via),
                }
                for f in p.network.flows
            ],
            "outside": [
                {
                    "workload": o.workload,
                    "direction": o.direction,
                    "peer": o.peer,
                    "ports": o.ports,
                    "via": list(o.via),
                }
                for o in p.network.outside
            ],
            "isolated": {k: list(v) for k, v in p.network.isolated.items()},
            "services": [
                {"workload": e.workload, "service": e.service, "type": e.type, "ports": e.ports}
                for e in p.network.services
            ],
        },
        "privileges": [_privileges(x) for x in p.privileges],
        # Only with kubernetes.adminNetworkPolicy: the documents of specs without it are unchanged.
        **({"adminTier": [_admin(a) for a in p.admin_tier]} if p.admin_tier else {}),
    }


def _admin(a: AdminRule) -> dict[str, Any]:
    return {
        "policy": a.policy,
        "priority": a.priority,
        "subject": a.subject,
        "direction": a.direction,
        "action": a.action,
        "peers": a.peers,
        "ports": a.ports,
    }


def _privileges(x: Privileges) -> dict[str, Any]:
    """One workload's row; for pods secureai does not render, what their spec says is unknown (null)."""
    known = x.unchecked_by is None
    return {
        "workload": x.workload,
        "account": x.account,
        "user": x.user,
        "privileged": x.privileged if known else None,
        "escalation": x.escalation if known else None,
        "capabilities": list(x.capabilities) if known else None,
        "readOnlyRoot": x.read_only_root if known else None,
        "host": list(x.host) if known else None,
        "volumes": list(x.volumes) if known else None,
        "apiToken": x.api_token,
        "seccomp": x.seccomp,
        "managedBy": x.unchecked_by,
    }


def as_json(p: Posture) -> str:
    # Compact: with indentation the json module falls back to its pure-Python encoder, 5x
    # slower on the 20,000 flows of a 1,000-workload spec.
    return json.dumps(as_data(p), sort_keys=True, separators=(",", ":"))
