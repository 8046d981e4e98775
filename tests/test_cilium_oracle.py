"""The cilium backend renders the intent of the NetworkPolicy one, checked by an evaluator of
Cilium's rules (tests/cilium_oracle.py) on every example spec.

For each spec in specs/, compiled once with `networkPlugin: kubernetes` and once with `cilium`:

- pod to pod: for every ordered pair of workloads (two pods of each, so a workload's own
  replicas count), every protocol and every port that matters (each port and range bound any
  policy or container names, their neighbours, 1 and 65535), Cilium's answer on the rendered
  Cilium policies equals the NetworkPolicy posture (which tests/test_posture_nca.py checks
  against network-config-analyzer);
- outside: every pod of a default-deny namespace reaches cluster DNS on 53 and nothing else
  there, may look names up through the DNS proxy, reaches the API server only if a rule lets it
  (and then by the kube-apiserver entity, on the spec's port), and never the cloud metadata
  endpoint; Vault readers reach `vault.network` on the Vault port;
- secureai's posture of the Cilium policies (what `expect`, `access` and `diff` use) equals the
  NetworkPolicy one;
- llm-platform-cilium's model hub is reachable by name only (huggingface.co, one label under
  s3.amazonaws.com, on 443), from the pods the rule names only;
- negative controls: removing any one allowing rule from a rendered policy of
  llm-platform-cilium, or the DNS proxy rule, makes these checks fail; removing a namespace's
  default deny does not while the cluster-wide backstop stands, and removing both does.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cilium_oracle import MIXED, Cluster, Pod, fqdn_matches, ports_of
from specutil import write_spec

from secureai.compile.build import compile_spec
from secureai.compile.plan import Plan
from secureai.model.spec import Spec
from secureai.pipeline import compile_path
from secureai.posture.inventory import inventory, pod_template
from secureai.posture.network import analyze
from secureai.posture.ports import PortSet

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "specs").glob("*.yaml"))
ENV = {"DB_PASSWORD": "unused", "HF_TOKEN": "unused", "REGISTRY_AUTH_JSON": "{}"}
PROTOCOLS = ("TCP", "UDP", "SCTP")
METADATA = "169.254.169.254"
DNS_POD = Pod("kube-system", "coredns", {"k8s-app": "kube-dns"}, (("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")))


def spec_of(path: Path) -> Spec:
    compiled = compile_path(path, ENV)
    assert compiled.value is not None, [d.text() for d in compiled.diagnostics]
    return compiled.value.spec


def with_plugin(spec: Spec, plugin: str) -> Plan:
    target = spec.kubernetes.model_copy(update={"network_plugin": plugin})
    result = compile_spec(spec.model_copy(update={"kubernetes": target}))
    assert result.value is not None
    return result.value


def cluster(plan: Plan) -> Cluster:
    manifests = [r.properties for r in plan.resources if r.provider != "vault"]
    policies = [m for m in manifests if str(m.get("apiVersion", "")).startswith("cilium.io/")]
    namespaces = {
        m["metadata"]["name"]: {
            **m["metadata"].get("labels", {}),
            "kubernetes.io/metadata.name": m["metadata"]["name"],
        }
        for m in manifests
        if m.get("kind") == "Namespace"
    }
    pods = []
    for m in [*manifests, *(r.properties for r in plan.unmanaged_pods)]:
        template = pod_template(m)
        if template is None:
            continue
        labels, pod = template
        containers = [*pod.get("initContainers", []), *pod.get("containers", [])]
        pods.append(
            Pod(m["metadata"]["namespace"], m["metadata"]["name"], dict(labels), ports_of(containers))
        )
    pods += [dataclasses.replace(p, name=p.name + TWIN) for p in pods]
    return Cluster(policies, pods, namespaces, DNS_POD)


def probe_ports(plan: Plan) -> list[int]:
    """Every port and range bound the plan names (policies, containers), with its neighbours."""
    found: set[int] = {1, 53, 443, 65535}

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key in ("port", "endPort", "containerPort"):
                value = node.get(key)
                if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
                    found.add(int(value))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk([r.properties for r in plan.resources if r.provider != "vault"])
    return sorted({q for p in found for q in (p - 1, p, p + 1) if 1 <= q <= 65535})


TWIN = "~twin"


def intent(plan: Plan) -> dict[tuple[str, str], PortSet]:
    """The NetworkPolicy backend's pod-to-pod answer (checked against nca elsewhere), with a
    second pod of every workload, so flows between a workload's own replicas (a Ray cluster's
    head and workers) are compared too."""
    inv = inventory(plan)
    inv.workloads += [dataclasses.replace(w, name=w.name + TWIN) for w in inv.workloads]
    return {(f.source, f.target): f.ports for f in analyze(inv).flows}


def pod_mismatches(c: Cluster, expected: Mapping[tuple[str, str], PortSet], ports: list[int]) -> list[str]:
    out = []
    for src in c.pods:
        for dst in c.pods:
            if src is dst:
                continue
            allowed = expected.get((src.id, dst.id), PortSet.none())
            for proto in PROTOCOLS:
                for port in ports:
                    want = bool(allowed & PortSet.of([(proto, port, port)]))
                    if c.pod_to_pod(src, dst, proto, port) != want:
                        out.append(f"{src.id} -> {dst.id} {proto}/{port}: cilium {not want}, intent {want}")
    return out


def api_server_expected(spec: Spec, pod: Pod) -> bool:
    """From the spec: a rule to `apiServer: true` whose sources include the pod's workload."""
    for rule in spec.network.values():
        if not any(p.api_server for p in rule.to):
            continue
        for peer in rule.from_:
            if peer.cidr is not None or peer.fqdn is not None or peer.api_server:
                continue
            if peer.namespace_labels is not None:
                ns_labels = {
                    **spec.namespaces[pod.namespace].labels,
                    "kubernetes.io/metadata.name": pod.namespace,
                }
                in_ns = peer.namespace_labels.items() <= ns_labels.items()
            else:
                in_ns = (peer.namespace or rule.namespace) == pod.namespace
            if in_ns and (peer.pods or {}).items() <= pod.labels.items():
                return True
    return False


