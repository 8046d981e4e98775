"""Each seed scenario, as its example spec compiles it: the meaning, not the exact text."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import celpy

from secureai.compile.build import compile_spec
from secureai.compile.plan import Plan, SecretValue
from secureai.model.spec import Spec
from secureai.pipeline import compile_path
from secureai.render import render_files

ROOT = Path(__file__).resolve().parent.parent
SENTINEL = "correct-horse-battery-staple-42"


def load(name: str, environ: dict[str, str] | None = None) -> tuple[Spec, Plan]:
    result = compile_path(ROOT / "specs" / name, environ or {})
    assert result.value is not None, [d.text() for d in result.diagnostics]
    assert not [d for d in result.diagnostics if d.is_error]
    return result.value.spec, result.value.plan


def manifests(plan: Plan, kind: str) -> list[dict[str, Any]]:
    return [dict(r.properties) for r in plan.of_provider("kubernetes") if r.properties["kind"] == kind]


def one(plan: Plan, kind: str, name: str | None = None) -> dict[str, Any]:
    found = [m for m in manifests(plan, kind) if name is None or m["metadata"]["name"] == name]
    assert len(found) == 1, (kind, name, len(found))
    return found[0]


def template(manifest: dict[str, Any]) -> dict[str, Any]:
    if manifest["kind"] == "Pod":
        return {"metadata": manifest["metadata"], "spec": manifest["spec"]}
    if manifest["kind"] == "CronJob":
        return manifest["spec"]["jobTemplate"]["spec"]["template"]  # type: ignore[no-any-return]
    return manifest["spec"]["template"]  # type: ignore[no-any-return]


def retarget(spec: Spec, version: str) -> Plan:
    plan = compile_spec(
        spec.model_copy(update={"kubernetes": spec.kubernetes.model_copy(update={"version": version})})
    ).value
    assert plan is not None
    return plan


# ----------------------------------------------------------------------------- 000


def test_000_pod_reads_the_secret_by_reference_and_no_value_is_rendered() -> None:
    _, plan = load("000-training-secret.yaml", {"DB_PASSWORD": SENTINEL})
    secret = one(plan, "Secret", "ai-training-secret")
    assert secret["metadata"]["namespace"] == "ai-training"
    assert secret["stringData"] == {
        "db_password": SecretValue(
            "env", "DB_PASSWORD", ("secrets", "ai-training-secret", "data", "db_password")
        )
    }
    pod = one(plan, "Pod", "ai-training-pod")
    assert pod["metadata"]["namespace"] == "ai-training"
    (container,) = pod["spec"]["containers"]
    assert container["env"] == [
        {
            "name": "DB_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "ai-training-secret", "key": "db_password"}},
        }
    ]
    # Neither the plan nor the rendered output holds the value; only the placeholder.
    assert SENTINEL not in repr(plan)
    files = render_files(plan)
    assert all(SENTINEL not in text for text in files.values())
    secret_file = files["secret-templates/040-secret-ai-training-ai-training-secret.yaml"]
    assert "db_password: <secret:env:DB_PASSWORD>" in secret_file
    # Only an explicit reveal puts the value into the Secret, and nowhere else.
    revealed = render_files(plan, lambda v: SENTINEL)
    assert [p for p, text in revealed.items() if SENTINEL in text] == [
        "kubernetes/040-secret-ai-training-ai-training-secret.yaml"
    ]


# ----------------------------------------------------------------------------- 001


SEED_VOLUMES = ["configMap", "emptyDir", "projected", "secret", "downwardAPI", "persistentVolumeClaim"]


def test_001_pod_security_policy_says_what_the_seed_said() -> None:
    _, plan = load("001-pod-security.yaml")
    psp = one(plan, "PodSecurityPolicy")["spec"]
    assert set(SEED_VOLUMES) <= set(psp["volumes"])
    assert psp["allowedHostPaths"] == [{"pathPrefix": "/data/ai", "readOnly": True}]
    assert psp["privileged"] is False and psp["allowPrivilegeEscalation"] is False
    assert psp["runAsUser"] == {"rule": "MustRunAsNonRoot"}
    assert psp["readOnlyRootFilesystem"] is True
    assert psp["seLinux"] == {"rule": "RunAsAny"}
    non_root = {"rule": "MustRunAs", "ranges": [{"min": 1, "max": 65535}]}
    assert psp["runAsGroup"] == psp["supplementalGroups"] == psp["fsGroup"] == non_root
    assert psp["requiredDropCapabilities"] == ["ALL"]
    reader = template(one(plan, "Deployment", "ai-data-reader"))["spec"]
    assert {"name": "datasets", "mountPath": "/datasets", "readOnly": True} in reader["containers"][0][
        "volumeMounts"
    ]


def test_001_on_a_current_cluster_the_admission_policy_enforces_it() -> None:
    spec, _ = load("001-pod-security.yaml")
    plan = retarget(spec, "1.30")
    assert not manifests(plan, "PodSecurityPolicy")
    policy = one(plan, "ValidatingAdmissionPolicy", "pod-security-ai-data-security")
    env = celpy.Environment()

    def admitted(pod: dict[str, Any]) -> bool:
        activation = {"object": celpy.json_to_cel(pod)}
        return all(
            bool(env.program(env.compile(v["expression"])).evaluate(activation))
            for v in policy["spec"]["validations"]
        )

    pod = copy.deepcopy(template(one(plan, "Deployment", "ai-data-reader")))
    assert admitted(pod)
    writable = copy.deepcopy(pod)
    writable["spec"]["containers"][0]["volumeMounts"][0]["readOnly"] = False
    assert not admitted(writable)  # /data/ai only read-only
    elsewhere = copy.deepcopy(pod)
    elsewhere["spec"]["volumes"][0]["hostPath"]["path"] = "/etc"
    assert not admitted(elsewhere)  # only under /data/ai
    nfs = copy.deepcopy(pod)
    nfs["spec"]["volumes"].append({"name": "n", "nfs": {"server": "s", "path": "/"}})
    assert not admitted(nfs)  # volume allow-list
    root_fs = copy.deepcopy(pod)
    root_fs["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False
    assert not admitted(root_fs)


# ----------------------------------------------------------------------------- 002


def _selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    return policy["spec"]["podSelector"].get("matchLabels", {}).items() <= labels.items()


def test_002_only_processing_pods_reach_the_data_store() -> None:
    _, plan = load("002-pipeline-isolation.yaml")
    store = template(one(plan, "StatefulSet", "data-store"))
    processor = template(one(plan, "Deployment", "ai-processor"))
    assert store["metadata"]["labels"]["role"] == "data-store"
    assert processor["metadata"]["labels"]["role"] == "ai-processing"
    assert {"containerPort": 5432, "protocol": "TCP", "name": "postgres"} in store["spec"]["containers"][0][
        "ports"
    ]
    policies = [
        p for p in manifests(plan, "NetworkPolicy") if p["metadata"]["namespace"] == "ai-data-pipeline"
    ]
    # Ingress to the store: default deny, plus exactly one allowance.
    ingress = [
        p
        for p in policies
        if "Ingress" in p["spec"]["policyTypes"] and _selects(p, store["metadata"]["labels"])
    ]
    allowances = [rule for p in ingress for rule in p["spec"].get("ingress", [])]
    assert allowances == [
        {
            "from": [{"podSelector": {"matchLabels": {"role": "ai-processing"}}}],
            "ports": [{"protocol": "TCP", "port": "postgres"}],
        }
    ]
    # Egress from the processors to the store, and DNS for everyone.
    egress = [
        rule
        for p in policies
        if "Egress" in p["spec"]["policyTypes"] and _selects(p, processor["metadata"]["labels"])
        for rule in p["spec"].get("egress", [])
    ]
    assert {
        "to": [{"podSelector": {"matchLabels": {"role": "data-store"}}}],
        "ports": [{"protocol": "TCP", "port": "postgres"}],
    } in egress
    assert any({"protocol": "UDP", "port": 53} in rule["ports"] for rule in egress)
    deny = one(plan, "NetworkPolicy", "default-deny")["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    gnp = one(plan, "GlobalNetworkPolicy")["spec"]
    assert gnp["namespaceSelector"] == "projectcalico.org/name in {'ai-data-pipeline'}"


# ----------------------------------------------------------------------------- 003


def test_003_account_exists_is_bound_to_the_profile_and_nothing_more() -> None:
    _, plan = load("003-ml-security-profile.yaml")
    account = one(plan, "ServiceAccount", "ml-workload-sa")
    assert account["metadata"]["namespace"] == "ml-workloads"
    assert account["automountServiceAccountToken"] is False
    psp = one(plan, "PodSecurityPolicy")
    assert set(SEED_VOLUMES) == set(psp["spec"]["volumes"]) and psp["spec"]["privileged"] is False
    role = one(plan, "ClusterRole")
    assert role["rules"] == [
        {
            "apiGroups": ["policy"],
            "resources": ["podsecuritypolicies"],
            "resourceNames": [psp["metadata"]["name"]],
            "verbs": ["use"],
        }
    ]
    binding = one(plan, "RoleBinding")
    assert binding["metadata"]["namespace"] == "ml-workloads"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "ml-workload-sa", "namespace": "ml-workloads"}
    ]
    # Least privilege: no other grant exists, and no API token reaches the pods.
    assert not manifests(plan, "Role") and not manifests(plan, "ClusterRoleBinding")
    pod = template(one(plan, "Job", "ml-trainer"))["spec"]
    assert pod["serviceAccountName"] == "ml-workload-sa" and pod["automountServiceAccountToken"] is False


def test_003_on_a_current_cluster_uses_pod_security_admission_and_admission_policy() -> None:
    spec, _ = load("003-ml-security-profile.yaml")
    plan = retarget(spec, "1.30")
    assert not manifests(plan, "PodSecurityPolicy") and not manifests(plan, "ClusterRole")
    assert one(plan, "Namespace")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    binding = one(plan, "ValidatingAdmissionPolicyBinding", "ml-security-ml-workload")
    assert binding["spec"]["matchResources"]["objectSelector"] == {
        "matchLabels": {"secureai.dev/profile": "ml-workload"}
    }
    gate = one(plan, "ValidatingAdmissionPolicyBinding", "ml-security.profile-gate")
    assert gate["spec"]["matchResources"] == {
        "namespaceSelector": {
            "matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["ml-workloads"]}
            ]
        }
    }


# ----------------------------------------------------------------------------- 004


def test_004_trainer_logs_in_to_vault_with_a_projected_token() -> None:
    _, plan = load("004-model-parameters.yaml")
    pod = template(one(plan, "Job", "trainer"))["spec"]
    assert pod["serviceAccountName"] == "trainer" and pod["automountServiceAccountToken"] is False
    assert one(plan, "ServiceAccount", "trainer")["automountServiceAccountToken"] is False
    (token,) = [v for v in pod["volumes"] if "projected" in v]
    assert token["projected"]["sources"] == [
        {"serviceAccountToken": {"audience": "vault", "expirationSeconds": 600, "path": "token"}}
    ]
    mount = {"name": token["name"], "mountPath": "/var/run/secrets/vault", "readOnly": True}
    (agent,) = pod["initContainers"]
    assert mount in agent["volumeMounts"] and mount not in pod["containers"][0]["volumeMounts"]
    # The parameters themselves are Vault's business: no Kubernetes object carries them.
    for r in plan.of_provider("kubernetes"):
        assert "learning_rate" not in repr(r.properties)


def test_004_trainer_may_reach_vault_and_nothing_else_new() -> None:
    _, plan = load("004-model-parameters.yaml")
    egress = one(plan, "NetworkPolicy", "trainer-to-vault")
    assert egress["spec"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "trainer"}},
        "policyTypes": ["Egress"],
        "egress": [
            {"to": [{"ipBlock": {"cidr": "10.20.0.10/32"}}], "ports": [{"protocol": "TCP", "port": 8200}]}
        ],
    }
    assert one(plan, "NetworkPolicy", "default-deny")["spec"]["policyTypes"] == ["Ingress", "Egress"]
