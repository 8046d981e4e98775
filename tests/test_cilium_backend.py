"""`kubernetes.networkPlugin: cilium`: the spec language (fqdn peers, where they are refused),
and what the backend renders (CiliumNetworkPolicies instead of NetworkPolicies, the API server
as an entity, domains by name, metadata endpoints excluded, Vault egress)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from specutil import BASE, WORKLOAD, messages, write_spec

from secureai.pipeline import compile_path

FULL = BASE + WORKLOAD
CILIUM = FULL.replace('version: "1.30"', 'version: "1.30"\n  networkPlugin: cilium')
HUB = "network:\n  hub:\n    namespace: ml\n    from: [{ namespace: ml }]\n    to: [{ fqdn: %s }]\n    ports: [443]\n"


def policies(tmp_path: Path, text: str) -> dict[tuple[str, str], dict[str, Any]]:
    compiled = compile_path(write_spec(tmp_path, text), {})
    assert compiled.value is not None, [d.text() for d in compiled.diagnostics]
    errors = [d.text() for d in compiled.diagnostics if d.severity == "error"]
    assert not errors, errors
    kinds = {r.properties["kind"] for r in compiled.value.plan.resources if r.provider != "vault"}
    assert "NetworkPolicy" not in kinds  # cilium replaces them: one source of truth
    return {
        (r.properties["metadata"].get("namespace", ""), r.properties["metadata"]["name"]): r.properties
        for r in compiled.value.plan.resources
        if str(r.properties.get("apiVersion", "")).startswith("cilium.io/")
    }


def errors(tmp_path: Path, text: str) -> list[str]:
    return [m.split("\n")[0] for m in messages(tmp_path, text) if "error[" in m]


# ----------------------------------------------------------------------------- the spec language


@pytest.mark.parametrize(
    ("fqdn", "problem"),
    [
        ('"*"', "a domain has at least two labels"),
        ("localhost", "a domain has at least two labels"),
        ('"*.com"', "a domain has at least two labels"),
        ('"a.*.com"', "'*' may only be the whole leftmost label"),
        ('"*x.example.com"', "'*' may only be the whole leftmost label"),
        ("Example.com", "lowercase letters, digits and '-'"),
        ("-a.example.com", "lowercase letters, digits and '-'"),
        ("a..example.com", "lowercase letters, digits and '-'"),
        ("example.com.", "lowercase letters, digits and '-'"),
        ("a_b.example.com", "lowercase letters, digits and '-'"),
    ],
)
def test_fqdn_syntax_is_checked_at_the_value(tmp_path: Path, fqdn: str, problem: str) -> None:
    found = errors(tmp_path, CILIUM + HUB % fqdn)
    assert len(found) == 1, found
    assert found[0].startswith("spec.yaml:18:18: error[SA100]: network.hub.to[0].fqdn: "), found
    assert problem in found[0]


def test_a_long_label_is_refused(tmp_path: Path) -> None:
    found = errors(tmp_path, CILIUM + HUB % ("a" * 64 + ".example.com"))
    assert len(found) == 1 and "[SA100]" in found[0] and "at most 63" in found[0]


def test_fqdn_is_a_peer_of_its_own(tmp_path: Path) -> None:
    text = CILIUM + HUB.replace("{ fqdn: %s }", "{ fqdn: a.example.com, cidr: 10.0.0.0/8 }")
    found = errors(tmp_path, text)
    assert len(found) == 1 and "[SA100]" in found[0] and "'fqdn'" in found[0], found


@pytest.mark.parametrize("plugin", ["kubernetes", "calico"])
def test_fqdn_on_a_backend_that_cannot_enforce_it(tmp_path: Path, plugin: str) -> None:
    base = FULL.replace('version: "1.30"', f'version: "1.30"\n  networkPlugin: {plugin}')
    assert errors(tmp_path, base + HUB % "huggingface.co") == [
        "spec.yaml:18:18: error[SA153]: network rule 'hub': domain 'huggingface.co' cannot be enforced "
        f"by the {plugin} network backend (NetworkPolicies match addresses, not names)"
    ]
    hint = next(m for m in messages(tmp_path, base + HUB % "huggingface.co") if "SA153" in m)
    assert "kubernetes.networkPlugin: cilium" in hint


def test_fqdn_as_a_source_is_refused_everywhere(tmp_path: Path) -> None:
    text = CILIUM + HUB.replace("from: [{ namespace: ml }]", "from: [{ fqdn: evil.example.com }]").replace(
        "{ fqdn: %s }", "{ namespace: ml }"
    )
    assert errors(tmp_path, text) == [
        "spec.yaml:17:20: error[SA153]: network rule 'hub': a domain can only be a destination ('to'), "
        "not a source: 'evil.example.com' says nothing about who connects in"
    ]


def test_fqdn_in_vault_network_needs_cilium(tmp_path: Path) -> None:
    vault = "vault:\n  address: https://vault.example.com:8200\n  network: [{ fqdn: vault.example.com }]\n"
    found = errors(tmp_path, FULL + vault)
    assert (
        len(found) == 1 and "[SA153]" in found[0] and "vault.network: domain 'vault.example.com'" in found[0]
    )
    assert not errors(tmp_path, CILIUM + vault)


def test_old_spelling_of_the_backend_keeps_working(tmp_path: Path) -> None:
    """`networkPlugin` is the one field (kubernetes | calico | cilium); an unknown value is refused."""
    found = errors(tmp_path, FULL.replace('version: "1.30"', 'version: "1.30"\n  networkPlugin: flannel'))
    assert len(found) == 1 and "[SA100]" in found[0] and "'cilium'" in found[0], found


# ----------------------------------------------------------------------------- what it renders


def test_default_deny_and_dns(tmp_path: Path) -> None:
    found = policies(tmp_path, CILIUM)
    assert found[("ml", "default-deny")]["spec"] == {"endpointSelector": {}, "ingress": [{}], "egress": [{}]}
    dns = found[("ml", "allow-dns")]["spec"]
    assert dns["endpointSelector"] == {} and "ingress" not in dns
    (rule,) = dns["egress"]
    assert rule["toEndpoints"] == [
        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns"}}
    ]
    assert rule["toPorts"] == [
        {
            "ports": [{"port": "53", "protocol": "UDP"}, {"port": "53", "protocol": "TCP"}],
            "rules": {"dns": [{"matchPattern": "*"}]},
        }
    ]
    assert found[("ml", "default-deny")]["apiVersion"] == "cilium.io/v2"


def test_a_cluster_wide_backstop_keeps_the_default_deny(tmp_path: Path) -> None:
    """As Calico's GlobalNetworkPolicy: one CiliumClusterwideNetworkPolicy selects the pods of
    every default-deny namespace (not the open ones) and allows nothing (DNS stays in allow-dns)."""
    text = CILIUM.replace("  ml: {}\n", "  ml: {}\n  b: {}\n  o: { network: open }\n")
    backstop = policies(tmp_path, text)[("", "demo-default-deny")]
    assert backstop["kind"] == "CiliumClusterwideNetworkPolicy"
    assert backstop["spec"]["endpointSelector"] == {
        "matchExpressions": [
            {"key": "k8s:io.kubernetes.pod.namespace", "operator": "In", "values": ["ml", "b"]}
        ]
    }
    assert backstop["spec"]["ingress"] == [{}] and backstop["spec"]["egress"] == [{}]
    only_open = CILIUM.replace("  ml: {}\n", "  ml: { network: open }\n")
    assert not [k for k in policies(tmp_path, only_open) if k[0] == ""]


def test_fqdn_egress_by_name_and_pattern(tmp_path: Path) -> None:
    text = CILIUM + HUB.replace("{ fqdn: %s }", '{ fqdn: huggingface.co }, { fqdn: "*.s3.amazonaws.com" }')
    egress = policies(tmp_path, text)[("ml", "hub-egress")]["spec"]
    assert egress["egress"] == [
        {
            "toFQDNs": [{"matchName": "huggingface.co"}, {"matchPattern": "*.s3.amazonaws.com"}],
            "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
        }
    ]
    assert "0.0.0.0/0" not in json.dumps(list(policies(tmp_path, text).values()))


def test_each_kind_of_peer_is_its_own_rule(tmp_path: Path) -> None:
    """Cilium refuses toFQDNs beside another to* in one rule; the API server is an entity on its
    own port, never its addresses (cilium/cilium#20550); metadata endpoints are excepted."""
    text = (
        CILIUM.replace(
            "networkPlugin: cilium",
            "networkPlugin: cilium\n  apiServer: { cidrs: [10.0.0.1/32], port: 6443 }",
        )
        + "network:\n  out:\n    namespace: ml\n    from: [{ namespace: ml }]\n"
        "    to: [{ fqdn: a.example.com }, { cidr: 0.0.0.0/0 }, { cidr: '::/0' }, { apiServer: true }, "
        "{ namespace: other, pods: { app: x } }]\n    ports: [443]\n"
    )
    rules = policies(tmp_path, text)[("ml", "out-egress")]["spec"]["egress"]
    ports = [{"ports": [{"port": "443", "protocol": "TCP"}]}]
    assert rules == [
        {
            "toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "other", "app": "x"}}],
            "toPorts": ports,
        },
        {
            "toCIDRSet": [
                {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]},
                {"cidr": "::/0", "except": ["fd00:ec2::254/128"]},
            ],
            "toPorts": ports,
        },
        {"toFQDNs": [{"matchName": "a.example.com"}], "toPorts": ports},
        {"toEntities": ["kube-apiserver"], "toPorts": [{"ports": [{"port": "6443", "protocol": "TCP"}]}]},
    ]
    assert "10.0.0.1/32" not in json.dumps(rules)


