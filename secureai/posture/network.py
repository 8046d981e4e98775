"""Who may connect to whom: NetworkPolicy (Calico, Cilium) semantics over the compiled policies.

For every pair of workloads the Plan deploys, the ports a connection is allowed on are those
the source's egress allows *and* the target's ingress allows. A direction no policy selects is
open. Kubernetes NetworkPolicies only allow, and the union of those selecting a pod is what it
may do. With Calico, policies are evaluated by `order` (Kubernetes ones at 1000), first match
wins, and a pod that some policy selects is denied whatever no rule matched. Pods are matched
by selectors only: an `ipBlock` or Calico `nets` never stands for a pod (pod addresses are not
known before they run, and network-config-analyzer reads them the same way). Named ports are
resolved on the pod that receives the connection. CiliumNetworkPolicies are read like
NetworkPolicies (an endpoint some policy selects in a direction is isolated there, and the union
of the allowing rules is what passes) with Cilium's selectors, entities and domains
(posture/cilium.py).

Peers that are not workloads of this Plan (CIDRs, DNS, the API server, other namespaces) are
listed per workload as "outside" allowances, with the policy that allows them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from secureai.diagnostics import SpecPath
from secureai.posture.calico import calico_matches, calico_ports
from secureai.posture.cilium import (
    API_SERVER_PEER,
    FQDN_PEER,
    NAMESPACE_KEY,
    endpoint_labels,
    k8s_style_ports,
    names_namespace,
    plain_selector,
)
from secureai.posture.inventory import NAMESPACE_NAME, Inventory, Workload, selector_matches, selector_text
from secureai.posture.ports import MAX_PORT, PROTOCOLS, PortSet

Direction = Literal["ingress", "egress"]
K8S_ORDER = 1000.0  # Calico's place for Kubernetes NetworkPolicies
NOT_ISOLATED = "no policy isolates it"
_CALICO_ONE_NS = re.compile(r"^projectcalico\.org/name == '([^']+)'$")


@dataclass(frozen=True)
class Flow:
    source: str
    target: str
    ports: PortSet
    via: tuple[str, ...]  # the policies that let it out of the source and into the target
    origin: SpecPath = field(default=(), compare=False)  # spec entry of the first of them


@dataclass(frozen=True)
class Outside:
    """An allowance to or from something that is not a workload of the Plan."""

    workload: str
    direction: Direction
    peer: str
    ports: str
    via: tuple[str, ...]
    port_set: PortSet | None = None  # None when a port is named (no pod to resolve it on)
    origin: SpecPath = field(default=(), compare=False)


@dataclass(frozen=True)
class Exposure:
    """A Service in front of a workload's pods: how others address it, and from where."""

    workload: str
    service: str
    type: str  # ClusterIP | headless | NodePort | LoadBalancer
    ports: str
    origin: SpecPath = field(default=(), compare=False)


@dataclass
class Network:
    flows: list[Flow] = field(default_factory=list)
    outside: list[Outside] = field(default_factory=list)
    # workload id -> directions some policy isolates
    isolated: dict[str, tuple[Direction, ...]] = field(default_factory=dict)
    services: list[Exposure] = field(default_factory=list)

    def flow(self, source: str, target: str) -> Flow | None:
        for f in self.flows:
            if f.source == source and f.target == target:
                return f
        return None


@dataclass
class _Rule:
    policy: str
    order: float
    action: str  # Allow | Deny
    matched: frozenset[str]  # workload ids this rule's peers select
    k8s_ports: list[Mapping[str, Any]] | None = None  # None: every port
    calico: PortSet | None = None
    peers: list[str] = field(default_factory=list)  # outside peers, as text
    ports_text: str = "all"
    ports_known: PortSet | None = None  # the ports without a pod to resolve names on, if no names

    def ports_for(self, target: Workload) -> PortSet:
        if self.calico is not None:
            return self.calico
        return k8s_ports(self.k8s_ports, target)