def outside_mismatches(spec: Spec, c: Cluster) -> list[str]:
    out = []
    api_port = spec.kubernetes.api_server.port if spec.kubernetes.api_server else 443
    for pod in c.pods:
        ns = spec.namespaces.get(pod.namespace)
        if ns is None or ns.network != "default-deny":
            continue  # not isolated by this spec
        if not c.isolated(pod, "egress") or not c.isolated(pod, "ingress"):
            out.append(f"{pod.id}: not isolated")
        if not c.pod_to_pod(pod, DNS_POD, "UDP", 53) or not c.pod_to_pod(pod, DNS_POD, "TCP", 53):
            out.append(f"{pod.id}: no DNS")
        if c.pod_to_pod(pod, DNS_POD, "TCP", 80):
            out.append(f"{pod.id}: reaches the DNS pod beyond port 53")
        if not c.may_resolve(pod, "huggingface.co"):
            out.append(f"{pod.id}: its lookups do not pass the DNS proxy")
        want_api = api_server_expected(spec, pod)
        if c.to_api_server(pod, api_port) != want_api:
            out.append(f"{pod.id}: API server {not want_api}, intent {want_api}")
        if want_api and c.to_api_server(pod, api_port + 1):
            out.append(f"{pod.id}: API server on another port")
        for port in (80, 443):
            if c.to_address(pod, METADATA, "TCP", port):
                out.append(f"{pod.id}: reaches the metadata endpoint on {port}")
    return out


