"""Namespace quotas: the workloads secureai renders fit their namespace's `quota`.

Counted as the quota admission counts them: a pod requests the most of its app containers
plus native sidecars and each init container (with the sidecars started before it); a
Deployment or StatefulSet runs `replicas` pods, a Job (and one run of a CronJob) its
parallelism; claims request their size (one per replica for a StatefulSet's, one per pod for
ephemeral volumes). A container's amount is its request, else its limit, else the
namespace's default. SA182 the workload whose pods take a namespace over its quota; SA183 a
container that gives no cpu or memory amount a quota on it requires (the pod is refused).
Pods created elsewhere (managedBy, the Vault injector's containers) are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from secureai.diagnostics import Diagnostic, SpecPath, error, warning
from secureai.model.containers import Resources, is_extended
from secureai.model.quota import Quota, quantity
from secureai.model.spec import Spec, Workload
from secureai.model.versions import NATIVE_SIDECARS

Amounts = dict[str, Decimal]
# The resources a quota on which makes the API server refuse containers that give no amount.
_REQUIRED = ("cpu", "memory")


@dataclass
class _Container:
    who: str
    where: SpecPath
    requests: Amounts
    limits: Amounts
    restartable: bool = False  # a native sidecar: it keeps running beside what starts after it
    given: Resources | None = None  # as the spec writes them


def _amounts(given: dict[str, str] | None) -> Amounts:
    return {k: quantity(v) for k, v in (given or {}).items()}


def effective(resources: Resources | None, defaults: Resources | None) -> tuple[Amounts, Amounts]:
    """A container's requests and limits once the API server and the LimitRange are done."""
    requests = _amounts(resources.requests if resources else None)
    limits = _amounts(resources.limits if resources else None)
    for name, amount in list(requests.items()):
        if is_extended(name):
            limits.setdefault(name, amount)
    for name, amount in limits.items():
        requests.setdefault(name, amount)  # a limit alone is also the request
    default_limits = _amounts(defaults.limits if defaults else None)
    default_requests = {**default_limits, **_amounts(defaults.requests if defaults else None)}
    for name, amount in default_limits.items():
        limits.setdefault(name, amount)
    for name, amount in default_requests.items():
        requests.setdefault(name, amount)
    return requests, limits


def _add(total: Amounts, more: Amounts) -> Amounts:
    return {k: total.get(k, Decimal(0)) + more.get(k, Decimal(0)) for k in {*total, *more}}


def _most(a: Amounts, b: Amounts) -> Amounts:
    return {k: max(a.get(k, Decimal(0)), b.get(k, Decimal(0))) for k in {*a, *b}}


def _pod_amounts(app: list[Amounts], init: list[tuple[Amounts, bool]]) -> Amounts:
    """What one pod counts for: the most of its app containers plus sidecars, and of each init
    container plus the sidecars started before it (`init`: amounts, restartable, in order)."""
    sidecars: Amounts = {}
    peak: Amounts = {}
    for amounts, restartable in init:
        if restartable:
            sidecars = _add(sidecars, amounts)
            peak = _most(peak, sidecars)
        else:
            peak = _most(peak, _add(sidecars, amounts))
    running: Amounts = dict(sidecars)
    for amounts in app:
        running = _add(running, amounts)
    return _most(running, peak)


def _containers(
    spec: Spec, name: str, w: Workload, defaults: Resources | None
) -> tuple[list[_Container], list[_Container]]:
    """(app containers, init containers in start order): the Vault agent's first, as compiled."""
    base: SpecPath = ("workloads", name)

    def one(who: str, where: SpecPath, resources: Resources | None, restartable: bool = False) -> _Container:
        requests, limits = effective(resources, defaults)
        return _Container(who, where, requests, limits, restartable, resources)

    app = [one(f"workload '{name}'", base, w.resources)]
    init: list[_Container] = []
    if w.vault is not None and w.vault.deliver == "agent":
        agent = w.vault.agent
        init.append(one(f"the Vault agent of workload '{name}'", (*base, "vault"), agent.resources))
        if agent.sidecar and w.kind not in ("Job", "CronJob"):
            who = f"the Vault agent sidecar of workload '{name}'"
            init.append(one(who, (*base, "vault"), agent.resources, restartable=True))
    for c_name, c in w.init_containers.items():
        where = (*base, "initContainers", c_name)
        init.append(one(f"init container '{c_name}' of workload '{name}'", where, c.resources))
    native = spec.minor >= NATIVE_SIDECARS
    for c_name, c in w.sidecars.items():
        sidecar = one(
            f"sidecar '{c_name}' of workload '{name}'", (*base, "sidecars", c_name), c.resources, native
        )
        (init if native else app).append(sidecar)
    return app, init


def pod_count(w: Workload) -> int:
    if w.kind in ("Deployment", "StatefulSet"):
        return 1 if w.replicas is None else w.replicas
    if w.kind in ("Job", "CronJob"):
        parallel = 1 if w.parallelism is None else w.parallelism
        return parallel if w.completions is None else min(parallel, w.completions)
    return 1


def _storage(w: Workload, pods: int) -> Decimal:
    total = Decimal(0)
    for vol in w.volumes.values():
        if vol.claim is not None:
            total += quantity(vol.claim.size) * (pods if w.kind == "StatefulSet" else 1)
        if vol.ephemeral is not None:
            total += quantity(vol.ephemeral.size) * pods
    return total


def _plain(amount: Decimal) -> str:
    text = f"{amount:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _shown(amount: Decimal) -> str:
    for suffix, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20)):
        if amount >= size and amount % size == 0:
            return _plain(amount / size) + suffix
    return _plain(amount)


