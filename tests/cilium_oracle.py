"""An evaluator of Cilium's policy rules, written from Cilium's documentation and source, apart
from secureai's own posture code (it imports nothing of secureai.posture), to check what the
cilium backend renders.

Given CiliumNetworkPolicies and pods (labels, namespace, container ports) it answers "may pod A
reach pod B on protocol/port P", "may pod A reach domain F on P", "may pod A reach address X on
P" and "may pod A reach the API server on P", by Cilium's semantics in its default enforcement
mode:

- a CiliumNetworkPolicy selects, by `endpointSelector`, endpoints of its own namespace; a
  CiliumClusterwideNetworkPolicy endpoints of every namespace, and its peer selectors too;
- an endpoint selected by a policy that has rules in a direction (`ingress`/`egress`, or their
  Deny forms) is default-deny in that direction, unless `enableDefaultDeny` says otherwise;
  an endpoint nothing isolates is open in that direction;
- what passes is the union of the rules of every policy that selects the endpoint; a
  connection needs the source's egress and the destination's ingress;
- endpoint labels: the pod's labels (source `k8s`), `io.kubernetes.pod.namespace`, and the
  namespace's labels as `io.cilium.k8s.namespace.labels.<key>`; a selector key may name a
  source (`k8s:key`, `any:key`), else it matches any source; a peer selector (`fromEndpoints`,
  `toEndpoints`) that does not constrain `io.kubernetes.pod.namespace` selects in the
  policy's namespace only;
- a rule without any peer field but with `toPorts` allows every peer on those ports; `{}`
  allows nothing; `toPorts` absent: every port; protocol `ANY` or absent: TCP, UDP, SCTP;
  port `0` or absent: every port; a named port is resolved on the receiving pod;
- `toEntities: [kube-apiserver]` is the API server (never an address: an `ipBlock`/CIDR does not
  match it, cilium/cilium#20550); `world` is every address outside the cluster; `all` all;
- `toCIDRSet` matches addresses outside the cluster (never a pod), minus `except`;
- `toFQDNs` (matchName, or matchPattern as pkg/fqdn/matchpattern reads it) allows the addresses
  the pod looked up for a matching name, so a domain is reachable only if the pod may also send
  the lookup through Cilium's DNS proxy: egress on port 53 to the DNS server with an L7 `dns`
  rule whose pattern matches the name.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

NS_KEY = "io.kubernetes.pod.namespace"
NS_LABELS = "io.cilium.k8s.namespace.labels."
PORT_PROTOCOLS = ("TCP", "UDP", "SCTP")


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    labels: Mapping[str, str]
    ports: tuple[tuple[str, int, str], ...] = ()  # (name, number, protocol)

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass
class Cluster:
    policies: list[Mapping[str, Any]]
    pods: list[Pod]
    namespace_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    dns: Pod | None = None  # the cluster DNS pod, for FQDN lookups
    _memo: dict[str, list[tuple[str | None, Mapping[str, Any]]]] = field(default_factory=dict)

    # ------------------------------------------------------------------ labels and selectors

    def labels(self, pod: Pod) -> dict[tuple[str, str], str]:
        out = {("k8s", k): v for k, v in pod.labels.items()}
        out[("k8s", NS_KEY)] = pod.namespace
        for k, v in self.namespace_labels.get(pod.namespace, {}).items():
            out[("k8s", NS_LABELS + k)] = v
        return out

    @staticmethod
    def _key(key: str) -> tuple[str | None, str]:
        source, sep, rest = key.partition(":")
        if sep and source in ("k8s", "any", "reserved", "cidr", "container", "unspec"):
            return (None if source == "any" else source), rest
        return None, key

    def _value(self, labels: Mapping[tuple[str, str], str], key: str) -> str | None:
        source, name = self._key(key)
        for (src, k), v in labels.items():
            if k == name and (source is None or source == src):
                return v
        return None

    def matches(self, selector: Mapping[str, Any], pod: Pod, policy_ns: str | None, peer: bool) -> bool:
        """`policy_ns` None: a CiliumClusterwideNetworkPolicy, whose selectors see every namespace."""
        labels = self.labels(pod)
        scoped = policy_ns is not None and (not peer or not self._names_namespace(selector))
        if scoped and pod.namespace != policy_ns:
            return False
        for k, v in (selector.get("matchLabels") or {}).items():
            if self._value(labels, k) != v:
                return False
        for e in selector.get("matchExpressions") or []:
            have = self._value(labels, e["key"])
            op = e["operator"]
            if op == "Exists" and have is None:
                return False
            if op == "DoesNotExist" and have is not None:
                return False
            if op == "In" and have not in e.get("values", []):
                return False
            if op == "NotIn" and have in e.get("values", []):
                return False
        return True

    def _names_namespace(self, selector: Mapping[str, Any]) -> bool:
        keys = [
            *(selector.get("matchLabels") or {}),
            *(e["key"] for e in selector.get("matchExpressions") or []),
        ]
        return any(self._key(k)[1] == NS_KEY for k in keys)

    # ------------------------------------------------------------------ policies of an endpoint

    def _policies_of(self, pod: Pod) -> list[tuple[str | None, Mapping[str, Any]]]:
        """(namespace, spec) of every policy that selects the pod (namespace None: cluster-wide)."""
        key = pod.id
        if key not in self._memo:
            self._memo[key] = [
                (p["metadata"].get("namespace"), p["spec"])
                for p in self.policies
                if p["kind"] in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")
                and self.matches(
                    p["spec"].get("endpointSelector", {}), pod, p["metadata"].get("namespace"), False
                )
            ]
        return self._memo[key]

    def isolated(self, pod: Pod, direction: str) -> bool:
        for _, spec in self._policies_of(pod):
            default = bool(spec.get(direction) or spec.get(f"{direction}Deny"))
            if (spec.get("enableDefaultDeny") or {}).get(direction, default):
                return True
        return False

    def _rules(self, pod: Pod, direction: str) -> list[tuple[str | None, Mapping[str, Any]]]:
        return [(ns, rule) for ns, spec in self._policies_of(pod) for rule in spec.get(direction) or []]

    # ------------------------------------------------------------------ ports

    @staticmethod
    def _port_ok(rule: Mapping[str, Any], proto: str, port: int, receiver: Pod | None) -> bool:
        to_ports = rule.get("toPorts")
        if not to_ports:
            return True
        for item in to_ports:
            entries = item.get("ports") or []
            if not entries:
                return True
            for entry in entries:
                want = entry.get("protocol") or "ANY"
                if want != "ANY" and want != proto:
                    continue
                if want == "ANY" and proto not in PORT_PROTOCOLS:
                    continue
                raw = str(entry.get("port", "0"))
                if raw.isdigit():
                    lo = int(raw)
                    if lo == 0:
                        return True
                    if lo <= port <= int(entry.get("endPort") or lo):
                        return True
                elif receiver is not None and any(
                    n == raw and num == port and p == proto for n, num, p in receiver.ports
                ):
                    return True
        return False

    # ------------------------------------------------------------------ answers

    def pod_to_pod(self, src: Pod, dst: Pod, proto: str, port: int) -> bool:
        return self._egress_to_pod(src, dst, proto, port) and self._ingress_from_pod(dst, src, proto, port)

    def _egress_to_pod(self, src: Pod, dst: Pod, proto: str, port: int) -> bool:
        if not self.isolated(src, "egress"):
            return True
        for ns, rule in self._rules(src, "egress"):
            if not self._port_ok(rule, proto, port, dst):
                continue
            if self._selects_pod(rule, "to", ns, dst):
                return True
        return False

    def _ingress_from_pod(self, dst: Pod, src: Pod, proto: str, port: int) -> bool:
        if not self.isolated(dst, "ingress"):
            return True
        for ns, rule in self._rules(dst, "ingress"):
            if not self._port_ok(rule, proto, port, dst):
                continue
            if self._selects_pod(rule, "from", ns, src):
                return True
        return False

    def _selects_pod(self, rule: Mapping[str, Any], side: str, ns: str | None, pod: Pod) -> bool:
        if not any(k.startswith(side) for k in rule) and "toFQDNs" not in rule:
            return bool(rule.get("toPorts"))  # an L4-only rule: any peer; `{}`: none
        if any(self.matches(sel, pod, ns, True) for sel in rule.get(f"{side}Endpoints") or []):
            return True
        entities = set(rule.get(f"{side}Entities") or [])
        return bool(entities & {"all", "cluster"})

    def _egress_outside(self, src: Pod, proto: str, port: int, peer_ok: Any) -> bool:
        if not self.isolated(src, "egress"):
            return True
        return any(
            self._port_ok(rule, proto, port, None) and peer_ok(rule) for _, rule in self._rules(src, "egress")
        )

    def to_api_server(self, src: Pod, port: int) -> bool:
        return self._egress_outside(
            src, "TCP", port, lambda r: bool({"kube-apiserver", "all"} & set(r.get("toEntities") or []))
        )

    def to_address(self, src: Pod, address: str, proto: str, port: int) -> bool:
        """An address outside the cluster (not a pod, not the API server)."""
        ip = ipaddress.ip_address(address)

        def inside(rule: Mapping[str, Any]) -> bool:
            if {"world", "all"} & set(rule.get("toEntities") or []):
                return True
            for block in rule.get("toCIDRSet") or []:
                net = ipaddress.ip_network(block["cidr"])
                if (
                    ip.version == net.version
                    and ip in net
                    and not any(
                        ip in ipaddress.ip_network(e)
                        for e in block.get("except") or []
                        if ipaddress.ip_network(e).version == ip.version
                    )
                ):
                    return True
            return any(ip in ipaddress.ip_network(c) for c in rule.get("toCIDR") or [])

        return self._egress_outside(src, proto, port, inside)

    def to_fqdn(self, src: Pod, name: str, proto: str, port: int) -> bool:
        """The addresses `name` resolves to (outside the cluster), after the pod looked it up."""
        if not self.isolated(src, "egress"):
            return True
        return self.may_resolve(src, name) and self._egress_outside(
            src, proto, port, lambda r: any(fqdn_matches(s, name) for s in r.get("toFQDNs") or [])
        )

    def may_resolve(self, src: Pod, name: str) -> bool:
        """The pod may send the lookup of `name` to cluster DNS, through the DNS proxy (an L7
        `dns` rule on that port) so that Cilium learns the answer's addresses."""
        dns = self.dns
        assert dns is not None, "the cluster DNS pod is needed to resolve names"
        for ns, rule in self._rules(src, "egress"):
            if not self._selects_pod(rule, "to", ns, dns):
                continue
            for item in rule.get("toPorts") or []:
                udp53 = any(
                    str(p.get("port")) == "53" and (p.get("protocol") or "ANY") in ("UDP", "ANY")
                    for p in item.get("ports") or []
                )
                patterns = ((item.get("rules") or {}).get("dns")) or []
                if udp53 and any(fqdn_matches(p, name) for p in patterns):
                    return True
        return False


