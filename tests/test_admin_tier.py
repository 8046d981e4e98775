"""The admin tier (`kubernetes.adminNetworkPolicy`) keeps the spec's intent and closes what a
namespace owner's own NetworkPolicy would open, by an evaluator of the AdminNetworkPolicy
semantics (tests/anp_oracle.py) over secureai's NetworkPolicy posture.

- Intent: for every example, with each network plugin (kubernetes, calico, cilium), the tier
  turned on changes no answer: for every ordered pair of workloads (two pods of each), every
  protocol and every port that matters, admin tier + the namespace policies allow exactly what the
  namespace policies alone allow (no admin rule of one priority disagrees with another either).
- The point of it: with an allow-everything NetworkPolicy added to every namespace (what a
  namespace owner can do), every pair in two different namespaces of the spec still gets exactly
  the spec's answer; without the tier the same NetworkPolicies open cross-namespace flows.
- Negative controls: removing any one Pass rule of llm-platform's admin tier breaks a declared
  flow; removing a Deny (with the other direction's Denies, which cover the same pairs when both
  ends are isolated) lets the allow-everything policy through.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from anp_oracle import AdminTier, Ambiguous, Pod, rules_of
from cilium_oracle import MIXED
from specutil import write_spec
from test_cilium_oracle import EXAMPLES, ROOT, TWIN, probe_ports, spec_of

from secureai.compile.build import compile_spec
from secureai.compile.kubernetes.admin_tier import ANP, KIND
from secureai.compile.kubernetes.common import resource
from secureai.compile.kubernetes.network import NETPOL
from secureai.compile.plan import Plan
from secureai.model.spec import Spec
from secureai.model.target import AdminNetworkPolicy
from secureai.posture.inventory import Inventory, Workload, inventory
from secureai.posture.network import _Analyzer, analyze
from secureai.posture.ports import PortSet

PROTOCOLS = ("TCP", "UDP", "SCTP")
PRIORITY = 40
LLM = ROOT / "specs" / "llm-platform.yaml"


def compiled(spec: Spec, plugin: str, tier: bool) -> Plan:
    update: dict[str, Any] = {"network_plugin": plugin}
    update["admin_network_policy"] = AdminNetworkPolicy(priority=PRIORITY) if tier else None
    result = compile_spec(spec.model_copy(update={"kubernetes": spec.kubernetes.model_copy(update=update)}))
    assert result.value is not None
    return result.value


def admin_policies(plan: Plan) -> list[Mapping[str, Any]]:
    return [r.properties for r in plan.resources if r.properties.get("kind") == KIND]


def with_twins(inv: Inventory) -> Inventory:
    inv.workloads += [dataclasses.replace(w, name=w.name + TWIN) for w in inv.workloads]
    return inv


def allow_everything(namespaces: list[str]) -> list[Any]:
    """What a namespace owner may add: a NetworkPolicy that allows every connection in and out."""
    body = {
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [{}], "egress": [{}]}
    }
    return [resource(NETPOL, "NetworkPolicy", "owner-allows-everything", ns, body, ()) for ns in namespaces]


class Checker:
    """Admin tier (the oracle) over the namespace policies (secureai's posture), for a plan's pods."""

    def __init__(self, plan: Plan, admin: list[Mapping[str, Any]], extra_netpols: list[Any] = ()) -> None:  # type: ignore[assignment]
        inv = with_twins(inventory(plan))
        inv.network_policies += list(extra_netpols)
        self.analyzer = _Analyzer(inv)
        self.workloads: dict[str, Workload] = {w.id: w for w in inv.workloads}
        self.pods = [
            Pod(
                w.namespace,
                w.name,
                dict(w.labels),
                tuple(
                    (str(p.get("name", "")), int(p["containerPort"]), str(p.get("protocol", "TCP")))
                    for p in w.container_ports()
                ),
            )
            for w in inv.workloads
        ]
        self.tier = AdminTier(admin, {ns: inv.namespace_labels(ns) for ns in inv.namespaces})
        self._rules: dict[tuple[str, str], Any] = {}
        self._ports: dict[tuple[str, str, str], PortSet] = {}

    def netpol(self, pod: Pod, remote: Pod, direction: str, proto: str, port: int) -> bool | None:
        key = (pod.id, direction)
        if key not in self._rules:
            self._rules[key] = self.analyzer.rules_of(self.workloads[pod.id], direction)  # type: ignore[arg-type]
        rules = self._rules[key]
        if rules is None:
            return None
        pkey = (pod.id, remote.id, direction)
        if pkey not in self._ports:
            w, r = self.workloads[pod.id], self.workloads[remote.id]
            target = w if direction == "ingress" else r
            self._ports[pkey] = self.analyzer.allowed(rules, r, target)[0]
        return bool(self._ports[pkey] & PortSet.of([(proto, port, port)]))

    def connects(self, src: Pod, dst: Pod, proto: str, port: int) -> bool:
        return self.tier.connects(src, dst, proto, port, self.netpol)

    def mismatches(
        self,
        expected: Mapping[tuple[str, str], PortSet],
        ports: list[int],
        cross_namespace_only: bool = False,
    ) -> list[str]:
        out = []
        for src in self.pods:
            for dst in self.pods:
                if src is dst or (cross_namespace_only and src.namespace == dst.namespace):
                    continue
                allowed = expected.get((src.id, dst.id), PortSet.none())
                for proto in PROTOCOLS:
                    for port in ports:
                        want = bool(allowed & PortSet.of([(proto, port, port)]))
                        if self.connects(src, dst, proto, port) != want:
                            out.append(f"{src.id} -> {dst.id} {proto}/{port}: tier {not want}, intent {want}")
        return out


def intent(plan: Plan) -> dict[tuple[str, str], PortSet]:
    return {(f.source, f.target): f.ports for f in analyze(with_twins(inventory(plan))).flows}


def spec_namespaces(spec: Spec) -> list[str]:
    return list(spec.namespaces)


CASES = [(path, plugin) for path in EXAMPLES for plugin in ("kubernetes", "calico", "cilium")]


@pytest.mark.parametrize(("path", "plugin"), CASES, ids=[f"{p.stem}-{q}" for p, q in CASES])
def test_the_admin_tier_keeps_the_intent_and_stops_an_owners_allow_all(path: Path, plugin: str) -> None:
    spec = spec_of(path)
    plain, tiered = compiled(spec, plugin, False), compiled(spec, plugin, True)
    admin = admin_policies(tiered)
    # Everything else is the same: the tier only adds AdminNetworkPolicies.
    assert [r for r in tiered.resources if r.properties.get("kind") != KIND] == list(plain.resources)
    assert all(m["apiVersion"] == ANP for m in admin)
    expected = intent(plain)
    ports = probe_ports(tiered)
    assert Checker(tiered, admin).mismatches(expected, ports) == []
    isolated = [n for n, ns in spec.namespaces.items() if ns.network == "default-deny"]
    assert {m["metadata"]["name"] for m in admin} >= {
        f"{spec.project}-{n}-cross-namespace" for n in isolated if len(spec.namespaces) > 1
    }
    # A namespace owner's allow-everything NetworkPolicy in every namespace: across namespaces
    # of the spec nothing opens beyond the intent.
    owners = allow_everything(spec_namespaces(spec))
    assert Checker(tiered, admin, owners).mismatches(expected, ports, cross_namespace_only=True) == []
    if len(isolated) > 0 and len(spec.namespaces) > 1:
        # ... which it would, without the tier (so the check above is not vacuous)
        assert Checker(plain, [], owners).mismatches(expected, ports, cross_namespace_only=True)


def test_removing_any_admin_rule_fails_the_check() -> None:
    spec = spec_of(LLM)
    plain, tiered = compiled(spec, "kubernetes", False), compiled(spec, "kubernetes", True)
    admin = admin_policies(tiered)
    expected, ports = intent(plain), probe_ports(tiered)
    owners = allow_everything(spec_namespaces(spec))
    passes = denies = 0
    for index, direction, number in rules_of(admin):
        mutated = copy.deepcopy(admin)
        rule = mutated[index]["spec"][direction].pop(number)
        where = f"{admin[index]['metadata']['name']} {direction} rule {number} ({rule['action']})"
        if rule["action"] == "Pass":
            # A declared flow (or DNS) now hits the Deny below it.
            assert Checker(tiered, mutated).mismatches(expected, ports), f"removing {where} went unnoticed"
            passes += 1
        else:
            # The Deny is what stops the owner's allow-everything policy. The other direction's
            # Denies stop it as well where both ends are in default-deny namespaces of the spec
            # (llm-platform has no open one), so they go too: each Deny suffices on its own.
            other = "egress" if direction == "ingress" else "ingress"
            for policy in mutated:
                policy["spec"][other] = [r for r in policy["spec"].get(other, []) if r["action"] != "Deny"]
            found = Checker(tiered, mutated, owners).mismatches(expected, ports, cross_namespace_only=True)
            assert found, f"removing {where} went unnoticed"
            denies += 1
    assert passes >= 10 and denies >= 10, (passes, denies)


def test_the_oracle_reads_priorities_rule_order_pass_and_the_baseline() -> None:
    """The evaluator itself on hand-written policies."""
    a = Pod("a", "x", {"app": "x"}, (("http", 8080, "TCP"),))
    b = Pod("b", "y", {"app": "y"}, (("http", 8080, "TCP"),))

    def anp(name: str, priority: int, ingress: list[Any]) -> dict[str, Any]:
        return {
            "kind": "AdminNetworkPolicy",
            "metadata": {"name": name},
            "spec": {
                "priority": priority,
                "subject": {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "b"}}},
                "ingress": ingress,
            },
        }

    from_a = [{"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "a"}}}]
    http = [{"portNumber": {"protocol": "TCP", "port": 8080}}]

    def np_denies(pod: Pod, remote: Pod, direction: str, *_: Any) -> bool | None:
        return False if direction == "ingress" else None  # b's ingress isolated, nothing allowed

    np_none = lambda *_: None  # noqa: E731  no NetworkPolicy selects the pod
    np_allows = lambda *_: True  # noqa: E731

    deny_all = anp("deny", 20, [{"action": "Deny", "from": from_a}])
    pass_http = anp("pass", 10, [{"action": "Pass", "from": from_a, "ports": http}])
    tier = AdminTier([deny_all, pass_http], {})
    assert tier.connects(a, b, "TCP", 8080, np_allows)  # priority 10 first: Pass, then the NP
    assert not tier.connects(a, b, "TCP", 8080, np_denies)
    assert not tier.connects(a, b, "TCP", 8081, np_allows)  # no Pass rule matches: Deny at 20
    assert tier.connects(b, a, "TCP", 1, np_none)  # b's egress, a's ingress: nothing selects
    # Rule order inside one policy: the first matching rule decides.
    ordered = anp(
        "o", 5, [{"action": "Allow", "from": from_a, "ports": http}, {"action": "Deny", "from": from_a}]
    )
    assert AdminTier([ordered], {}).connects(a, b, "TCP", 8080, np_denies)  # Allow beats the NP
    assert not AdminTier([ordered], {}).connects(a, b, "TCP", 9, np_allows)
    # The baseline counts only where no NetworkPolicy selects the pod.
    banp = {
        "kind": "BaselineAdminNetworkPolicy",
        "metadata": {"name": "default"},
        "spec": {
            "subject": {"namespaces": {}},
            "ingress": [{"action": "Deny", "from": [{"namespaces": {}}]}],
        },
    }
    assert not AdminTier([banp], {}).connects(a, b, "TCP", 1, np_none)
    assert AdminTier([banp], {}).connects(a, b, "TCP", 1, np_allows)
    assert AdminTier([pass_http, banp], {}).connects(a, b, "TCP", 8080, np_allows)
    # Named ports resolve on the receiving pod; pods peers need both selectors to match.
    named = anp("n", 1, [{"action": "Allow", "from": from_a, "ports": [{"namedPort": "http"}]}])
    assert AdminTier([named], {}).connects(a, b, "TCP", 8080, np_denies)
    pods_peer = [{"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "z"}}}}]
    assert not AdminTier([anp("p", 1, [{"action": "Allow", "from": pods_peer}])], {}).connects(
        a, b, "TCP", 1, np_denies
    )
    # Two policies of one priority that disagree: undefined, refused.
    with pytest.raises(Ambiguous):
        AdminTier(
            [
                anp("d", 7, [{"action": "Deny", "from": from_a}]),
                anp("p", 7, [{"action": "Pass", "from": from_a}]),
            ],
            {},
        ).connects(a, b, "TCP", 1, np_allows)


def test_off_by_default_and_in_the_schema() -> None:
    spec = spec_of(LLM)
    assert spec.kubernetes.admin_network_policy is None
    assert admin_policies(compiled(spec, "kubernetes", False)) == []
    with pytest.raises(ValueError):
        AdminNetworkPolicy(priority=1000)  # the Deny policies take priority + 1, at most 1000


@pytest.mark.parametrize("plugin", ["kubernetes", "cilium"])
def test_every_kind_of_peer(plugin: str, tmp_path: Path) -> None:
    """cilium_oracle.MIXED: an open namespace (its sources meet the ingress Deny alone),
    namespaces chosen by labels, a whole namespace as a peer, named ports, a range; CIDRs, the API
    server and a domain get no admin rule (they are not namespaces of the spec). Domains only
    where the plugin can enforce them."""
    spec = spec_of(write_spec(tmp_path, MIXED))
    if plugin == "kubernetes":
        spec = spec.model_copy(
            update={
                "network": {
                    name: rule.model_copy(
                        update={"to": [p for p in rule.to if p.fqdn is None and not p.api_server]}
                    )
                    for name, rule in spec.network.items()
                }
            }
        )
    plain, tiered = compiled(spec, plugin, False), compiled(spec, plugin, True)
    admin = admin_policies(tiered)
    expected, ports = intent(plain), probe_ports(tiered)
    assert Checker(tiered, admin).mismatches(expected, ports) == []
    owners = allow_everything(list(spec.namespaces))
    assert Checker(tiered, admin, owners).mismatches(expected, ports, cross_namespace_only=True) == []
    assert Checker(plain, [], owners).mismatches(expected, ports, cross_namespace_only=True)
    text = repr(admin)
    for needed in (
        "portRange",
        "'tier': 'edge'",
        "'namespaces': {'matchLabels': {'kubernetes.io/metadata.name': 'lab'}}",
    ):
        assert needed in text, needed
    assert "networks" not in text and "0.0.0.0/0" not in text
    for index, direction, number in rules_of(admin):
        mutated = copy.deepcopy(admin)
        if mutated[index]["spec"][direction].pop(number)["action"] == "Pass":
            assert Checker(tiered, mutated).mismatches(expected, ports), (index, direction, number)


def test_deployed_as_a_custom_resource_before_the_workloads() -> None:
    """policy.networking.k8s.io ends in .k8s.io but is a CRD group: Pulumi registers it as a
    CustomResource (no typed class exists), and it renders with the other network policies."""
    from secureai.pulumi.mapping import target_for
    from secureai.render.kubernetes import ORDER

    plan = compiled(spec_of(LLM), "kubernetes", True)
    (token,) = {r.type for r in plan.resources if r.properties.get("kind") == KIND}
    assert target_for(token).style == "crd"
    assert ORDER[KIND] == ORDER["NetworkPolicy"] < ORDER["Deployment"]


def test_access_lists_the_admin_tier() -> None:
    """`secureai access` shows every admin rule, in the order a CNI checks them; specs without
    the tier print and serialise as before."""
    from secureai.posture import compute_posture
    from secureai.posture.report import as_data, as_text

    spec = spec_of(LLM)
    on = compute_posture(compiled(spec, "kubernetes", True))
    off = compute_posture(compiled(spec, "kubernetes", False))
    assert "admin tier" not in as_text(off) and "adminTier" not in as_data(off)
    assert off.network == on.network  # the tier changes no connection the namespace policies allow
    text = as_text(on)
    assert "# Network: admin tier" in text
    rows = as_data(on)["adminTier"]
    assert [r["priority"] for r in rows] == sorted(r["priority"] for r in rows)
    assert {
        "policy": "llm-platform-vector-db-cross-namespace",
        "priority": PRIORITY + 1,
        "subject": "pods in namespace vector-db",
        "direction": "ingress",
        "action": "Deny",
        "peers": "pods in namespaces llm-serving, ml-training, ingestion, monitoring",
        "ports": "all",
    } in rows
    assert any(
        r["action"] == "Pass" and r["policy"] == "llm-platform-vector-db-inference-to-vector-db-ingress"
        for r in rows
    )


def test_diff_reports_the_tier_turned_off_as_a_removed_protection() -> None:
    from secureai.posture import compute_posture
    from secureai.posture.diff import diff_postures

    spec = spec_of(LLM)
    on = compute_posture(compiled(spec, "kubernetes", True))
    off = compute_posture(compiled(spec, "kubernetes", False))
    assert diff_postures(on, on) == [] and diff_postures(off, on) == []  # turning it on widens nothing
    changes = diff_postures(on, off)
    assert {c.kind for c in changes} == {"removed-protection"} and all(c.widens for c in changes)
    assert len(changes) == 2 * len(spec.namespaces)  # ingress and egress of each namespace
    assert any(
        c.subject == "pods in namespace vector-db"
        and "no longer denies ingress from pods in namespaces llm-serving" in c.detail
        for c in changes
    )


DNS_IN_SPEC = """\
version: 1
project: dnsy
kubernetes:
  version: "1.30"
  adminNetworkPolicy: { priority: 7 }
namespaces:
  kube-system: { network: open }
  app: { network: default-deny }
workloads:
  web:
    namespace: app
    image: ghcr.io/acme/web:1.0.0
    runAsUser: 10001
"""


def test_cluster_dns_in_a_namespace_of_the_spec_stays_reachable(tmp_path: Path) -> None:
    """Where the spec declares the cluster DNS namespace, its Deny would cut every lookup: a Pass
    to the DNS pods on 53 comes first (the namespace's allow-dns NetworkPolicy then decides)."""
    spec = spec_of(write_spec(tmp_path, DNS_IN_SPEC))
    plan = compile_spec(spec).value
    assert plan is not None
    (deny,) = [m for m in admin_policies(plan) if m["metadata"]["name"] == "dnsy-app-cross-namespace"]
    assert [r["action"] for r in deny["spec"]["egress"]] == ["Pass", "Deny"]
    tier = AdminTier(admin_policies(plan), {})
    web = Pod("app", "web", {})
    dns = Pod("kube-system", "coredns", {"k8s-app": "kube-dns"})
    other = Pod("kube-system", "metrics", {"k8s-app": "metrics"})
    assert tier.admin(web, dns, "egress", "UDP", 53) == "Pass"
    assert tier.admin(web, dns, "egress", "TCP", 53) == "Pass"
    assert tier.admin(web, dns, "egress", "TCP", 80) == "Deny"
    assert tier.admin(web, other, "egress", "UDP", 53) == "Deny"
    assert tier.admin(dns, web, "ingress", "TCP", 1) is None  # kube-system is open: not a subject
    assert tier.admin(web, dns, "ingress", "TCP", 1) == "Deny"
