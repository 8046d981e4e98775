"""The admin tier (opt-in `kubernetes.adminNetworkPolicy`): AdminNetworkPolicies
(`policy.networking.k8s.io/v1alpha1`, sigs.k8s.io/network-policy-api) that keep the spec's
cross-namespace denies even against NetworkPolicies a namespace owner adds.

How a CNI that implements the API evaluates a connection, per direction (ingress on the
receiving pod, egress on the sending pod): the AdminNetworkPolicies whose `subject` selects the
pod, by ascending `priority`, each one's rules in order; the first rule whose peer and ports
match decides: `Allow` and `Deny` are final (no NetworkPolicy can change them), `Pass` skips
the remaining admin rules and hands the connection to the NetworkPolicies (then, if none selects
the pod, to the BaselineAdminNetworkPolicy). A connection no admin rule matches goes on the same
way.

What this renders, so that the admin tier only ever *narrows* what the namespace policies allow:

- per default-deny namespace N of the spec, `<project>-<N>-cross-namespace` at `priority + 1`:
  subject every pod of N; `Deny` ingress from and egress to the spec's other namespaces (open ones
  included: a default-deny namespace's policies deny that traffic too). Same-namespace traffic and
  traffic to or from anything outside the spec's namespaces is not matched: it stays with N's
  own policies. A `Pass` to cluster DNS comes first when DNS runs in another namespace of the spec.
- per end of each declared flow that may cross into another namespace of the spec, one policy at
  `priority`, named like the NetworkPolicy of that end (`<project>-<ns>-<rule>-ingress`,
  `-egress`, `<project>-<ns>-<workload>-to-vault`, `<project>-<ns>-external-secrets-to-vault`):
  subject exactly the pods of that end; `Pass` from (or to) exactly the declared peers in the other
  namespaces, on the flow's ports. `Pass`, not `Allow`: the declared flow still needs the
  NetworkPolicies that allow it, so an admin rule never lets through more than the spec's
  policies do (an `Allow` would, e.g., if a namespace's policies were narrowed), while anything
  the flows do not name hits the `Deny` below it, whatever a namespace's NetworkPolicies say.

Ports are numbers (a port name is a container's, and `namedPort` is not in the standard channel);
namespaces are selected by `kubernetes.io/metadata.name`. The Pass policies of one priority never
disagree (they only Pass), and each Deny policy selects one namespace, so equal priorities are
never ambiguous here. No BaselineAdminNetworkPolicy is rendered: it is a cluster singleton
(`default`), the cluster administrator's, not a spec's.
"""

from __future__ import annotations

from secureai.compile.kubernetes.common import Manifest, match_name, resource
from secureai.compile.kubernetes.namespaces import namespace_labels
from secureai.compile.kubernetes.network import Group, rule_groups
from secureai.compile.kubernetes.vault_delivery import operator_needs_egress
from secureai.compile.kubernetes.vault_egress import isolated_readers
from secureai.compile.plan import Resource
from secureai.diagnostics import SpecPath
from secureai.model.labels import NAMESPACE_NAME, pod_selector
from secureai.model.spec import NetworkRule, Peer, Spec

ANP = "policy.networking.k8s.io/v1alpha1"
KIND = "AdminNetworkPolicy"
DENY_SUFFIX = "cross-namespace"


def compile_admin_tier(spec: Spec) -> list[Resource]:
    tier = spec.kubernetes.admin_network_policy
    if tier is None:
        return []
    out: list[Resource] = []
    for name, rule in spec.network.items():
        out.extend(_flow_policies(spec, name, rule, tier.priority, "ingress"))
        out.extend(_flow_policies(spec, name, rule, tier.priority, "egress"))
    out.extend(_vault_policies(spec, tier.priority))
    for ns, declared in spec.namespaces.items():
        others = [n for n in spec.namespaces if n != ns]
        if declared.network == "default-deny" and others:
            out.append(_deny(spec, ns, others, tier.priority + 1))
    return out


def _policy(
    spec: Spec, ns: str, name: str, subject: Manifest, body: Manifest, priority: int, source: SpecPath
) -> Resource:
    return resource(
        ANP,
        KIND,
        f"{spec.project}-{ns}-{name}",
        None,
        {"spec": {"priority": priority, "subject": subject, **body}},
        source,
        logical=f"admin-{ns}-{name}",
    )


def _subject(ns: str, labels: dict[str, str]) -> Manifest:
    if not labels:
        return {"namespaces": match_name(ns)}
    return {"pods": {"namespaceSelector": match_name(ns), "podSelector": {"matchLabels": dict(labels)}}}


def _in_names(namespaces: list[str]) -> Manifest:
    return {"matchExpressions": [{"key": NAMESPACE_NAME, "operator": "In", "values": namespaces}]}