def fqdn_matches(selector: Mapping[str, str], name: str) -> bool:
    """Cilium's FQDNSelector (pkg/policy/api/fqdn.go, pkg/fqdn/matchpattern)."""
    fq = name.lower().rstrip(".") + "."
    if "matchName" in selector:
        return selector["matchName"].lower().rstrip(".") + "." == fq
    pattern = selector["matchPattern"].strip().lower()
    if re.fullmatch(r"[*]+[.]?", pattern):
        return bool(re.fullmatch(r"([-a-z0-9_]+[.])+", fq))
    text = pattern.rstrip(".") + "."
    text = text.replace(".", "[.]")
    text = re.sub(r"^[*]{2,}\[\.\]", r"([-a-z0-9_]+([.][-a-z0-9_]+)*)[.]", text)
    text = re.sub(r"[*]+", "[-a-z0-9_]*", text)
    return bool(re.fullmatch(text, fq))


def ports_of(containers: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, int, str], ...]:
    return tuple(
        (str(p.get("name", "")), int(p["containerPort"]), str(p.get("protocol", "TCP")))
        for c in containers
        for p in c.get("ports", [])
    )


# A spec of every kind of peer and port the cilium backend renders (open and label-chosen
# namespaces, CIDRs with except, named ports, a range, the API server with no kubernetes.apiServer,
# a wildcard domain): used by test_cilium_oracle.py and by the engine's schema test.
MIXED = """\
version: 1
project: mixed
kubernetes:
  version: "1.30"
  networkPlugin: cilium
namespaces:
  front: { network: default-deny, labels: { tier: edge } }
  back: { network: default-deny }
  lab: { network: open }
workloads:
  web:
    namespace: front
    image: ghcr.io/acme/web:1.0.0
    labels: { role: web }
    ports: [http:8080/TCP, 9090]
    runAsUser: 10001
  api:
    namespace: back
    image: ghcr.io/acme/api:1.0.0
    labels: { role: api }
    ports: [http:8000/TCP, grpc:50051/TCP, 53/UDP]
    runAsUser: 10001
  db:
    namespace: back
    image: ghcr.io/acme/db:1.0.0
    labels: { role: db }
    ports: [postgres:5432/TCP]
    runAsUser: 10001
  notebook:
    namespace: lab
    image: ghcr.io/acme/nb:1.0.0
    ports: [8888]
    runAsUser: 10001
network:
  web-to-api:
    namespace: front
    from: [{ pods: { role: web } }]
    to: [{ pods: { role: api }, namespace: back }]
    ports: [http:8000/TCP, grpc:50051/TCP, { port: 29400, endPort: 29500 }]
  api-to-db:
    namespace: back
    from: [{ pods: { role: api } }]
    to: [{ pods: { role: db } }]
    ports: [postgres:5432/TCP]
  edge-to-api-dns:
    namespace: back
    from: [{ namespaceLabels: { tier: edge } }]
    to: [{ pods: { role: api } }]
    ports: [53/UDP]
  lab-to-db:
    namespace: back
    from: [{ namespace: lab }]
    to: [{ pods: { role: db } }, { cidr: 10.0.0.0/8, except: [10.1.0.0/16] }]
  api-out:
    namespace: back
    from: [{ pods: { role: api } }]
    to: [{ apiServer: true }, { cidr: 0.0.0.0/0 }, { fqdn: "*.example.com" }]
    ports: [443]
"""