def vault_mismatches(spec: Spec, c: Cluster) -> list[str]:
    """Vault readers in default-deny namespaces (and the External Secrets operator, when it
    syncs for one) reach every `vault.network` peer on the Vault port; by address, no one else."""
    s = spec.vault
    if s is None or not s.network:
        return []
    readers = {
        f"{w.namespace}/{name}"
        for name, w in spec.workloads.items()
        if w.vault is not None
        and w.vault.deliver != "externalSecrets"
        and spec.namespaces.get(w.namespace) is not None
        and spec.namespaces[w.namespace].network == "default-deny"
    }
    pods = list(c.pods)
    eso = s.external_secrets
    if eso is not None and any(
        w.vault and w.vault.deliver == "externalSecrets" for w in spec.workloads.values()
    ):
        ns = spec.namespaces.get(eso.namespace)
        if ns is not None and ns.network == "default-deny":
            operator = Pod(eso.namespace, "external-secrets", dict(eso.pods))
            pods.append(operator)
            readers.add(operator.id)
    c = Cluster(c.policies, pods, c.namespace_labels, c.dns)
    any_cidr_rule = any(p.cidr is not None for r in spec.network.values() for p in r.to)
    out = []
    for pod in pods:
        ns = spec.namespaces.get(pod.namespace)
        if ns is None or ns.network != "default-deny":
            continue
        reader = pod.id.removesuffix(TWIN) in readers
        for peer in s.network:
            if peer.cidr is not None:
                address = str(next(iter(ipaddress.ip_network(peer.cidr))))
                reach = c.to_address(pod, address, "TCP", s.port)
                if reach != reader and (reader or not any_cidr_rule):
                    out.append(f"{pod.id} -> Vault {address}:{s.port}: cilium {reach}, intent {reader}")
            elif peer.fqdn is not None:
                if reader and not c.to_fqdn(pod, peer.fqdn, "TCP", s.port):
                    out.append(f"{pod.id} -> Vault {peer.fqdn}: denied")
            elif peer.namespace is not None and reader:
                server = Pod(peer.namespace, "vault-server", dict(peer.pods or {}))
                if not c.pod_to_pod(pod, server, "TCP", s.port):
                    out.append(f"{pod.id} -> Vault pods in {peer.namespace}: denied")
    return out


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_cilium_policies_carry_the_networkpolicy_intent(path: Path) -> None:
    spec = spec_of(path)
    reference, plan = with_plugin(spec, "kubernetes"), with_plugin(spec, "cilium")
    assert not [r for r in plan.resources if r.properties.get("kind") == "NetworkPolicy"]
    c = cluster(plan)
    expected = intent(reference)
    ports = probe_ports(plan)
    assert pod_mismatches(c, expected, ports) == []
    assert outside_mismatches(spec, c) == []
    assert vault_mismatches(spec, c) == []
    # secureai's own posture reads the CiliumNetworkPolicies the same way (expect, access, diff).
    assert intent(plan) == expected
    # Not vacuous: where the spec isolates, something is allowed and something denied.
    if any(ns.network == "default-deny" for ns in spec.namespaces.values()) and len(c.pods) > 1:
        answers = {c.pod_to_pod(a, b, "TCP", p) for a in c.pods for b in c.pods if a is not b for p in ports}
        assert answers == {True, False} or not expected


LLM = ROOT / "specs" / "llm-platform-cilium.yaml"


def _llm() -> tuple[Spec, Plan, Cluster]:
    spec = spec_of(LLM)
    plan = with_plugin(spec, "cilium")
    return spec, plan, cluster(plan)


def _pod(c: Cluster, ident: str) -> Pod:
    return next(p for p in c.pods if p.id == ident)


def fqdn_mismatches(c: Cluster) -> list[str]:
    """llm-platform-cilium's model hub: inference and the fine-tune reach huggingface.co and S3
    buckets on 443 by name, and nothing else by name; other pods reach neither."""
    hub = {"llm-serving/vllm", "ml-training/finetune"}
    hub |= {h + TWIN for h in hub}
    cases = [
        ("huggingface.co", 443, True),
        ("HuggingFace.co.", 443, True),
        ("my-bucket.s3.amazonaws.com", 443, True),
        ("huggingface.co", 80, False),
        ("my-bucket.s3.amazonaws.com", 80, False),
        ("s3.amazonaws.com", 443, False),  # `*.` is one label, not the name itself
        ("a.b.s3.amazonaws.com", 443, False),  # ... nor several
        ("cdn-lfs.huggingface.co", 443, False),
        ("example.com", 443, False),
    ]
    out = []
    for pod in c.pods:
        for name, port, allowed in cases:
            want = allowed and pod.id in hub
            if c.to_fqdn(pod, name, "TCP", port) != want:
                out.append(f"{pod.id} -> {name}:{port}: cilium {not want}, intent {want}")
        for address in ("8.8.8.8", "3.5.0.10", METADATA):
            if c.to_address(pod, address, "TCP", 443):
                out.append(f"{pod.id} -> {address}:443 by address")
    return out