def test_api_server_without_its_addresses(tmp_path: Path) -> None:
    """On cilium the entity needs no `kubernetes.apiServer` (no SA151); the rule's ports apply."""
    text = (
        CILIUM
        + "network:\n  api:\n    namespace: ml\n    from: [{ namespace: ml }]\n    to: [{ apiServer: true }]\n    ports: [443]\n"
    )
    (rule,) = policies(tmp_path, text)[("ml", "api-egress")]["spec"]["egress"]
    assert rule == {
        "toEntities": ["kube-apiserver"],
        "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}],
    }


def test_ingress_from_namespaces_by_label_and_named_ports(tmp_path: Path) -> None:
    text = (
        CILIUM.replace(
            "    runAsUser: 10001",
            "    runAsUser: 10001\n    labels: { role: t }\n    ports: [http:8080/TCP]",
        )
        + "network:\n  in:\n    namespace: ml\n    from: [{ namespaceLabels: { team: a }, pods: { app: c } }]\n"
        "    to: [{ pods: { role: t } }]\n    ports: [http:8080/TCP, { port: 9000, endPort: 9010 }]\n"
    )
    spec = policies(tmp_path, text)[("ml", "in-ingress")]["spec"]
    assert spec["endpointSelector"] == {"matchLabels": {"role": "t"}}
    assert spec["ingress"] == [
        {
            "fromEndpoints": [
                {
                    "matchLabels": {"k8s:io.cilium.k8s.namespace.labels.team": "a", "app": "c"},
                    "matchExpressions": [{"key": "k8s:io.kubernetes.pod.namespace", "operator": "Exists"}],
                }
            ],
            "toPorts": [
                {
                    "ports": [
                        {"port": "http", "protocol": "TCP"},
                        {"port": "9000", "protocol": "TCP", "endPort": 9010},
                    ]
                }
            ],
        }
    ]