def k8s_ports(ports: list[Mapping[str, Any]] | None, target: Workload | None) -> PortSet:
    if not ports:
        return PortSet.all()
    ranges = []
    for p in ports:
        proto = str(p.get("protocol", "TCP"))
        port = p.get("port")
        if port is None:
            ranges.append((proto, 1, MAX_PORT))
        elif isinstance(port, int):
            ranges.append((proto, port, int(p.get("endPort", port))))
        else:
            ranges += [
                (proto, int(c["containerPort"]), int(c["containerPort"]))
                for c in (target.container_ports() if target else [])
                if c.get("name") == port and c.get("protocol", "TCP") == proto
            ]
    return PortSet.of(ranges)


def _ports_text(ports: list[Mapping[str, Any]] | None) -> str:
    if not ports:
        return "all"
    out = []
    for p in ports:
        proto, port = p.get("protocol", "TCP"), p.get("port")
        if port is None:
            out.append(f"{proto}/all")
        elif "endPort" in p:
            out.append(f"{proto}/{port}-{p['endPort']}")
        else:
            out.append(f"{proto}/{port}")
    return ", ".join(out)


class _Analyzer:
    def __init__(self, inv: Inventory) -> None:
        self.inv = inv
        self.workloads = inv.workloads
        self.by_ns: dict[str, list[Workload]] = {}
        for w in self.workloads:
            self.by_ns.setdefault(w.namespace, []).append(w)
        self.ns_labels = {ns: inv.namespace_labels(ns) for ns in self.by_ns}
        self.calico_ns_labels = {ns: inv.namespace_labels(ns, calico=True) for ns in self.by_ns}
        self.all_ids = frozenset(w.id for w in self.workloads)
        self._interned: dict[tuple[int, ...], list[_Rule]] = {}
        self.origins: dict[str, SpecPath] = {w.id: w.resource.source for w in self.workloads}
        self.policies: list[tuple[Mapping[str, Any], dict[Direction, list[_Rule]], str]] = []
        for r in inv.network_policies:
            self.policies.append(self._k8s(r.properties))
            self.origins[self.policies[-1][2]] = r.source
        for r in inv.calico_policies:
            self.policies.append(self._calico(r.properties))
            self.origins[self.policies[-1][2]] = r.source
        for r in inv.cilium_policies:
            self.policies.append(self._cilium(r.properties))
            self.origins[self.policies[-1][2]] = r.source
        self.k8s_by_ns: dict[str, list[tuple[Mapping[str, Any], dict[Direction, list[_Rule]], str]]] = {}
        # Calico's, and Cilium's cluster-wide ones: they may select pods of any namespace.
        self.calico_policies = [
            p
            for p in self.policies
            if p[0]["kind"] == "calico" or (p[0]["kind"] == "cilium" and p[0]["namespace"] is None)
        ]
        for policy in self.policies:
            if policy[0]["kind"] == "k8s" or (
                policy[0]["kind"] == "cilium" and policy[0]["namespace"] is not None
            ):
                self.k8s_by_ns.setdefault(policy[0]["namespace"], []).append(policy)

    # ---------------------------------------------------------------- Kubernetes policies

    def _k8s(self, m: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[Direction, list[_Rule]], str]:
        ns = m["metadata"]["namespace"]
        name = f"NetworkPolicy {ns}/{m['metadata']['name']}"
        spec = m.get("spec", {})
        rules: dict[Direction, list[_Rule]] = {}
        for direction, key, peer_key in (("ingress", "ingress", "from"), ("egress", "egress", "to")):
            out = []
            for entry in spec.get(key, []) or []:
                peers = entry.get(peer_key)
                matched, outside = self._k8s_peers(ns, peers)
                ports = entry.get("ports") or None
                known = (
                    None
                    if any(isinstance(p.get("port"), str) for p in ports or [])
                    else k8s_ports(ports, None)
                )
                out.append(
                    _Rule(name, K8S_ORDER, "Allow", matched, ports, None, outside, _ports_text(ports), known)
                )
            rules[direction] = out  # type: ignore[index]
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])
        selects = {"kind": "k8s", "namespace": ns, "selector": spec.get("podSelector", {}), "types": types}
        return selects, rules, name

    def _k8s_peers(self, ns: str, peers: list[Mapping[str, Any]] | None) -> tuple[frozenset[str], list[str]]:
        if not peers:
            return self.all_ids, ["anywhere"]
        matched: set[str] = set()
        outside: list[str] = []
        for peer in peers:
            if "ipBlock" in peer:
                block = peer["ipBlock"]
                text = str(block["cidr"])
                if block.get("except"):
                    text += " except " + ", ".join(block["except"])
                outside.append(text)
                continue
            ns_sel = peer.get("namespaceSelector")
            pod_sel = peer.get("podSelector")
            if ns_sel is None:
                spaces = [ns]
            else:
                spaces = [n for n in self.by_ns if selector_matches(ns_sel, self.ns_labels[n])]
            for n in spaces:
                matched.update(w.id for w in self.by_ns.get(n, []) if selector_matches(pod_sel, w.labels))
            if ns_sel is None:
                only: str | None = ns
            elif set(ns_sel.get("matchLabels", {})) == {NAMESPACE_NAME} and not ns_sel.get(
                "matchExpressions"
            ):
                only = str(ns_sel["matchLabels"][NAMESPACE_NAME])
            else:
                only = None
            if only is None:
                outside.append(f"{_pods(pod_sel)} in namespaces {selector_text(ns_sel)}")
            elif not self.inv.declared(only):
                outside.append(f"{_pods(pod_sel)} in namespace {only}")
        return frozenset(matched), outside

    # ---------------------------------------------------------------- Calico policies

    def _calico(self, m: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[Direction, list[_Rule]], str]:
        spec = m.get("spec", {})
        kind = m["kind"]
        ns = m["metadata"].get("namespace")
        name = (
            f"{kind} {m['metadata']['name']}" if ns is None else f"Calico {kind} {ns}/{m['metadata']['name']}"
        )
        order = float(spec.get("order", float("inf")))
        rules: dict[Direction, list[_Rule]] = {}
        for direction, peer_key in (("ingress", "source"), ("egress", "destination")):
            out = []
            for rule in spec.get(direction, []) or []:
                peer = rule.get(peer_key, {}) or {}
                matched, outside = self._calico_peer(ns, peer)
                ports = calico_ports(rule.get("protocol"), rule.get("destination", {}).get("ports"))
                out.append(
                    _Rule(
                        name, order, str(rule["action"]), matched, None, ports, outside, ports.text(), ports
                    )
                )
            rules[direction] = out  # type: ignore[index]
        types = spec.get("types") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])
        selects = {
            "kind": "calico",
            "namespace": ns,
            "namespaceSelector": spec.get("namespaceSelector"),
            "selector": spec.get("selector"),
            "types": types,
        }
        return selects, rules, name

    def _calico_peer(self, ns: str | None, peer: Mapping[str, Any]) -> tuple[frozenset[str], list[str]]:
        if peer.get("nets"):
            return frozenset(), [", ".join(peer["nets"])]
        ns_sel, sel = peer.get("namespaceSelector"), peer.get("selector")
        if ns_sel is None and sel is None:
            return self.all_ids, ["anywhere"]
        spaces = [
            n
            for n in self.by_ns
            if (ns_sel is None and (ns is None or n == ns))
            or (ns_sel and calico_matches(ns_sel, self.calico_ns_labels[n]))
        ]
        matched = frozenset(w.id for n in spaces for w in self.by_ns[n] if calico_matches(sel, w.labels))
        named = _CALICO_ONE_NS.match(ns_sel or "")
        if named and self.inv.declared(named[1]):
            return matched, []
        where = f"namespaces {ns_sel}" if ns_sel else "all namespaces" if ns is None else f"namespace {ns}"
        if named:
            where = f"namespace {named[1]}"
        return matched, [f"{_calico_pods(sel)} in {where}"]

    # ---------------------------------------------------------------- Cilium policies

    def _cilium(self, m: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[Direction, list[_Rule]], str]:
        ns = m["metadata"].get("namespace")  # None: a CiliumClusterwideNetworkPolicy
        name = (
            f"{m['kind']} {m['metadata']['name']}"
            if ns is None
            else f"{m['kind']} {ns}/{m['metadata']['name']}"
        )
        spec = m.get("spec", {})
        rules: dict[Direction, list[_Rule]] = {}
        for direction, side in (("ingress", "from"), ("egress", "to")):
            out = []
            for entry in spec.get(direction, []) or []:
                matched, outside = self._cilium_peers(ns, entry, side)
                ports = k8s_style_ports(entry.get("toPorts"))
                known = (
                    None
                    if any(isinstance(p.get("port"), str) for p in ports or [])
                    else k8s_ports(ports, None)
                )
                out.append(
                    _Rule(name, K8S_ORDER, "Allow", matched, ports, None, outside, _ports_text(ports), known)
                )
            rules[direction] = out  # type: ignore[index]
        deny = spec.get("enableDefaultDeny") or {}
        types = [
            d.capitalize()
            for d in ("ingress", "egress")
            if deny.get(d, bool(spec.get(d) or spec.get(f"{d}Deny")))
        ]
        selects = {
            "kind": "cilium",
            "namespace": ns,
            "selector": plain_selector(spec.get("endpointSelector") or {}),
            "types": types,
        }
        return selects, rules, name

    def _cilium_labels(self, w: Workload) -> dict[str, str]:
        return endpoint_labels(w.labels, w.namespace, self.ns_labels[w.namespace])

    def _cilium_peers(
        self, ns: str | None, entry: Mapping[str, Any], side: str
    ) -> tuple[frozenset[str], list[str]]:
        matched: set[str] = set()
        outside: list[str] = []
        for raw in entry.get(f"{side}Endpoints", []) or []:
            sel = plain_selector(raw)
            anywhere = names_namespace(sel) or ns is None  # cluster-wide: every namespace
            for n, ws in self.by_ns.items():
                if anywhere or n == ns:
                    matched.update(w.id for w in ws if selector_matches(sel, self._cilium_labels(w)))
            only = sel.get("matchLabels", {}).get(NAMESPACE_KEY, ns if not anywhere else None)
            rest = {k: v for k, v in sel.get("matchLabels", {}).items() if k != NAMESPACE_KEY}
            pods = _pods({"matchLabels": rest} if rest else None)
            if only is None:
                outside.append(f"{pods} in namespaces {selector_text(sel)}")
            elif not self.inv.declared(str(only)):
                outside.append(f"{pods} in namespace {only}")
        for block in entry.get(f"{side}CIDRSet", []) or []:
            text = str(block.get("cidr"))
            if block.get("except"):
                text += " except " + ", ".join(block["except"])
            outside.append(text)
        outside += [str(c) for c in entry.get(f"{side}CIDR", []) or []]
        for entity in entry.get(f"{side}Entities", []) or []:
            if entity in ("all", "cluster"):
                matched.update(self.all_ids)
            outside.append(API_SERVER_PEER if entity == "kube-apiserver" else f"entity {entity}")
        for fqdn in entry.get("toFQDNs", []) or [] if side == "to" else []:
            outside.append(FQDN_PEER + str(fqdn.get("matchName") or fqdn.get("matchPattern")))
        peer_keys = [k for k in entry if k.startswith(side) or k == "toFQDNs"]
        if not peer_keys and entry.get("toPorts"):
            return self.all_ids, ["anywhere"]  # an L4-only rule: any peer on those ports
        return frozenset(matched), outside

    # ---------------------------------------------------------------- evaluation

    def _selects(self, selects: Mapping[str, Any], w: Workload, direction: Direction) -> bool:
        if direction.capitalize() not in selects["types"]:
            return False
        if selects["kind"] == "k8s":
            return bool(
                selects["namespace"] == w.namespace and selector_matches(selects["selector"], w.labels)
            )
        if selects["kind"] == "cilium":
            return bool(
                selects["namespace"] in (None, w.namespace)
                and selector_matches(selects["selector"], self._cilium_labels(w))
            )
        if selects["namespace"] is not None and selects["namespace"] != w.namespace:
            return False
        ns_sel = selects["namespaceSelector"]
        if ns_sel and not calico_matches(ns_sel, self.calico_ns_labels[w.namespace]):
            return False
        return calico_matches(selects["selector"], w.labels)

    def rules_of(self, w: Workload, direction: Direction) -> list[_Rule] | None:
        """The ordered rules that apply to `w` in `direction`; None when nothing isolates it."""
        candidates = [*self.k8s_by_ns.get(w.namespace, []), *self.calico_policies]
        applying = [rules for selects, rules, _ in candidates if self._selects(selects, w, direction)]
        if not applying:
            return None
        ordered = [rule for rules in applying for rule in rules[direction]]
        ordered.sort(key=lambda r: r.order)  # stable: k8s policies keep plan order
        return self._interned.setdefault(tuple(map(id, ordered)), ordered)

    @staticmethod
    def allowed(
        rules: list[_Rule] | None, remote: Workload, target: Workload
    ) -> tuple[PortSet, tuple[str, ...]]:
        if rules is None:
            return PortSet.all(), (NOT_ISOLATED,)
        allowed, remaining, via = PortSet.none(), PortSet.all(), []
        for rule in rules:
            if remote.id not in rule.matched:
                continue
            ports = rule.ports_for(target) & remaining
            if not ports:
                continue
            if rule.action == "Allow":
                allowed |= ports
                if rule.policy not in via:
                    via.append(rule.policy)
            remaining -= ports
            if not remaining:
                break
        return allowed, tuple(via)