def test_fqdn_egress_is_by_name_only() -> None:
    _, plan, c = _llm()
    assert fqdn_mismatches(c) == []
    # The same pods and flows as llm-platform.yaml, where the hub is 0.0.0.0/0 on NetworkPolicies.
    np_plan = with_plugin(spec_of(ROOT / "specs" / "llm-platform.yaml"), "kubernetes")
    assert pod_mismatches(c, intent(np_plan), probe_ports(plan)) == []


def _all_mismatches(
    spec: Spec, c: Cluster, expected: Mapping[tuple[str, str], PortSet], ports: list[int]
) -> list[str]:
    fresh = Cluster(c.policies, c.pods, c.namespace_labels, c.dns)
    return [
        *pod_mismatches(fresh, expected, ports),
        *outside_mismatches(spec, fresh),
        *fqdn_mismatches(fresh),
        *vault_mismatches(spec, fresh),
    ]


def test_negative_controls_removing_any_rule_fails_the_check() -> None:
    spec, plan, c = _llm()
    expected = intent(with_plugin(spec, "kubernetes"))
    ports = probe_ports(plan)
    assert _all_mismatches(spec, c, expected, ports) == []
    broken = 0
    for index, policy in enumerate(c.policies):
        for direction in ("ingress", "egress"):
            for number, rule in enumerate(policy["spec"].get(direction, [])):
                if rule == {}:
                    continue  # the default deny's empty rules allow nothing: removing one changes nothing
                mutated = copy.deepcopy(c.policies)
                del mutated[index]["spec"][direction][number]
                if not mutated[index]["spec"][direction]:
                    del mutated[index]["spec"][direction]
                changed = Cluster(mutated, c.pods, c.namespace_labels, c.dns)
                assert _all_mismatches(spec, changed, expected, ports), (
                    f"removing {direction} rule {number} of {policy['metadata'].get('namespace')}/"
                    f"{policy['metadata']['name']} went unnoticed"
                )
                broken += 1
    assert broken >= 20

    # The DNS proxy rule: without it Cilium never learns the hub's addresses.
    mutated = copy.deepcopy(c.policies)
    for p in mutated:
        if p["metadata"]["name"] == "allow-dns":
            for rule in p["spec"]["egress"]:
                for item in rule["toPorts"]:
                    item.pop("rules")
    assert fqdn_mismatches(Cluster(mutated, c.pods, c.namespace_labels, c.dns))

    # The default deny of monitoring (nothing else isolates Prometheus' ingress): deleting the
    # namespace's policy changes nothing while the cluster-wide backstop stands; deleting both
    # opens it.
    def without(*policies: tuple[str | None, str]) -> Cluster:
        kept = [
            p
            for p in copy.deepcopy(c.policies)
            if (p["metadata"].get("namespace"), p["metadata"]["name"]) not in policies
        ]
        return Cluster(kept, c.pods, c.namespace_labels, c.dns)

    assert _all_mismatches(spec, without(("monitoring", "default-deny")), expected, ports) == []
    backstop = (None, "llm-platform-cilium-default-deny")
    assert _all_mismatches(spec, without(("monitoring", "default-deny"), backstop), expected, ports)