def check_quota(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for namespace, ns in spec.namespaces.items():
        if ns.quota is not None:
            out += _namespace(spec, namespace, ns.quota)
    return out


def _namespace(spec: Spec, namespace: str, quota: Quota) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    hard: dict[str, Decimal] = {f"requests.{k}": quantity(v) for k, v in quota.requests.items()}
    hard |= {f"limits.{k}": quantity(v) for k, v in quota.limits.items()}
    if quota.pods is not None:
        hard["pods"] = Decimal(quota.pods)
    if quota.storage is not None:
        hard["requests.storage"] = quantity(quota.storage)
    used: Amounts = {}
    reported: set[str] = set()
    surges: list[tuple[str, Amounts]] = []
    for name, w in spec.workloads.items():
        if w.namespace != namespace or w.external or w.image is None:
            continue
        app, init = _containers(spec, name, w, quota.defaults)
        out += _missing(namespace, quota, hard, [*app, *init])
        out += _above_default(namespace, quota, [*app, *init])
        pods = pod_count(w)
        inits = [(c.requests, c.restartable) for c in init]
        requests = _pod_amounts([c.requests for c in app], inits)
        limits = _pod_amounts([c.limits for c in app], [(c.limits, c.restartable) for c in init])
        one: Amounts = {f"requests.{k}": v for k, v in requests.items()}
        one |= {f"limits.{k}": v for k, v in limits.items()}
        one["pods"] = Decimal(1)
        one["requests.storage"] = _storage(w, 1) if w.kind == "StatefulSet" else _ephemeral(w)
        mine = {k: v * pods for k, v in one.items()}
        mine["requests.storage"] = _storage(w, pods)
        used = _add(used, mine)
        if w.kind == "Deployment" and 1 <= pods <= _NO_UNAVAILABLE:
            surges.append((name, one))
        for key, cap in hard.items():
            if key in reported or used.get(key, Decimal(0)) <= cap:
                continue
            reported.add(key)
            each = (
                f" ({pods} pods of {_shown(one[key])} each)"
                if pods > 1 and key not in ("pods", "requests.storage")
                else ""
            )
            out.append(
                error(
                    "SA182",
                    f"workload '{name}' brings the {key} of namespace '{namespace}' to "
                    f"{_shown(used[key])}{each}, above its quota of {_shown(cap)}",
                    ("workloads", name),
                    hint="raise the namespace's quota, or lower the workload's replicas, "
                    "parallelism or amounts",
                )
            )
    if not reported:
        out += _surge(namespace, hard, used, surges)
    return out


# A Deployment of up to 3 replicas may not take one down during a rolling update (25%
# maxUnavailable rounds down to 0): the update needs room for one more pod (25% maxSurge).
_NO_UNAVAILABLE = 3


def _ephemeral(w: Workload) -> Decimal:
    return sum((quantity(v.ephemeral.size) for v in w.volumes.values() if v.ephemeral), Decimal(0))


def _surge(
    namespace: str, hard: dict[str, Decimal], used: Amounts, surges: list[tuple[str, Amounts]]
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name, one in surges:
        over = [k for k, cap in hard.items() if used.get(k, Decimal(0)) + one.get(k, Decimal(0)) > cap]
        if over:
            key = over[0]
            total = used.get(key, Decimal(0)) + one.get(key, Decimal(0))
            out.append(
                warning(
                    "SA184",
                    f"workload '{name}' fits the quota of namespace '{namespace}', but the extra pod "
                    f"of its rolling update does not ({key}: {_shown(total)} of "
                    f"{_shown(hard[key])}): an update would wait for quota forever",
                    ("workloads", name),
                    hint="leave room in the quota for one more of its pods",
                )
            )
    return out


def _missing(
    namespace: str, quota: Quota, hard: dict[str, Decimal], containers: list[_Container]
) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for c in containers:
        for kind, given in (("requests", c.requests), ("limits", c.limits)):
            lacking = [r for r in _REQUIRED if f"{kind}.{r}" in hard and r not in given]
            if lacking:
                out.append(
                    error(
                        "SA183",
                        f"{c.who} sets no {' or '.join(lacking)} {kind.removesuffix('s')}, "
                        f"which the quota of namespace '{namespace}' requires: the cluster refuses its pods",
                        c.where,
                        hint=f"set resources.{kind} on it, or give the namespace's quota defaults.{kind}",
                    )
                )
    return out


def _above_default(namespace: str, quota: Quota, containers: list[_Container]) -> list[Diagnostic]:
    """A container that requests more than the default limit it is given (it sets no limit of
    its own) is invalid: Kubernetes refuses a request above its limit."""
    default_limits = _amounts(quota.defaults.limits if quota.defaults else None)
    out: list[Diagnostic] = []
    for c in containers:
        own_limits = (c.given.limits or {}) if c.given else {}
        own_requests = _amounts(c.given.requests if c.given else None)
        over = [
            r
            for r, amount in own_requests.items()
            if r not in own_limits and r in default_limits and amount > default_limits[r]
        ]
        for r in over:
            out.append(
                error(
                    "SA185",
                    f"{c.who} requests {_shown(own_requests[r])} {r} and sets no {r} limit, so it gets the "
                    f"default limit of namespace '{namespace}', {_shown(default_limits[r])}, below "
                    "its request: the cluster refuses its pods",
                    c.where,
                    hint=f"set its own {r} limit, or raise or drop the quota's defaults.limits.{r}",
                )
            )
    return out