def _calico_pods(selector: str | None) -> str:
    """`k == 'v' && k2 == 'v2'` reads like a Kubernetes selector, so the two kinds of policy
    name the same peers the same way."""
    if not selector or selector.strip() == "all()":
        return "pods"
    terms = [t.strip() for t in selector.split("&&")]
    simple = [re.fullmatch(r"([A-Za-z0-9_./-]+)\s*==\s*'([^']*)'", t) for t in terms]
    if all(simple):
        return "pods " + ", ".join(sorted(f"{m[1]}={m[2]}" for m in simple if m))
    return f"pods {selector}"


def _pods(selector: Mapping[str, Any] | None) -> str:
    return "pods" if not selector else f"pods {selector_text(selector)}"


def analyze(inv: Inventory) -> Network:
    a = _Analyzer(inv)
    net = Network()
    ingress = {w.id: a.rules_of(w, "ingress") for w in a.workloads}
    egress = {w.id: a.rules_of(w, "egress") for w in a.workloads}
    index = {w.id: i for i, w in enumerate(a.workloads)}
    for w in a.workloads:
        sides: list[Direction] = []
        if ingress[w.id] is not None:
            sides.append("ingress")
        if egress[w.id] is not None:
            sides.append("egress")
        net.isolated[w.id] = tuple(sides)
    _flows(a, net, ingress, egress, index)
    net.services.extend(_services(inv))
    for w in a.workloads:
        for direction, rules in (("ingress", ingress[w.id]), ("egress", egress[w.id])):
            net.outside.extend(_outside(w, direction, rules, a.origins))  # type: ignore[arg-type]
    return net


