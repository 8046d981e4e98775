"""Workloads secureai does not render (`managedBy`): selected, granted and enforced, never rendered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from specutil import messages, write_spec

from secureai.compile.plan import Plan
from secureai.pipeline import compile_path
from secureai.posture import compute_posture
from secureai.posture.report import as_data, as_text

SPEC = """\
version: 1
project: demo
kubernetes:
  version: "1.30"
vault:
  address: https://vault.example:8200
  network: [{ cidr: 10.0.0.10/32 }]
vaultSecrets:
  models/llama:
    data: { endpoint: s3://models/llama }
namespaces:
  apps: { network: default-deny }
  serving: { network: default-deny }
securityProfiles:
  gpu: {}
workloads:
  client:
    namespace: apps
    image: registry.example/client:1.0.0
    resources: { limits: { cpu: "1", memory: 1Gi } }
  llm:
    namespace: serving
    managedBy: kserve
    labels: { serving.kserve.io/inferenceservice: llm }
    serviceAccount: llm-sa
    securityProfile: gpu
    vault: { read: [models/llama], deliver: none }
network:
  client-to-llm:
    from: [{ namespace: apps, pods: { app.kubernetes.io/name: client } }]
    to: [{ namespace: serving, pods: { serving.kserve.io/inferenceservice: llm } }]
    ports: [8080]
access:
  llm-sa:
    namespace: serving
    can: [{ resources: [configmaps], verbs: [get] }]
"""


def plan_of(tmp_path: Path, text: str = SPEC) -> Plan:
    result = compile_path(write_spec(tmp_path, text), {})
    errors = [d.text() for d in result.diagnostics if d.is_error]
    assert result.value is not None and not errors, errors
    return result.value.plan


def named(plan: Plan, kind: str, name: str) -> list[dict[str, Any]]:
    return [
        dict(r.properties)
        for r in plan.resources
        if r.properties.get("kind") == kind and r.properties["metadata"]["name"] == name
    ]


def test_no_pod_and_no_account_are_rendered(tmp_path: Path) -> None:
    plan = plan_of(tmp_path)
    kinds = {
        r.properties.get("kind")
        for r in plan.resources
        if r.properties.get("metadata", {}).get("namespace") == "serving"
    }
    assert kinds == {"NetworkPolicy", "Role", "RoleBinding"}
    # The chart creates llm-sa: secureai creating it too would fail the chart's install.
    assert named(plan, "ServiceAccount", "llm-sa") == []
    assert [r.name for r in plan.unmanaged_pods] == ["serving/llm"]


def test_access_grant_binds_the_charts_account(tmp_path: Path) -> None:
    plan = plan_of(tmp_path)
    [binding] = named(plan, "RoleBinding", "llm-sa")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "llm-sa", "namespace": "serving"}]
    [res] = [r for r in plan.resources if r.properties.get("kind") == "RoleBinding"]
    # No dependency on an account the plan does not create.
    assert res.depends_on == (
        "kubernetes:core/v1:Namespace::serving",
        "kubernetes:rbac.authorization.k8s.io/v1:Role::serving/llm-sa",
    )


def test_network_policies_select_its_pods_by_its_labels(tmp_path: Path) -> None:
    plan = plan_of(tmp_path)
    [ingress] = named(plan, "NetworkPolicy", "client-to-llm-ingress")
    assert ingress["spec"]["podSelector"] == {"matchLabels": {"serving.kserve.io/inferenceservice": "llm"}}
    [egress] = named(plan, "NetworkPolicy", "client-to-llm-egress")
    assert egress["spec"]["egress"][0]["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "serving"}},
            "podSelector": {"matchLabels": {"serving.kserve.io/inferenceservice": "llm"}},
        }
    ]
    # Its Vault login leaves a default-deny namespace: the egress selects its pods too.
    vault_egress = [
        dict(r.properties)
        for r in plan.resources
        if r.properties.get("kind") == "NetworkPolicy"
        and r.properties["metadata"]["namespace"] == "serving"
        and "vault" in r.properties["metadata"]["name"]
    ]
    assert [p["spec"]["podSelector"] for p in vault_egress] == [
        {"matchLabels": {"serving.kserve.io/inferenceservice": "llm"}}
    ]


def test_vault_role_is_bound_to_its_account_and_namespace(tmp_path: Path) -> None:
    plan = plan_of(tmp_path)
    [role] = [r for r in plan.resources if r.type.startswith("vault:kubernetes/authBackendRole")]
    props = dict(role.properties)
    assert props["bound_service_account_names"] == ["llm-sa"]
    assert props["bound_service_account_namespaces"] == ["serving"]
    assert props["token_policies"] == ["demo-serving-llm"]
    [policy] = [r for r in plan.resources if r.type == "vault:index/policy:Policy"]
    assert 'path "secret/data/models/llama"' in str(policy.properties["policy"])
    # `deliver: none`: nothing is added beside a pod secureai does not render.
    assert not [r for r in plan.resources if r.properties.get("kind") in ("ConfigMap", "SecretStore")]


def test_profile_gate_admits_its_pods_by_the_profile_label(tmp_path: Path) -> None:
    plan = plan_of(tmp_path)
    [gate] = named(plan, "ValidatingAdmissionPolicy", "demo.profile-gate")
    assert "in ['serving/gpu']" in gate["spec"]["validations"][0]["expression"]


def test_created_account_when_asked(tmp_path: Path) -> None:
    plan = plan_of(
        tmp_path,
        SPEC.replace(
            "    serviceAccount: llm-sa\n", "    serviceAccount: llm-sa\n    createServiceAccount: true\n"
        ),
    )
    [account] = named(plan, "ServiceAccount", "llm-sa")
    assert account["automountServiceAccountToken"] is False
    [res] = [r for r in plan.resources if r.properties.get("kind") == "RoleBinding"]
    assert "kubernetes:core/v1:ServiceAccount::serving/llm-sa" in res.depends_on


def test_external_secrets_delivery_beside_its_pods(tmp_path: Path) -> None:
    text = SPEC.replace(
        "  network: [{ cidr: 10.0.0.10/32 }]\n",
        "  network: [{ cidr: 10.0.0.10/32 }]\n  externalSecrets: { namespace: external-secrets }\n",
    ).replace("deliver: none", "deliver: externalSecrets, files: { llama.json: { path: models/llama } }")
    plan = plan_of(tmp_path, text)
    [store] = [r for r in plan.resources if r.properties.get("kind") == "SecretStore"]
    assert store.properties["spec"]["provider"]["vault"]["auth"]["kubernetes"]["serviceAccountRef"] == {
        "name": "llm-sa",
        "audiences": ["vault"],
    }
    assert not any("ServiceAccount::" in d for d in store.depends_on)


def test_posture_lists_it_with_its_account_and_an_unchecked_pod(tmp_path: Path) -> None:
    posture = compute_posture(plan_of(tmp_path))
    assert "serving/llm" in posture.workloads
    assert [(f.source, f.target) for f in posture.network.flows] == [("apps/client", "serving/llm")]
    [reader] = [r for s in posture.secrets for r in s.readers]
    assert (reader.workload, reader.account) == ("serving/llm", "serving/llm-sa")
    [row] = [x for x in as_data(posture)["privileges"] if x["workload"] == "serving/llm"]
    assert row == {
        "workload": "serving/llm",
        "account": "serving/llm-sa",
        "user": "not checked (kserve creates the pods)",
        "privileged": None,
        "escalation": None,
        "capabilities": None,
        "readOnlyRoot": None,
        "host": None,
        "volumes": None,
        # Its account is the chart's: nothing here says its token is not mounted.
        "apiToken": True,
        "seccomp": "not checked",
        "managedBy": "kserve",
    }
    line = next(
        ln for ln in as_text(posture).splitlines() if ln.startswith("serving/llm ") and "not checked" in ln
    )
    assert line.split() == [
        "serving/llm",
        "serving/llm-sa",
        "not",
        "checked",
        "(kserve",
        "creates",
        "the",
        "pods)",
        "yes",
        "?",
        "?",
        "?",
        "?",
        "?",
    ]
    json.dumps(as_data(posture))


def test_validate_says_plainly_what_is_not_checked(tmp_path: Path) -> None:
    assert [m.split("\n")[0] for m in messages(tmp_path, SPEC)] == [
        # The rendered workload beside it is checked, down to its missing runAsUser.
        "spec.yaml:17:3: warning[SA137]: workload 'client' sets no runAsUser: its pods start only if the image's user is a non-zero number (runAsNonRoot is always on); an image that runs as root or as a user name is refused by the kubelet",
        # Its account's grants are its pods': the API egress check counts them too.
        "spec.yaml:21:3: warning[SA166]: workload 'llm' gets an API token for the grants of 'llm-sa', but default-deny namespace 'serving' lets it reach no API server",
        "spec.yaml:23:16: warning[SA190]: the pod spec of workload 'llm' is not rendered by secureai (kserve creates its pods) and is not checked",
        "spec.yaml:26:22: warning[SA196]: pods of workload 'llm' are admitted in namespace 'serving' only if they carry the label secureai.dev/profile=gpu, which kserve must set",
    ]


def test_no_profile_label_needed_where_no_profile_is_enforced(tmp_path: Path) -> None:
    text = SPEC.replace("    securityProfile: gpu\n", "")
    found = [m.split("\n")[0] for m in messages(tmp_path, text)]
    assert [f.split(": ")[1] for f in found] == ["warning[SA137]", "warning[SA166]", "warning[SA190]"]


UNMANAGED_CASES = [
    (
        "SA190",
        SPEC,
        "spec.yaml:23:16: warning[SA190]: the pod spec of workload 'llm' is not rendered by secureai (kserve creates its pods) and is not checked",
    ),
    (
        "SA191",
        SPEC.replace("    image: registry.example/client:1.0.0\n", ""),
        "spec.yaml:17:3: error[SA191]: workload 'client' has no 'image'",
    ),
    (
        "SA192",
        SPEC.replace(
            "    managedBy: kserve\n",
            "    managedBy: kserve\n    replicas: 2\n    image: vllm/vllm-openai:v0.6.0\n",
        ),
        "spec.yaml:24:15: error[SA192]: workload 'llm' is managed by kserve; 'replicas' describes a pod secureai renders",
    ),
    (
        "SA192",
        SPEC.replace("    namespace: apps\n", "    namespace: apps\n    createServiceAccount: true\n"),
        "spec.yaml:19:27: error[SA192]: workload 'client' is rendered by secureai, which always creates its service account; only a managedBy workload takes 'createServiceAccount'",
    ),
    (
        "SA193",
        SPEC.replace("    serviceAccount: llm-sa\n", ""),
        "spec.yaml:21:3: error[SA193]: workload 'llm' is managed by kserve and needs 'serviceAccount', the account its pods run as",
    ),
    (
        "SA194",
        SPEC.replace("    labels: { serving.kserve.io/inferenceservice: llm }\n", ""),
        "spec.yaml:21:3: error[SA194]: workload 'llm' is managed by kserve and needs 'labels' that select its pods",
    ),
    (
        "SA195",
        SPEC.replace("deliver: none", "deliver: injector"),
        "spec.yaml:27:45: error[SA195]: workload 'llm' is managed by kserve; Vault delivery 'injector' changes a pod secureai renders",
    ),
    (
        "SA195",
        SPEC.replace(", deliver: none", ""),
        "spec.yaml:27:12: error[SA195]: workload 'llm' is managed by kserve; Vault delivery 'agent' (the default) changes a pod secureai renders",
    ),
    (
        "SA196",
        SPEC,
        "spec.yaml:26:22: warning[SA196]: pods of workload 'llm' are admitted in namespace 'serving' only if they carry the label secureai.dev/profile=gpu, which kserve must set",
    ),
]


@pytest.mark.parametrize(
    ("code", "text", "expected"), UNMANAGED_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(UNMANAGED_CASES)]
)
def test_code_message(tmp_path: Path, code: str, text: str, expected: str) -> None:
    found = [m.split("\n")[0] for m in messages(tmp_path, text) if f"[{code}]" in m]
    assert found and found[0] == expected, messages(tmp_path, text)


def test_before_1_25_the_psp_is_granted_to_its_account(tmp_path: Path) -> None:
    """PodSecurityPolicy admits by the pod's account: no label needed, so no SA196."""
    text = SPEC.replace('version: "1.30"', 'version: "1.24"')
    assert "[SA196]" not in "\n".join(messages(tmp_path, text))
    plan = plan_of(tmp_path, text)
    [binding] = [r for r in plan.resources if r.key.endswith("RoleBinding::serving/psp:gpu")]
    assert binding.properties["subjects"] == [
        {"kind": "ServiceAccount", "name": "llm-sa", "namespace": "serving"}
    ]
    # The chart creates llm-sa: the binding waits for no account of ours.
    assert not any("ServiceAccount::" in d for d in binding.depends_on)


def test_the_charts_account_needs_no_access_entry(tmp_path: Path) -> None:
    text = SPEC.split("access:\n")[0]
    found = messages(tmp_path, text)
    assert not [m for m in found if "[SA114]" in m or "error[" in m], found
    assert plan_of(tmp_path, text).resources