def test_the_oracle_reads_cilium_selectors_and_cidrs() -> None:
    """The evaluator itself on hand-written policies: namespace scoping of peer selectors,
    namespace labels, CIDR except, L4-only rules, a bare `*` pattern."""
    web = Pod("front", "web", {"role": "web"})
    api = Pod("back", "api", {"role": "api"}, (("http", 8000, "TCP"),))
    other = Pod("front", "api", {"role": "api"}, (("http", 8000, "TCP"),))
    policy = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "p", "namespace": "back"},
        "spec": {
            "endpointSelector": {"matchLabels": {"role": "api"}},
            "ingress": [
                {
                    "fromEndpoints": [{"matchLabels": {"role": "web"}}],
                    "toPorts": [{"ports": [{"port": "http"}]}],
                }
            ],
        },
    }
    c = Cluster([policy], [web, api, other], {"front": {"tier": "edge"}}, DNS_POD)
    assert not c.pod_to_pod(web, api, "TCP", 8000)  # `role: web` without a namespace: in back only
    assert c.pod_to_pod(web, other, "TCP", 1)  # front/api is selected by nothing
    policy["spec"]["ingress"][0]["fromEndpoints"] = [
        {
            "matchLabels": {"k8s:io.cilium.k8s.namespace.labels.tier": "edge"},
            "matchExpressions": [{"key": "k8s:io.kubernetes.pod.namespace", "operator": "Exists"}],
        }
    ]
    c = Cluster([policy], [web, api, other], {"front": {"tier": "edge"}}, DNS_POD)
    assert c.pod_to_pod(web, api, "TCP", 8000) and not c.pod_to_pod(web, api, "TCP", 8001)
    assert not c.pod_to_pod(web, api, "UDP", 8000)
    egress = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "out", "namespace": "front"},
        "spec": {
            "endpointSelector": {},
            "egress": [{"toCIDRSet": [{"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}]}],
        },
    }
    c = Cluster([egress], [web], {}, DNS_POD)
    assert c.to_address(web, "8.8.8.8", "TCP", 443) and not c.to_address(web, METADATA, "TCP", 80)
    assert not c.to_api_server(web, 443)  # a CIDR does not match the API server
    assert not c.to_fqdn(web, "example.com", "TCP", 443)  # no lookup through the proxy
    assert fqdn_matches({"matchPattern": "*"}, "example.com") and not fqdn_matches(
        {"matchName": "a.com"}, "b.a.com"
    )
    assert fqdn_matches({"matchPattern": "**.a.com"}, "x.y.a.com")


def test_mixed_semantics_agree(tmp_path: Path) -> None:
    """Open namespaces, label-chosen namespaces, CIDRs with except, named ports, a range, the API
    server without kubernetes.apiServer (the entity needs no address) and a wildcard domain."""
    spec = spec_of(write_spec(tmp_path, MIXED))
    plan = with_plugin(spec, "cilium")
    c = cluster(plan)
    no_fqdn = spec.model_copy(
        update={
            "network": {
                name: rule.model_copy(
                    update={"to": [p for p in rule.to if p.fqdn is None and not p.api_server]}
                )
                for name, rule in spec.network.items()
            }
        }
    )
    assert pod_mismatches(c, intent(with_plugin(no_fqdn, "kubernetes")), probe_ports(plan)) == []
    assert outside_mismatches(spec, c) == []
    api, web, db = _pod(c, "back/api"), _pod(c, "front/web"), _pod(c, "back/db")
    assert c.pod_to_pod(web, api, "TCP", 29450) and not c.pod_to_pod(web, api, "TCP", 29501)
    assert c.to_address(api, "8.8.8.8", "TCP", 443) and not c.to_address(api, "8.8.8.8", "TCP", 80)
    assert not c.to_address(api, METADATA, "TCP", 443)
    assert c.to_api_server(api, 443) and not c.to_api_server(db, 443)
    assert c.to_fqdn(api, "www.example.com", "TCP", 443) and not c.to_fqdn(api, "example.com", "TCP", 443)
    assert c.to_address(db, "10.2.0.1", "TCP", 5432) is False  # lab-to-db's CIDR is lab's egress, lab is open