def _flows(
    a: _Analyzer,
    net: Network,
    ingress: Mapping[str, list[_Rule] | None],
    egress: Mapping[str, list[_Rule] | None],
    index: Mapping[str, int],
) -> None:
    """Every allowed pair, evaluated once per class of alike workloads.

    Two workloads are alike when the same rules apply to them, the same rules match them as
    peers and they declare the same ports: they then connect, and are connected to, the same
    way (a workload never counts as its own peer). A 1,000-workload spec has ~100 classes, so
    the policy evaluation runs per class pair and only the expansion is per workload pair.
    """
    rules = {id(r): r for lists in (*ingress.values(), *egress.values()) if lists for r in lists}
    member: dict[str, list[int]] = {w.id: [] for w in a.workloads}
    for number, rule in enumerate(rules.values()):
        for wid in rule.matched:
            member[wid].append(number)
    classes: dict[tuple[Any, ...], list[Workload]] = {}
    for w in a.workloads:
        ports = tuple(
            sorted(
                (str(p.get("name", "")), int(p["containerPort"]), str(p.get("protocol", "TCP")))
                for p in w.container_ports()
            )
        )
        key = (id(egress[w.id]), id(ingress[w.id]), tuple(member[w.id]), ports)
        classes.setdefault(key, []).append(w)
    class_of = {w.id: key for key, ws in classes.items() for w in ws}
    found: list[Flow] = []
    for sources in classes.values():
        s = sources[0]
        out_rules = egress[s.id]
        if out_rules is None:
            targets = list(classes)
        else:
            matched = {i for r in out_rules if r.action == "Allow" for i in r.matched}
            targets = list(dict.fromkeys(class_of[i] for i in matched))
        for target_key in targets:
            t = classes[target_key][0]
            out_ports, out_via = a.allowed(out_rules, t, t)
            if not out_ports:
                continue
            in_ports, in_via = a.allowed(ingress[t.id], s, t)
            allowed = out_ports & in_ports
            if not allowed:
                continue
            via = (*out_via, *(v for v in in_via if v not in out_via))
            origin = a.origins.get(via[0], ()) if via[0] != NOT_ISOLATED else a.origins[s.id]
            found += [
                Flow(src.id, tgt.id, allowed, via, origin)
                for src in sources
                for tgt in classes[target_key]
                if src is not tgt
            ]
    found.sort(key=lambda f: (index[f.source], index[f.target]))
    net.flows.extend(found)


