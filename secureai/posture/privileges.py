"""What each workload's pods may do: user, capabilities, host access, volumes, tokens.

Read from the pod template the Plan deploys; a container setting wins over the pod's, and a
pod is as privileged as its most privileged container.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from secureai.diagnostics import SpecPath
from secureai.posture.inventory import Inventory, Workload


@dataclass(frozen=True)
class Privileges:
    workload: str
    account: str
    user: str
    privileged: bool
    escalation: bool
    capabilities: tuple[str, ...]
    read_only_root: bool
    host: tuple[str, ...]
    volumes: tuple[str, ...]
    api_token: bool
    seccomp: str
    origin: SpecPath = field(default=(), compare=False)
    # Set for pods a chart or operator creates: nothing above but account and token is known.
    unchecked_by: str | None = None


def _context(pod: Mapping[str, Any], c: Mapping[str, Any], key: str) -> Any:
    value = c.get("securityContext", {}).get(key)
    return pod.get("securityContext", {}).get(key) if value is None else value


def _user(w: Workload) -> str:
    users = set()
    for c in w.containers():
        uid = _context(w.pod, c, "runAsUser")
        non_root = _context(w.pod, c, "runAsNonRoot")
        if uid is not None:
            users.add(f"uid {uid}" + (" (root)" if uid == 0 else ""))
        else:
            users.add("image user, non-root enforced" if non_root else "image user (may be root)")
    return "; ".join(sorted(users))


def _volume(vol: Mapping[str, Any]) -> str:
    kind = next((k for k in vol if k != "name"), "unknown")
    if kind == "hostPath":
        return f"hostPath {vol['hostPath'].get('path')}"
    if kind == "secret":
        return f"secret {vol['secret'].get('secretName')}"
    if kind == "projected":
        parts = []
        for src in vol["projected"].get("sources", []):
            if "serviceAccountToken" in src:
                parts.append(f"token audience {src['serviceAccountToken'].get('audience', 'API server')}")
            else:
                parts += list(src)
        return f"projected ({', '.join(parts)})"
    return kind


def privileges(inv: Inventory, w: Workload) -> Privileges:
    if w.managed_by is not None:
        return _unchecked(inv, w, w.managed_by)
    containers = w.containers()
    caps = sorted(
        {
            cap
            for c in containers
            for cap in c.get("securityContext", {}).get("capabilities", {}).get("add", [])
        }
    )
    host = [k for k in ("hostNetwork", "hostPID", "hostIPC") if w.pod.get(k)]
    host += [
        f"hostPort {p['hostPort']}/{p.get('protocol', 'TCP')}"
        for p in w.container_ports()
        if p.get("hostPort")
    ]
    seccomp = {str((_context(w.pod, c, "seccompProfile") or {}).get("type", "unset")) for c in containers}
    return Privileges(
        workload=w.id,
        account=f"{w.namespace}/{w.account}",
        user=_user(w),
        privileged=any(c.get("securityContext", {}).get("privileged") for c in containers),
        escalation=any(
            c.get("securityContext", {}).get("allowPrivilegeEscalation", True) for c in containers
        ),
        capabilities=tuple(caps),
        read_only_root=all(c.get("securityContext", {}).get("readOnlyRootFilesystem") for c in containers),
        host=tuple(host),
        volumes=tuple(_volume(v) for v in w.pod.get("volumes", [])),
        api_token=inv.token_mounted(w),
        seccomp=", ".join(sorted(seccomp)),
        origin=w.resource.source,
    )


def _unchecked(inv: Inventory, w: Workload, managed_by: str) -> Privileges:
    """A pod secureai does not render: its account is known, its pod spec is not (reported so)."""
    return Privileges(
        workload=w.id,
        account=f"{w.namespace}/{w.account}",
        user=f"not checked ({managed_by} creates the pods)",
        privileged=False,
        escalation=False,
        capabilities=(),
        read_only_root=False,
        host=(),
        volumes=(),
        api_token=inv.token_mounted(w),
        seccomp="not checked",
        origin=w.resource.source,
        unchecked_by=managed_by,
    )