def test_vault_egress_by_domain(tmp_path: Path) -> None:
    text = (
        CILIUM
        + "vault:\n  address: https://vault.example.com:8200\n  network: [{ fqdn: vault.example.com }]\n"
        + "vaultSecrets:\n  ml/p: { data: { lr: 1 } }\n"
    ).replace("    runAsUser: 10001", "    runAsUser: 10001\n    vault: { read: [ml/p] }")
    found = policies(tmp_path, text)
    spec = found[("ml", "trainer-to-vault")]["spec"]
    assert spec["egress"] == [
        {
            "toFQDNs": [{"matchName": "vault.example.com"}],
            "toPorts": [{"ports": [{"port": "8200", "protocol": "TCP"}]}],
        }
    ]


def test_reaches_only_with_domains(tmp_path: Path) -> None:
    rule = HUB.replace("{ fqdn: %s }", '{ fqdn: huggingface.co }, { fqdn: "*.s3.amazonaws.com" }')
    expect = (
        "expect:\n  hub-only:\n    reachesOnly:\n      from: { namespace: ml }\n"
        "      to: [{ fqdn: huggingface.co, ports: [443] }%s]\n"
    )
    assert not errors(tmp_path, CILIUM + rule + expect % ', { fqdn: "*.s3.amazonaws.com", ports: [443] }')
    found = errors(tmp_path, CILIUM + rule + expect % "")
    assert len(found) == 1 and "[SA403]" in found[0] and "domain *.s3.amazonaws.com" in found[0], found
    # A wanted `*.` pattern covers names under it, not the other way round.
    assert errors(tmp_path, CILIUM + rule + expect % ', { fqdn: "*.amazonaws.com", ports: [443] }')


# ----------------------------------------------------------------------------- review


def test_switching_the_backend_changes_no_connection(tmp_path: Path) -> None:
    """The same spec on NetworkPolicies and on CiliumNetworkPolicies: `diff` finds the same
    flows and the same reach outside, but for how the API server is named (its address there,
    Cilium's entity here); adding a domain is a widening change, at its rule."""
    from secureai.review.diff import diff_specs

    api = "  apiServer: { cidrs: [10.0.0.1/32], port: 6443 }\n"
    flows = (
        "network:\n  out:\n    namespace: ml\n    from: [{ namespace: ml }]\n"
        "    to: [{ apiServer: true }, { cidr: 10.9.0.0/16 }]\n    ports: [443]\n"
    )
    plain = write_spec(
        tmp_path, FULL.replace('version: "1.30"\n', 'version: "1.30"\n' + api) + flows, "a.yaml"
    )
    cilium = write_spec(
        tmp_path, CILIUM.replace("networkPlugin: cilium\n", "networkPlugin: cilium\n" + api) + flows, "b.yaml"
    )
    changes = diff_specs(str(plain), str(cilium), {}).changes
    assert sorted((c.kind, c.detail.split(",")[0]) for c in changes) == [
        ("new-outside", "to the API server (kube-apiserver entity) on TCP/6443"),
        ("removed-outside", "to 10.0.0.1/32 on TCP/6443"),
    ]
    wider = write_spec(
        tmp_path,
        (CILIUM + flows).replace("{ cidr: 10.9.0.0/16 }", "{ cidr: 10.9.0.0/16 }, { fqdn: huggingface.co }"),
        "c.yaml",
    )
    (change,) = [
        c for c in diff_specs(str(write_spec(tmp_path, CILIUM + flows, "d.yaml")), str(wider), {}).changes
    ]
    assert (
        change.widens
        and change.kind == "new-outside"
        and change.detail.startswith("to domain huggingface.co on TCP/443")
    )
