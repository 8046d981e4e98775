"""An evaluator of the admin tier (sigs.k8s.io network-policy-api, `policy.networking.k8s.io/v1alpha1`
AdminNetworkPolicy and BaselineAdminNetworkPolicy), written from the API's documentation (the
CRDs' field descriptions of v0.1.7 and network-policy-api.sigs.k8s.io), apart from secureai's
compile code, to check what `kubernetes.adminNetworkPolicy` renders.

Per direction of a connection (ingress at the receiving pod, egress at the sending pod):

1. the AdminNetworkPolicies whose `subject` selects the pod, by ascending `priority`; within a
   policy its rules in the order written; the first rule whose peers and ports match decides:
   `Allow` (allowed, final), `Deny` (denied, final), `Pass` (skip every remaining admin rule);
   two policies of the same priority whose first matching rules disagree are ambiguous (the API
   leaves the choice to the implementation): the evaluator raises rather than pick one;
2. then (no admin rule matched, or Pass) the NetworkPolicy layer: if a NetworkPolicy selects the
   pod in that direction, its answer (the caller's, from secureai's NetworkPolicy posture, which
   tests/test_posture_nca.py checks against network-config-analyzer);
3. else the BaselineAdminNetworkPolicy (rules in order, first match: Allow or Deny);
4. else allowed.

A connection is allowed when both directions are. Peers: `namespaces` (a selector on the
namespace's labels, `kubernetes.io/metadata.name` included), `pods` (namespace and pod
selectors); `networks` stands for addresses, which pods here have none of, so meeting one in a
pod-to-pod question is an error. Ports: none listed is every port; `portNumber`, `portRange`
(protocol TCP when absent), `namedPort` resolved on the receiving pod.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ANP_KIND = "AdminNetworkPolicy"
BANP_KIND = "BaselineAdminNetworkPolicy"
NAME_LABEL = "kubernetes.io/metadata.name"


class Ambiguous(AssertionError):
    """Two AdminNetworkPolicies of one priority decide the same connection differently."""


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    labels: Mapping[str, str]
    ports: tuple[tuple[str, int, str], ...] = ()  # (name, number, protocol)

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector: {} matches everything."""
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        have, op, values = labels.get(e["key"]), e["operator"], e.get("values") or []
        if op == "In" and have not in values:
            return False
        if op == "NotIn" and have in values:
            return False
        if op == "Exists" and have is None:
            return False
        if op == "DoesNotExist" and have is not None:
            return False
    return True


# (pod, remote, direction, protocol, port) -> allowed, or None when no NetworkPolicy selects the pod
NetworkPolicyLayer = Callable[[Pod, Pod, str, str, int], bool | None]


@dataclass
class AdminTier:
    policies: list[Mapping[str, Any]]
    namespace_labels: Mapping[str, Mapping[str, str]]

    def ns_labels(self, pod: Pod) -> dict[str, str]:
        return {**self.namespace_labels.get(pod.namespace, {}), NAME_LABEL: pod.namespace}

    def _subject(self, subject: Mapping[str, Any], pod: Pod) -> bool:
        if "namespaces" in subject:
            return selector_matches(subject["namespaces"], self.ns_labels(pod))
        pods = subject["pods"]
        return selector_matches(pods["namespaceSelector"], self.ns_labels(pod)) and selector_matches(
            pods["podSelector"], pod.labels
        )

    def _peer(self, peer: Mapping[str, Any], remote: Pod) -> bool:
        if "networks" in peer:
            raise AssertionError(f"a networks peer in a pod-to-pod question: {peer}")
        return self._subject(peer, remote)

    @staticmethod
    def _ports(rule: Mapping[str, Any], proto: str, port: int, receiver: Pod) -> bool:
        ports = rule.get("ports")
        if ports is None:
            return True
        for p in ports:
            if "portNumber" in p:
                n = p["portNumber"]
                if n.get("protocol", "TCP") == proto and n["port"] == port:
                    return True
            elif "portRange" in p:
                r = p["portRange"]
                if r.get("protocol", "TCP") == proto and r["start"] <= port <= r["end"]:
                    return True
            elif "namedPort" in p and any(
                name == p["namedPort"] and num == port and q == proto for name, num, q in receiver.ports
            ):
                return True
        return False

    def _first(
        self, spec: Mapping[str, Any], pod: Pod, remote: Pod, direction: str, proto: str, port: int
    ) -> str | None:
        side = "from" if direction == "ingress" else "to"
        receiver = pod if direction == "ingress" else remote
        for rule in spec.get(direction) or []:
            if self._ports(rule, proto, port, receiver) and any(self._peer(p, remote) for p in rule[side]):
                return str(rule["action"])
        return None

    def admin(self, pod: Pod, remote: Pod, direction: str, proto: str, port: int) -> str | None:
        """The admin tier's action for this direction: Allow, Deny, Pass, or None (no rule matched)."""
        by_priority: dict[int, list[tuple[str, str]]] = {}
        for p in self.policies:
            if p["kind"] != ANP_KIND or not self._subject(p["spec"]["subject"], pod):
                continue
            action = self._first(p["spec"], pod, remote, direction, proto, port)
            if action is not None:
                by_priority.setdefault(int(p["spec"]["priority"]), []).append((p["metadata"]["name"], action))
        if not by_priority:
            return None
        decided = by_priority[min(by_priority)]
        if len({a for _, a in decided}) > 1:
            raise Ambiguous(f"{pod.id} {direction} {remote.id} {proto}/{port}: {decided}")
        return decided[0][1]

    def baseline(self, pod: Pod, remote: Pod, direction: str, proto: str, port: int) -> str | None:
        for p in self.policies:
            if p["kind"] == BANP_KIND and self._subject(p["spec"]["subject"], pod):
                return self._first(p["spec"], pod, remote, direction, proto, port)
        return None

    def direction(
        self, pod: Pod, remote: Pod, direction: str, proto: str, port: int, netpol: NetworkPolicyLayer
    ) -> bool:
        action = self.admin(pod, remote, direction, proto, port)
        if action in ("Allow", "Deny"):
            return action == "Allow"
        below = netpol(pod, remote, direction, proto, port)
        if below is not None:
            return below
        return self.baseline(pod, remote, direction, proto, port) != "Deny"

    def connects(self, src: Pod, dst: Pod, proto: str, port: int, netpol: NetworkPolicyLayer) -> bool:
        return self.direction(src, dst, "egress", proto, port, netpol) and self.direction(
            dst, src, "ingress", proto, port, netpol
        )


def rules_of(policies: Iterable[Mapping[str, Any]]) -> list[tuple[int, str, int]]:
    """(policy index, direction, rule index) of every rule."""
    return [
        (i, d, n)
        for i, p in enumerate(policies)
        for d in ("ingress", "egress")
        for n in range(len(p["spec"].get(d) or []))
    ]
