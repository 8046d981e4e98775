"""Kubernetes compilation from hand-built Spec objects: what secure-by-default adds, and where."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from secureai.compile.kubernetes import compile_kubernetes
from secureai.compile.plan import Resource, SecretValue, iter_secrets
from secureai.model.spec import Spec

BASE: dict[str, Any] = {
    "version": 1,
    "project": "demo",
    "kubernetes": {"version": "1.30"},
    "namespaces": {"ml": {}},
}
RESOURCES = {"limits": {"cpu": "1", "memory": "1Gi"}}


def make_spec(**sections: Any) -> Spec:
    """A Spec from snake_case sections merged over a minimal base (one namespace `ml`)."""
    version = sections.pop("version", None)
    data = {**BASE, **sections}
    if version is not None:
        data["kubernetes"] = {**data["kubernetes"], "version": version}
    return Spec(**data)


def workload(**fields: Any) -> dict[str, Any]:
    return {
        "namespace": "ml",
        "image": "ghcr.io/acme/train:1.0.0",
        "run_as_user": 10001,
        "resources": RESOURCES,
        **fields,
    }


def compiled(spec: Spec) -> list[Resource]:
    result = compile_kubernetes(spec)
    assert result.value is not None
    return result.value


def find(resources: list[Resource], kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [
        dict(r.properties)
        for r in resources
        if r.properties["kind"] == kind and (name is None or r.properties["metadata"]["name"] == name)
    ]


def one(resources: list[Resource], kind: str, name: str | None = None) -> dict[str, Any]:
    found = find(resources, kind, name)
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def pod_spec(manifest: dict[str, Any]) -> dict[str, Any]:
    kind = manifest["kind"]
    if kind == "Pod":
        return manifest["spec"]  # type: ignore[no-any-return]
    if kind == "CronJob":
        return manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    return manifest["spec"]["template"]["spec"]  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- namespaces


def test_namespace_carries_pod_security_labels_pinned_to_the_target() -> None:
    spec = make_spec(
        namespaces={"ml": {"pod_security": "baseline", "labels": {"team": "ml"}}}, version="1.29"
    )
    labels = one(compiled(spec), "Namespace", "ml")["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "baseline"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "v1.29"
    assert labels["team"] == "ml"
    assert labels["app.kubernetes.io/managed-by"] == "secureai"


def test_user_labels_cannot_override_pod_security_labels() -> None:
    spec = make_spec(namespaces={"ml": {"labels": {"pod-security.kubernetes.io/enforce": "privileged"}}})
    labels = one(compiled(spec), "Namespace", "ml")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


# ----------------------------------------------------------------------------- secrets


def test_secret_values_are_placeholders_by_source() -> None:
    spec = make_spec(
        secrets={
            "creds": {
                "namespace": "ml",
                "immutable": True,
                "type": "kubernetes.io/basic-auth",
                "data": {
                    "a": {"from_env": "A_VAR"},
                    "b": {"from_file": "files/b.pem"},
                    "c": {"generate": {"length": 24, "charset": "hex"}},
                    "d": {"from_vault": {"path": "ai/db", "key": "password"}},
                    "e": {"literal": "s3cr3t-value", "allow_plaintext": True},
                },
            }
        }
    )
    secret = one(compiled(spec), "Secret", "creds")
    data = secret["stringData"]
    assert data["a"] == SecretValue("env", "A_VAR", ("secrets", "creds", "data", "a"))
    assert data["b"] == SecretValue("file", "files/b.pem", ("secrets", "creds", "data", "b"))
    assert data["c"] == SecretValue("generate", "ml/creds/c", ("secrets", "creds", "data", "c"), 24, "hex")
    assert data["d"] == SecretValue("vault", "ai/db#password", ("secrets", "creds", "data", "d"))
    assert data["e"].source == "literal" and data["e"].ref == "secrets.creds.data.e"
    assert secret["type"] == "kubernetes.io/basic-auth" and secret["immutable"] is True
    assert "data" not in secret
    # The literal's value is only inside its SecretValue, never a plain string of the plan.
    assert "s3cr3t-value" not in repr(secret)
    assert "s3cr3t-value" not in _plain_strings(secret)


def _plain_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_plain_strings(k), *_plain_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _plain_strings(v)]
    return []


# ----------------------------------------------------------------------------- workloads


@pytest.mark.parametrize("kind", ["Pod", "Deployment", "StatefulSet", "Job", "CronJob"])
def test_every_workload_kind_is_hardened(kind: str) -> None:
    extra = {"schedule": "0 * * * *"} if kind == "CronJob" else {}
    spec = make_spec(workloads={"w": workload(kind=kind, **extra)})
    manifest = one(compiled(spec), kind, "w")
    pod = pod_spec(manifest)
    assert pod["serviceAccountName"] == "w"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,  # not the image's primary group, often 0
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    (container,) = pod["containers"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    }
    assert container["resources"] == RESOURCES


def test_controller_selector_and_labels() -> None:
    spec = make_spec(workloads={"w": workload(labels={"role": "x"}, replicas=3)})
    deployment = one(compiled(spec), "Deployment", "w")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "w"}}
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels == {"role": "x", "app.kubernetes.io/name": "w", "app.kubernetes.io/managed-by": "secureai"}


def test_job_kinds_restart_on_failure_and_cronjob_api_follows_target() -> None:
    spec = make_spec(workloads={"j": workload(kind="Job"), "c": workload(kind="CronJob", schedule="@daily")})
    resources = compiled(spec)
    assert pod_spec(one(resources, "Job", "j"))["restartPolicy"] == "OnFailure"
    cron = one(resources, "CronJob", "c")
    assert cron["apiVersion"] == "batch/v1" and cron["spec"]["concurrencyPolicy"] == "Forbid"
    old = one(
        compiled(make_spec(workloads={"c": workload(kind="CronJob", schedule="@daily")}, version="1.20")),
        "CronJob",
    )
    assert old["apiVersion"] == "batch/v1beta1"


def test_statefulset_gets_a_headless_service() -> None:
    spec = make_spec(workloads={"db": workload(kind="StatefulSet", ports=["postgres:5432/TCP", 9187])})
    resources = compiled(spec)
    service = one(resources, "Service", "db")
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "db"}
    assert service["spec"]["ports"] == [
        {"name": "postgres", "port": 5432, "protocol": "TCP", "targetPort": "postgres"},
        {"name": "tcp-9187", "port": 9187, "protocol": "TCP", "targetPort": 9187},
    ]
    sts = one(resources, "StatefulSet", "db")
    assert sts["spec"]["serviceName"] == "db"
    assert pod_spec(sts)["containers"][0]["ports"] == [
        {"containerPort": 5432, "protocol": "TCP", "name": "postgres"},
        {"containerPort": 9187, "protocol": "TCP"},
    ]


def test_env_from_secret_uses_secret_key_ref() -> None:
    spec = make_spec(
        secrets={"creds": {"namespace": "ml", "data": {"pw": {"from_env": "PW"}}}},
        workloads={"w": workload(env={"PW": {"secret": "creds", "key": "pw"}, "MODE": {"value": "train"}})},
    )
    resources = compiled(spec)
    container = pod_spec(one(resources, "Deployment", "w"))["containers"][0]
    assert container["env"] == [
        {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pw"}}},
        {"name": "MODE", "value": "train"},
    ]
    (deployment,) = [r for r in resources if r.properties["kind"] == "Deployment"]
    assert "kubernetes:core/v1:Secret::ml/creds" in deployment.depends_on


def test_volumes_and_mounts() -> None:
    spec = make_spec(
        workloads={
            "w": workload(
                volumes={
                    "cfg": {"mount_path": "/etc/app", "config_map": "app-config"},
                    "tls": {"mount_path": "/tls", "secret": "tls"},
                    "scratch": {
                        "mount_path": "/scratch",
                        "empty_dir": {"size_limit": "1Gi", "medium": "Memory"},
                        "read_only": False,
                    },
                    "data": {"mount_path": "/data", "persistent_volume_claim": "data"},
                }
            )
        }
    )
    pod = pod_spec(one(compiled(spec), "Deployment", "w"))
    assert pod["volumes"] == [
        {"name": "cfg", "configMap": {"name": "app-config"}},
        {"name": "tls", "secret": {"secretName": "tls"}},
        {"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "data", "readOnly": True}},
        {"name": "secureai-tmp", "emptyDir": {}},
    ]
    mounts = pod["containers"][0]["volumeMounts"]
    assert {"name": "scratch", "mountPath": "/scratch", "readOnly": False} in mounts
    assert {"name": "secureai-tmp", "mountPath": "/tmp", "readOnly": False} in mounts


def test_no_extra_tmp_when_spec_mounts_tmp_or_root_is_writable() -> None:
    own_tmp = workload(volumes={"t": {"mount_path": "/tmp", "empty_dir": {}, "read_only": False}})
    spec = make_spec(
        security_profiles={"rw": {"read_only_root_filesystem": False}},
        workloads={"a": own_tmp, "b": workload(security_profile="rw")},
    )
    resources = compiled(spec)
    assert [v["name"] for v in pod_spec(one(resources, "Deployment", "a"))["volumes"]] == ["t"]
    assert "volumes" not in pod_spec(one(resources, "Deployment", "b"))


def test_added_volumes_never_take_a_spec_volume_name() -> None:
    # The API rejects two volumes of one name; a spec may use the names secureai adds.
    spec = make_spec(
        vault={"kv_mount": "secret"},
        vault_secrets={"ai/p": {"data": {"k": "v"}}},
        workloads={
            "w": workload(
                vault={"read": ["ai/p"]},
                volumes={
                    "secureai-tmp": {"mount_path": "/scratch", "empty_dir": {}, "read_only": False},
                    "secureai-vault-token": {"mount_path": "/cfg", "config_map": "cfg"},
                },
            )
        },
    )
    pod = pod_spec(one(compiled(spec), "Deployment", "w"))
    names = [v["name"] for v in pod["volumes"]]
    assert names == [
        "secureai-tmp",
        "secureai-vault-token",
        "secureai-tmp-2",
        "secureai-vault-token-2",
        "secureai-vault-files",
        "secureai-vault-agent",
    ]
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounts["/vault/secrets"] == "secureai-vault-files" and mounts["/tmp"] == "secureai-tmp-2"
    agent = {m["mountPath"]: m["name"] for m in pod["initContainers"][0]["volumeMounts"]}
    assert agent["/var/run/secrets/vault"] == "secureai-vault-token-2"


def test_vault_reader_gets_a_projected_token_not_the_api_token() -> None:
    spec = make_spec(
        vault={"audience": "vault-prod"},
        vault_secrets={"ai/params": {"data": {"lr": 0.1}}},
        workloads={"w": workload(vault={"read": ["ai/params"]})},
    )
    pod = pod_spec(one(compiled(spec), "Deployment", "w"))
    assert pod["automountServiceAccountToken"] is False
    token = {
        "name": "secureai-vault-token",
        "projected": {
            "sources": [
                {"serviceAccountToken": {"audience": "vault-prod", "expirationSeconds": 600, "path": "token"}}
            ]
        },
    }
    assert token in pod["volumes"]
    mount = {"name": "secureai-vault-token", "mountPath": "/var/run/secrets/vault", "readOnly": True}
    # The agent (the default delivery) logs in; the application never sees the token.
    assert mount in pod["initContainers"][0]["volumeMounts"]
    assert mount not in pod["containers"][0]["volumeMounts"]
    # With `deliver: none` the application logs in itself, so it gets the token.
    spec = make_spec(
        vault={"audience": "vault-prod"},
        vault_secrets={"ai/params": {"data": {"lr": 0.1}}},
        workloads={"w": workload(vault={"read": ["ai/params"], "deliver": "none"})},
    )
    pod = pod_spec(one(compiled(spec), "Deployment", "w"))
    assert token in pod["volumes"] and "initContainers" not in pod
    assert mount in pod["containers"][0]["volumeMounts"]


def test_api_token_only_for_accounts_with_grants() -> None:
    spec = make_spec(
        access={
            "reader": {"namespace": "ml", "can": [{"verbs": ["get"], "resources": ["pods"]}]},
            "idle": {"namespace": "ml"},
        },
        workloads={
            "a": workload(service_account="reader"),
            "b": workload(service_account="idle"),
            "c": workload(),
        },
    )
    resources = compiled(spec)
    assert pod_spec(one(resources, "Deployment", "a"))["automountServiceAccountToken"] is True
    assert pod_spec(one(resources, "Deployment", "b"))["automountServiceAccountToken"] is False
    accounts = find(resources, "ServiceAccount")
    assert sorted(a["metadata"]["name"] for a in accounts) == ["c", "idle", "reader"]
    assert all(a["automountServiceAccountToken"] is False for a in accounts)


def test_api_token_needs_projected_volumes_in_the_profile() -> None:
    spec = make_spec(
        security_profiles={"tight": {"volumes": ["configMap", "emptyDir"]}},
        access={"reader": {"namespace": "ml", "can": [{"verbs": ["get"], "resources": ["pods"]}]}},
        workloads={"a": workload(service_account="reader", security_profile="tight")},
    )
    result = compile_kubernetes(spec)
    assert [(d.code, d.path) for d in result.diagnostics] == [
        ("SA250", ("workloads", "a", "securityProfile"))
    ]


def test_profile_shapes_the_container_context() -> None:
    spec = make_spec(
        security_profiles={
            "p": {"allowed_capabilities": ["NET_BIND_SERVICE"], "read_only_root_filesystem": False}
        },
        workloads={"w": workload(security_profile="p")},
    )
    pod = pod_spec(one(compiled(spec), "Deployment", "w"))
    context = pod["containers"][0]["securityContext"]
    assert context["capabilities"] == {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
    assert context["readOnlyRootFilesystem"] is False


def test_privileged_profile_cannot_also_forbid_escalation() -> None:
    # The API rejects privileged: true with allowPrivilegeEscalation: false.
    spec = make_spec(
        namespaces={"ml": {"pod_security": "privileged"}},
        security_profiles={"p": {"privileged": True}},
        workloads={"w": workload(security_profile="p")},
    )
    context = pod_spec(one(compiled(spec), "Deployment", "w"))["containers"][0]["securityContext"]
    assert context["privileged"] is True and context["allowPrivilegeEscalation"] is True


def test_localhost_seccomp_uses_a_documented_path_and_warns() -> None:
    spec = make_spec(
        security_profiles={"p": {"seccomp_profile": "Localhost"}},
        workloads={"w": workload(security_profile="p")},
    )
    result = compile_kubernetes(spec)
    assert result.value is not None
    pod = pod_spec(one(result.value, "Deployment", "w"))
    assert pod["securityContext"]["seccompProfile"] == {
        "type": "Localhost",
        "localhostProfile": "secureai/p.json",
    }
    assert [d.code for d in result.diagnostics] == ["SA251"]


def test_label_that_secureai_owns_is_replaced_with_a_warning() -> None:
    spec = make_spec(workloads={"w": workload(labels={"app.kubernetes.io/name": "other"})})
    result = compile_kubernetes(spec)
    assert [(d.code, d.path) for d in result.diagnostics] == [
        ("SA252", ("workloads", "w", "labels", "app.kubernetes.io/name"))
    ]


# ----------------------------------------------------------------------------- profiles


PROFILE = {
    "volumes": ["configMap", "emptyDir", "projected", "secret", "hostPath"],
    "allowed_host_paths": [{"path_prefix": "/data/ai", "read_only": True}],
}


def _profile_spec(version: str) -> Spec:
    return make_spec(
        version=version, security_profiles={"p": PROFILE}, workloads={"w": workload(security_profile="p")}
    )


def test_psp_below_1_25() -> None:
    resources = compiled(_profile_spec("1.24"))
    psp = one(resources, "PodSecurityPolicy")
    assert psp["metadata"]["name"] == "demo-p"
    assert psp["spec"]["volumes"] == PROFILE["volumes"]
    assert psp["spec"]["allowedHostPaths"] == [{"pathPrefix": "/data/ai", "readOnly": True}]
    assert psp["spec"]["runAsUser"] == {"rule": "MustRunAsNonRoot"}
    assert psp["spec"]["requiredDropCapabilities"] == ["ALL"]
    assert (
        psp["metadata"]["annotations"]["seccomp.security.alpha.kubernetes.io/allowedProfileNames"]
        == "runtime/default"
    )
    role = one(resources, "ClusterRole")
    assert role["rules"] == [
        {
            "apiGroups": ["policy"],
            "resources": ["podsecuritypolicies"],
            "resourceNames": ["demo-p"],
            "verbs": ["use"],
        }
    ]
    binding = one(resources, "RoleBinding")
    assert binding["metadata"]["namespace"] == "ml"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "psp:demo-p",
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "w", "namespace": "ml"}]
    assert not find(resources, "ValidatingAdmissionPolicy")


def test_psp_without_host_paths_allows_no_host_path() -> None:
    spec = make_spec(version="1.24", security_profiles={"p": {"volumes": ["emptyDir", "hostPath"]}})
    assert one(compiled(spec), "PodSecurityPolicy")["spec"]["volumes"] == ["emptyDir"]


@pytest.mark.parametrize(
    ("version", "api"), [("1.28", "v1beta1"), ("1.29", "v1beta1"), ("1.30", "v1"), ("1.37", "v1")]
)
def test_admission_policy_from_1_28(version: str, api: str) -> None:
    resources = compiled(_profile_spec(version))
    policy = one(resources, "ValidatingAdmissionPolicy", "demo-p")
    binding = one(resources, "ValidatingAdmissionPolicyBinding", "demo-p")
    assert policy["apiVersion"] == binding["apiVersion"] == f"admissionregistration.k8s.io/{api}"
    assert binding["spec"]["policyName"] == policy["metadata"]["name"] == "demo-p"
    assert binding["spec"]["validationActions"] == ["Deny"]
    assert binding["spec"]["matchResources"] == {
        "namespaceSelector": {
            "matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["ml"]}]
        },
        "objectSelector": {"matchLabels": {"secureai.dev/profile": "p"}},
    }
    template = one(resources, "Deployment", "w")["spec"]["template"]
    assert template["metadata"]["labels"]["secureai.dev/profile"] == "p"
    assert not find(resources, "PodSecurityPolicy")
    gate = one(resources, "ValidatingAdmissionPolicyBinding", "demo.profile-gate")
    assert gate["apiVersion"] == f"admissionregistration.k8s.io/{api}"
    assert "objectSelector" not in gate["spec"]["matchResources"]


@pytest.mark.parametrize("version", ["1.25", "1.26", "1.27"])
def test_no_enforcement_object_between_psp_and_vap(version: str) -> None:
    resources = compiled(_profile_spec(version))
    kinds = {r.properties["kind"] for r in resources}
    assert not kinds & {
        "PodSecurityPolicy",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ClusterRole",
    }


def test_unused_profile_gets_a_policy_but_no_binding() -> None:
    resources = compiled(make_spec(security_profiles={"p": {}}))
    assert find(resources, "ValidatingAdmissionPolicy") and not find(
        resources, "ValidatingAdmissionPolicyBinding"
    )


# ----------------------------------------------------------------------------- RBAC


def test_access_role_binding_and_account() -> None:
    spec = make_spec(
        access={
            "sa": {
                "namespace": "ml",
                "can": [
                    {"verbs": ["get"], "resources": ["secrets"], "names": ["creds"]},
                    {"verbs": ["list"], "resources": ["deployments"], "api_groups": ["apps"]},
                ],
            }
        }
    )
    resources = compiled(spec)
    role = one(resources, "Role", "sa")
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["creds"]},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["list"]},
    ]
    binding = one(resources, "RoleBinding", "sa")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "sa"}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "sa", "namespace": "ml"}]
    assert one(resources, "ServiceAccount", "sa")["automountServiceAccountToken"] is False


def test_cluster_wide_access() -> None:
    spec = make_spec(
        access={
            "sa": {
                "namespace": "ml",
                "cluster_wide": True,
                "can": [{"verbs": ["get"], "resources": ["nodes"]}],
            }
        }
    )
    resources = compiled(spec)
    assert one(resources, "ClusterRole", "demo:ml:sa")["rules"][0]["resources"] == ["nodes"]
    binding = one(resources, "ClusterRoleBinding", "demo:ml:sa")
    assert binding["roleRef"]["kind"] == "ClusterRole"
    assert not find(resources, "Role") and not find(resources, "RoleBinding")


# ----------------------------------------------------------------------------- network


def _network_spec(**extra: Any) -> Spec:
    extra.setdefault("namespaces", {"ml": {}, "web": {}, "open": {"network": "open"}})
    return make_spec(
        workloads={
            "api": workload(namespace="web", labels={"role": "api"}),
            "db": workload(labels={"role": "db"}, ports=["pg:5432/TCP"]),
            "o": workload(namespace="open", labels={"role": "o"}),
        },
        **extra,
    )


def test_default_deny_and_dns() -> None:
    spec = make_spec(kubernetes={"version": "1.30", "cluster_dns": {"cidrs": ["169.254.20.10/32"]}})
    resources = compiled(spec)
    deny = one(resources, "NetworkPolicy", "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = one(resources, "NetworkPolicy", "allow-dns")["spec"]
    assert dns["policyTypes"] == ["Egress"]
    assert dns["egress"] == [
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                },
                {"ipBlock": {"cidr": "169.254.20.10/32"}},
            ],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }
    ]


def test_open_namespace_gets_no_policies() -> None:
    resources = compiled(make_spec(namespaces={"ml": {"network": "open"}}))
    assert not find(resources, "NetworkPolicy")


def test_rule_compiles_to_both_ends_across_namespaces() -> None:
    spec = _network_spec(
        network={
            "api-to-db": {
                "namespace": "ml",
                "from": [{"pods": {"role": "api"}, "namespace": "web"}],
                "to": [{"pods": {"role": "db"}}],
                "ports": ["pg:5432/TCP"],
            }
        }
    )
    resources = compiled(spec)
    ingress = one(resources, "NetworkPolicy", "api-to-db-ingress")
    assert ingress["metadata"]["namespace"] == "ml"
    assert ingress["spec"] == {
        "podSelector": {"matchLabels": {"role": "db"}},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [
                    {
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "web"}},
                        "podSelector": {"matchLabels": {"role": "api"}},
                    }
                ],
                # Named: every `role: db` pod declares the port `pg`.
                "ports": [{"protocol": "TCP", "port": "pg"}],
            }
        ],
    }
    egress = one(resources, "NetworkPolicy", "api-to-db-egress")
    assert egress["metadata"]["namespace"] == "web"
    assert egress["spec"]["podSelector"] == {"matchLabels": {"role": "api"}}
    assert egress["spec"]["egress"] == [
        {
            "to": [
                {
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ml"}},
                    "podSelector": {"matchLabels": {"role": "db"}},
                }
            ],
            "ports": [{"protocol": "TCP", "port": "pg"}],
        }
    ]


def test_port_stays_numeric_unless_every_target_declares_the_name() -> None:
    spec = _network_spec(
        network={
            "r": {
                "namespace": "web",
                "from": [{"pods": {"role": "api"}}],
                "to": [{"pods": {"role": "api"}}],
                "ports": ["http:8080/TCP"],
            }
        }
    )
    ingress = one(compiled(spec), "NetworkPolicy", "r-ingress")
    assert ingress["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8080}]


def test_open_namespace_end_and_external_peers_get_no_policy() -> None:
    spec = _network_spec(
        kubernetes={"version": "1.30", "api_server": {"cidrs": ["10.0.0.1/32"], "port": 6443}},
        network={
            "r": {
                "namespace": "ml",
                "from": [
                    {"pods": {"role": "o"}, "namespace": "open"},
                    {"cidr": "10.1.0.0/16", "except": ["10.1.2.0/24"]},
                ],
                "to": [{"pods": {"role": "db"}}, {"api_server": True}],
            }
        },
    )
    resources = compiled(spec)
    policies = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in find(resources, "NetworkPolicy")}
    assert ("ml", "r-ingress") in policies
    assert not any(ns == "open" for ns, _ in policies)
    assert not any(name == "r-egress" for _, name in policies)
    ingress = one(resources, "NetworkPolicy", "r-ingress")["spec"]["ingress"][0]
    assert ingress["from"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "open"}},
            "podSelector": {"matchLabels": {"role": "o"}},
        },
        {"ipBlock": {"cidr": "10.1.0.0/16", "except": ["10.1.2.0/24"]}},
    ]
    assert "ports" not in ingress


def test_egress_to_api_server_uses_its_port() -> None:
    spec = _network_spec(
        kubernetes={"version": "1.30", "api_server": {"cidrs": ["10.0.0.1/32"], "port": 6443}},
        network={"r": {"namespace": "ml", "from": [{"pods": {"role": "db"}}], "to": [{"api_server": True}]}},
    )
    egress = one(compiled(spec), "NetworkPolicy", "r-egress")["spec"]["egress"]
    assert egress == [
        {"to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}], "ports": [{"protocol": "TCP", "port": 6443}]}
    ]


def test_two_targets_in_one_namespace_get_indexed_names() -> None:
    spec = _network_spec(
        network={
            "r": {
                "namespace": "ml",
                "from": [{"pods": {"role": "api"}, "namespace": "web"}],
                "to": [{"pods": {"role": "db"}}, {"pods": {"role": "cache"}}],
            }
        }
    )
    names = sorted(p["metadata"]["name"] for p in find(compiled(spec), "NetworkPolicy"))
    assert "r-ingress-0" in names and "r-ingress-1" in names


def test_namespace_peers() -> None:
    spec = _network_spec(
        network={
            "r": {
                "namespace": "ml",
                "from": [{"namespace_labels": {"team": "x"}}, {"namespace": "ml"}],
                "to": [{"namespace": "ml"}],
            }
        }
    )
    ingress = one(compiled(spec), "NetworkPolicy", "r-ingress")["spec"]
    assert ingress["podSelector"] == {}
    assert ingress["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"team": "x"}}},
        {"podSelector": {}},
    ]


def test_calico_global_policy_only_with_calico_and_default_deny() -> None:
    assert not find(compiled(make_spec()), "GlobalNetworkPolicy")
    spec = make_spec(
        kubernetes={"version": "1.30", "network_plugin": "calico"},
        namespaces={"ml": {}, "b": {}, "o": {"network": "open"}},
    )
    resources = compiled(spec)
    gnp = one(resources, "GlobalNetworkPolicy")
    assert gnp["apiVersion"] == "projectcalico.org/v3"
    assert gnp["spec"]["namespaceSelector"] == "projectcalico.org/name in {'ml', 'b'}"
    assert gnp["spec"]["order"] > 1000
    assert gnp["spec"]["egress"][-1] == {"action": "Deny"}
    assert {
        "action": "Allow",
        "protocol": "UDP",
        "destination": {
            "namespaceSelector": "projectcalico.org/name == 'kube-system'",
            "selector": "k8s-app == 'kube-dns'",
            "ports": [53],
        },
    } in gnp["spec"]["egress"]
    (res,) = [r for r in resources if r.properties["kind"] == "GlobalNetworkPolicy"]
    assert res.type == "kubernetes:projectcalico.org/v3:GlobalNetworkPolicy"
    calico_only_open = make_spec(
        kubernetes={"version": "1.30", "network_plugin": "calico"}, namespaces={"o": {"network": "open"}}
    )
    assert not find(compiled(calico_only_open), "GlobalNetworkPolicy")


# ----------------------------------------------------------------------------- the plan as a whole


def _everything() -> Spec:
    return make_spec(
        namespaces={"ml": {}, "web": {}},
        secrets={"creds": {"namespace": "ml", "data": {"pw": {"generate": {}}}}},
        security_profiles={"p": {}},
        access={"sa": {"namespace": "ml", "can": [{"verbs": ["get"], "resources": ["pods"]}]}},
        workloads={
            "a": workload(security_profile="p", service_account="sa", labels={"role": "a"}),
            "b": workload(namespace="web", kind="StatefulSet", labels={"role": "b"}),
        },
        network={
            "a-to-b": {
                "namespace": "ml",
                "from": [{"pods": {"role": "a"}}],
                "to": [{"pods": {"role": "b"}, "namespace": "web"}],
            }
        },
        kubernetes={"version": "1.30", "network_plugin": "calico"},
    )


@pytest.mark.parametrize("version", ["1.24", "1.30"])
def test_order_names_and_dependencies(version: str) -> None:
    spec = _everything()
    spec = spec.model_copy(update={"kubernetes": spec.kubernetes.model_copy(update={"version": version})})
    resources = compiled(spec)
    groups = {
        "Namespace": 0,
        "PodSecurityPolicy": 1,
        "ValidatingAdmissionPolicy": 1,
        "ValidatingAdmissionPolicyBinding": 1,
        "ServiceAccount": 2,
        "Secret": 3,
        "Role": 4,
        "RoleBinding": 4,
        "ClusterRole": 4,
        "ClusterRoleBinding": 4,
        "NetworkPolicy": 5,
        "GlobalNetworkPolicy": 5,
        "Service": 6,
        "Deployment": 6,
        "StatefulSet": 6,
    }
    order = [groups[r.properties["kind"]] for r in resources]
    assert order == sorted(order)
    keys = [r.key for r in resources]
    assert len(keys) == len(set(keys))
    for r in resources:
        assert r.source, r.key
        assert set(r.depends_on) <= set(keys), r.key
        assert keys.index(r.key) > max((keys.index(d) for d in r.depends_on), default=-1)
    assert compiled(spec) == resources  # deterministic


def test_plan_holds_no_secret_values() -> None:
    spec = make_spec(
        secrets={
            "s": {"namespace": "ml", "data": {"k": {"literal": "hunter2-value", "allow_plaintext": True}}}
        }
    )
    for r in compiled(spec):
        assert "hunter2-value" not in _plain_strings(dict(r.properties))
        for _, value in iter_secrets(r.properties):
            assert value.placeholder() == "<secret:literal:secrets.s.data.k>"


def test_targets_before_1_21_warn_about_namespace_name_labels() -> None:
    assert [d.code for d in compile_kubernetes(make_spec(version="1.20")).diagnostics] == ["SA253"]
    assert compile_kubernetes(make_spec(version="1.21")).diagnostics == []
    open_only = make_spec(version="1.20", namespaces={"ml": {"network": "open"}})
    assert compile_kubernetes(open_only).diagnostics == []


def test_namespace_label_peers_resolve_to_declared_namespaces() -> None:
    spec = _network_spec(
        namespaces={
            "ml": {"labels": {"team": "x"}},
            "web": {"labels": {"team": "x"}},
            "open": {"network": "open"},
        },
        network={
            "r": {
                "namespace": "ml",
                "from": [{"namespace_labels": {"team": "x"}, "pods": {"role": "api"}}],
                "to": [{"pods": {"role": "db"}}],
            }
        },
    )
    egress = {
        (p["metadata"]["namespace"], p["metadata"]["name"])
        for p in find(compiled(spec), "NetworkPolicy")
        if p["metadata"]["name"].startswith("r-egress")
    }
    # Both labelled namespaces are default-deny, so the senders there need their egress.
    assert egress == {("ml", "r-egress"), ("web", "r-egress")}


def test_below_1_25_a_workload_without_profile_gets_the_default_psp(tmp_path: Path) -> None:
    from specutil import BASE, WORKLOAD, write_spec

    from secureai.pipeline import compile_path

    path = write_spec(tmp_path, (BASE + WORKLOAD).replace('"1.30"', '"1.24"'))
    plan = compile_path(path, {}).value.plan
    manifests = {
        (r.properties["kind"], r.properties["metadata"]["name"]): r.properties for r in plan.resources
    }
    psp = manifests[("PodSecurityPolicy", "demo-secureai-default")]["spec"]
    assert psp["privileged"] is False and psp["runAsUser"] == {"rule": "MustRunAsNonRoot"}
    binding = manifests[("RoleBinding", "psp:secureai-default")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "trainer", "namespace": "ml"}]
    assert binding["roleRef"]["name"] == "psp:demo-secureai-default"


def test_localhost_seccomp_profile_file_comes_from_the_spec(tmp_path: Path) -> None:
    from specutil import BASE, WORKLOAD, messages, write_spec

    from secureai.pipeline import compile_path

    text = (BASE + WORKLOAD).replace("  ml: {}", "  ml: { podSecurity: restricted }") + (
        "    securityProfile: p\n"
        "securityProfiles:\n  p: { seccompProfile: Localhost, seccompLocalhostProfile: profiles/train.json }\n"
    )
    result = compile_path(write_spec(tmp_path, text), {})
    (deployment,) = [r for r in result.value.plan.resources if r.properties["kind"] == "Deployment"]
    pod = deployment.properties["spec"]["template"]["spec"]
    assert pod["securityContext"]["seccompProfile"] == {
        "type": "Localhost",
        "localhostProfile": "profiles/train.json",
    }
    assert any("'profiles/train.json'" in d.message and d.code == "SA251" for d in result.diagnostics)
    wrong = text.replace("seccompProfile: Localhost, ", "")
    assert (
        "error[SA100]: securityProfiles.p: 'seccompLocalhostProfile' goes with 'seccompProfile: Localhost'"
        in "\n".join(messages(tmp_path, wrong))
    )


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ({"run_as_user": 10001}, 10001),
        ({"run_as_user": 2000, "run_as_group": 3000}, 3000),
        ({"run_as_user": 2000, "run_as_group": 0}, 0),  # said explicitly: kept
        ({}, 1000),  # the image's user: never the image's group, which may be 0
        ({"fs_group": 2500}, 2500),  # the group the spec already gives its volumes
        ({"run_as_user": 0, "fs_group": 0}, 1000),  # root's group only when said
    ],
)
def test_pods_get_a_non_zero_group_by_default(ids: dict[str, int], expected: int) -> None:
    spec = make_spec(
        workloads={"w": {"namespace": "ml", "image": "ghcr.io/acme/x:1.0", **ids}},
    )
    pod = pod_spec(one(compiled(spec), "Deployment", "w"))
    assert pod["securityContext"].get("runAsGroup") == expected