def _services(inv: Inventory) -> list[Exposure]:
    """Which Services select which workloads' pods. A Service does not widen who may connect
    (NetworkPolicies still decide at the pod), but NodePort and LoadBalancer ones put the pods
    in reach of clients outside the cluster, which a reviewer wants to see."""
    out = []
    for r in inv.services:
        m = r.properties
        spec = m.get("spec", {})
        selector = spec.get("selector")
        if not selector:
            continue
        ns, name = m["metadata"]["namespace"], m["metadata"]["name"]
        kind = str(spec.get("type", "ClusterIP"))
        if kind == "ClusterIP" and spec.get("clusterIP") == "None":
            kind = "headless"
        ports = ", ".join(
            f"{p.get('protocol', 'TCP')}/{p['port']}"
            + (f" (node {p['nodePort']})" if p.get("nodePort") else "")
            for p in spec.get("ports", [])
        )
        for w in inv.workloads:
            if w.namespace == ns and all(w.labels.get(k) == v for k, v in selector.items()):
                out.append(Exposure(w.id, f"{ns}/{name}", kind, ports or "-", r.source))
    return out


def _outside(
    w: Workload, direction: Direction, rules: list[_Rule] | None, origins: Mapping[str, SpecPath]
) -> list[Outside]:
    if rules is None:
        return [
            Outside(w.id, direction, "anywhere", "all", (NOT_ISOLATED,), PortSet.all(), w.resource.source)
        ]
    found: dict[str, tuple[list[PortSet | str], list[str]]] = {}
    for rule in rules:
        if rule.action != "Allow":
            continue
        for peer in rule.peers:
            ports, via = found.setdefault(peer, ([], []))
            ports.append(rule.ports_known if rule.ports_known is not None else rule.ports_text)
            if rule.policy not in via:
                via.append(rule.policy)
    out = []
    for peer, (ports, via) in found.items():
        sets = [p for p in ports if isinstance(p, PortSet)]
        texts = list(dict.fromkeys(p for p in ports if isinstance(p, str)))
        merged = PortSet.none()
        for p in sets:
            merged |= p
        text = ", ".join([*([merged.text()] if sets else []), *texts])
        port_set = None if texts else merged
        out.append(Outside(w.id, direction, peer, text, tuple(via), port_set, origins.get(via[0], ())))
    return out


__all__ = ["PROTOCOLS", "Exposure", "Flow", "Network", "Outside", "analyze"]