def _deny(spec: Spec, ns: str, others: list[str], priority: int) -> Resource:
    what = f"the other namespaces of {spec.project}"
    egress: list[Manifest] = []
    dns = spec.kubernetes.cluster_dns
    if dns.namespace in others:
        egress.append(
            {
                "name": "cluster DNS",
                "action": "Pass",
                "to": [
                    {
                        "pods": {
                            "namespaceSelector": match_name(dns.namespace),
                            "podSelector": {"matchLabels": dict(dns.pod_labels)},
                        }
                    }
                ],
                "ports": [{"portNumber": {"protocol": p, "port": 53}} for p in ("UDP", "TCP")],
            }
        )
    egress.append({"name": what, "action": "Deny", "to": [{"namespaces": _in_names(others)}]})
    body = {
        "ingress": [{"name": what, "action": "Deny", "from": [{"namespaces": _in_names(others)}]}],
        "egress": egress,
    }
    return _policy(
        spec, ns, DENY_SUFFIX, {"namespaces": match_name(ns)}, body, priority, ("namespaces", ns, "network")
    )


def admin_peer(spec: Spec, default_ns: str | None, peer: Peer, here: str) -> Manifest | None:
    """A spec peer as an admin-tier peer, seen from namespace `here`; None when it cannot be in
    another namespace of the spec (then the Deny does not reach it and no Pass is needed)."""
    if peer.fqdn is not None or peer.api_server or peer.cidr is not None:
        return None
    pods = {"matchLabels": dict(peer.pods)} if peer.pods else {}
    if peer.namespace_labels is not None:
        wanted = peer.namespace_labels.items()
        if not any(n != here and wanted <= namespace_labels(spec, n).items() for n in spec.namespaces):
            return None
        namespaces: Manifest = {"matchLabels": dict(peer.namespace_labels)}
    else:
        ns = str(peer.namespace or default_ns or here)
        if ns == here or ns not in spec.namespaces:
            return None
        namespaces = match_name(ns)
    if peer.pods is None:
        return {"namespaces": namespaces}
    return {"pods": {"namespaceSelector": namespaces, "podSelector": pods}}


def _ports(rule: NetworkRule) -> list[Manifest]:
    out: list[Manifest] = []
    for p in rule.ports:
        if p.end_port is not None:
            out.append({"portRange": {"protocol": p.protocol, "start": p.port, "end": p.end_port}})
        else:
            out.append({"portNumber": {"protocol": p.protocol, "port": p.port}})
    return out


def _pass(rule_name: str, side: str, peers: list[Manifest], ports: list[Manifest]) -> Manifest:
    entry: Manifest = {"name": rule_name, "action": "Pass", side: peers}
    if ports:
        entry["ports"] = ports
    return entry


def _name(rule: str, direction: str, group: Group, groups: list[Group]) -> str:
    same_ns = [g for g in groups if g.namespace == group.namespace]
    return f"{rule}-{direction}" if len(same_ns) == 1 else f"{rule}-{direction}-{group.index}"


def _flow_policies(spec: Spec, name: str, rule: NetworkRule, priority: int, direction: str) -> list[Resource]:
    """One end's policies of a flow: on the receiving pods (ingress, from the `from` peers) or
    the sending pods (egress, to the `to` peers)."""
    ingress = direction == "ingress"
    ends, others = (rule.to, rule.from_) if ingress else (rule.from_, rule.to)
    groups = rule_groups(spec, rule, ends)
    out: list[Resource] = []
    for group in groups:
        peers = [p for peer in others if (p := admin_peer(spec, rule.namespace, peer, group.namespace))]
        if not peers:
            continue
        body = {direction: [_pass(name, "from" if ingress else "to", peers, _ports(rule))]}
        subject = _subject(group.namespace, group.labels)
        policy_name = _name(name, direction, group, groups)
        out.append(_policy(spec, group.namespace, policy_name, subject, body, priority, ("network", name)))
    return out


def _vault_policies(spec: Spec, priority: int) -> list[Resource]:
    """Vault readers' (and the External Secrets operator's) egress to `vault.network` peers in
    another namespace of the spec."""
    s = spec.vault
    if s is None or not s.network:
        return []
    ports = [{"portNumber": {"protocol": "TCP", "port": s.port}}]
    ends: list[tuple[str, str, dict[str, str], SpecPath]] = [
        (
            spec.workloads[w].namespace,
            f"{w}-to-vault",
            pod_selector(w, spec.workloads[w]),
            ("workloads", w, "vault"),
        )
        for w in isolated_readers(spec)
    ]
    if s.external_secrets is not None and operator_needs_egress(spec):
        eso = s.external_secrets
        ends.append(
            (eso.namespace, "external-secrets-to-vault", dict(eso.pods), ("vault", "externalSecrets"))
        )
    out: list[Resource] = []
    for ns, name, labels, source in ends:
        peers = [p for peer in s.network if not peer.api_server if (p := admin_peer(spec, ns, peer, ns))]
        if peers:
            body = {"egress": [_pass("vault", "to", peers, ports)]}
            out.append(_policy(spec, ns, name, _subject(ns, labels), body, priority, source))
    return out


__all__ = ["ANP", "KIND", "admin_peer", "compile_admin_tier"]
