"""What each Vault delivery mode compiles to: the pod's parts and the objects beside it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from test_compile_kubernetes import compiled, find, make_spec, one, pod_spec, workload

from secureai.compile.pss import check_pod_security
from secureai.compile.vault import compile_vault
from secureai.pipeline import compile_path
from secureai.render.kubernetes import kubernetes_files

ROOT = Path(__file__).resolve().parents[1]
VAULT = {"address": "https://vault.example:8200", "network": [{"cidr": "10.0.0.10/32"}]}
PARAMS = {"ai/params": {"data": {"lr": 0.1, "activation": "relu"}}}

# The injector's annotations, without their prefix, as hashicorp/vault-k8s defines them in
# agent-inject/agent/annotations.go (commit fbc5b1f0cd4d1c7dd5a8830e32c8ed636d7318d7, 2026-08-06);
# openbao/openbao-k8s (commit 833d341156689634147ca0bb7d801907cd4dd850) has the same names under
# `openbao.org/`. Per-file annotations are these names followed by `-<file id>`.
INJECTOR_ANNOTATIONS = {
    "agent-inject-status", "agent-inject", "agent-inject-secret", "agent-inject-file",
    "agent-inject-perms", "agent-inject-template", "agent-inject-containers",
    "agent-inject-default-template", "agent-inject-template-file", "agent-template-left-delim",
    "agent-template-right-delim", "agent-inject-token", "agent-inject-command", "agent-image",
    "agent-request-namespace", "agent-init-first", "agent-pre-populate", "agent-pre-populate-only",
    "agent-configmap", "agent-extra-secret", "agent-limits-cpu", "agent-limits-mem",
    "agent-limits-ephemeral", "agent-requests-cpu", "agent-requests-mem", "agent-requests-ephemeral",
    "agent-revoke-on-shutdown", "agent-revoke-grace", "namespace", "agent-run-as-user",
    "agent-run-as-group", "agent-run-as-same-user", "agent-share-process-namespace",
    "agent-set-security-context", "agent-service-account-token-volume-name", "service",
    "proxy-address", "tls-skip-verify", "tls-secret", "tls-server-name", "ca-cert", "ca-key",
    "client-cert", "client-key", "client-max-retries", "client-timeout", "go-max-procs", "log-level",
    "log-format", "role", "auth-type", "auth-path", "auth-config", "secret-volume-path",
    "preserve-secret-case", "agent-cache-enable", "agent-cache-use-auto-auth-token",
    "agent-cache-listener-port", "agent-cache-exit-on-err", "agent-copy-volume-mounts",
    "template-config-exit-on-retry-failure", "template-static-secret-render-interval",
    "template-max-connections-per-host", "template-lease-renewal-threshold", "agent-enable-quit",
    "auth-min-backoff", "auth-max-backoff", "agent-disable-idle-connections",
    "agent-disable-keep-alives", "agent-json-patch", "agent-init-json-patch",
    "agent-auto-auth-exit-on-err", "agent-telemetry", "error-on-missing-key",
}  # fmt: skip
PER_FILE = (
    "agent-inject-secret",
    "agent-inject-template",
    "agent-inject-file",
    "agent-inject-perms",
    "error-on-missing-key",
)


def spec_with(reader: dict[str, Any], version: str = "1.30", **vault: Any) -> Any:
    return make_spec(
        version=version,
        vault={**VAULT, **vault},
        vault_secrets=PARAMS,
        workloads={"w": workload(**{"vault": {"read": ["ai/params"]}, **reader})},
    )


def pod_of(resources: Any, kind: str = "Deployment") -> dict[str, Any]:
    return pod_spec(one(resources, kind, "w"))


def template_annotations(resources: Any, kind: str = "Deployment") -> dict[str, str]:
    manifest = one(resources, kind, "w")
    meta = manifest["metadata"] if kind == "Pod" else manifest["spec"]["template"]["metadata"]
    if kind in ("Job",):
        meta = manifest["spec"]["template"]["metadata"]
    return dict(meta.get("annotations", {}))


# ----------------------------------------------------------------------------- agent


def test_agent_init_container_is_hardened_and_runs_as_the_pods_user() -> None:
    resources = compiled(spec_with({}))
    pod = pod_of(resources)
    (agent,) = pod["initContainers"]
    assert agent["name"] == "vault-agent-init" and agent["image"] == "quay.io/openbao/openbao:2.7.2"
    assert agent["command"] == ["bao", "agent", "-config=/vault/config/agent-init.hcl"]
    assert agent["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 10001,
    }
    assert agent["resources"] == {
        "requests": {"cpu": "10m", "memory": "32Mi"},
        "limits": {"cpu": "200m", "memory": "128Mi"},
    }
    files = {"name": "secureai-vault-files", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}}
    assert files in pod["volumes"]
    assert {"name": "secureai-vault-files", "mountPath": "/vault/secrets", "readOnly": True} in pod[
        "containers"
    ][0]["volumeMounts"]
    assert {"name": "secureai-vault-files", "mountPath": "/vault/secrets", "readOnly": False} in agent[
        "volumeMounts"
    ]
    config = one(resources, "ConfigMap", "w-vault-agent")["data"]
    assert set(config) == {"agent-init.hcl"}
    assert 'perms                = "0400"' in config["agent-init.hcl"]
    assert "fsGroup" not in pod["securityContext"]
    assert template_annotations(resources)["secureai.dev/vault-agent-config"].startswith("sha256:")


def test_without_run_as_user_files_are_group_readable_through_fs_group() -> None:
    spec = make_spec(
        vault=VAULT,
        vault_secrets=PARAMS,
        workloads={"w": {**workload(vault={"read": ["ai/params"]}), "run_as_user": None}},
    )
    resources = compiled(spec)
    pod = pod_of(resources)
    assert pod["initContainers"][0]["securityContext"]["runAsUser"] == 100
    assert pod["initContainers"][0]["securityContext"]["runAsGroup"] == 1000
    assert pod["securityContext"]["fsGroup"] == 1000
    assert (
        'perms                = "0440"'
        in one(resources, "ConfigMap", "w-vault-agent")["data"]["agent-init.hcl"]
    )
    # The spec's own fsGroup is the group that reads, and is kept.
    spec = make_spec(
        vault=VAULT,
        vault_secrets=PARAMS,
        workloads={"w": {**workload(vault={"read": ["ai/params"]}, fs_group=2000), "run_as_user": None}},
    )
    pod = pod_of(compiled(spec))
    assert pod["securityContext"]["fsGroup"] == 2000
    assert pod["initContainers"][0]["securityContext"]["runAsGroup"] == 2000


def test_sidecar_follows_the_init_container_and_restarts_always() -> None:
    resources = compiled(
        spec_with({"vault": {"read": ["ai/params"], "agent": {"sidecar": True, "refresh": "2m"}}})
    )
    init, sidecar = pod_of(resources)["initContainers"]
    assert (init["name"], sidecar["name"]) == ("vault-agent-init", "vault-agent")
    assert "restartPolicy" not in init and sidecar["restartPolicy"] == "Always"
    config = one(resources, "ConfigMap", "w-vault-agent")["data"]
    assert "exit_after_auth = true" in config["agent-init.hcl"]
    assert "exit_after_auth" not in config["agent.hcl"]
    assert 'static_secret_render_interval = "120s"' in config["agent.hcl"]
    # Before native sidecars (1.29) only the init container is rendered (SA329 warns).
    before = compiled(
        spec_with({"vault": {"read": ["ai/params"], "agent": {"sidecar": True}}}, version="1.28")
    )
    assert [c["name"] for c in pod_of(before)["initContainers"]] == ["vault-agent-init"]


def test_config_change_changes_the_checksum() -> None:
    a = template_annotations(compiled(spec_with({})))
    b = template_annotations(compiled(spec_with({"vault": {"read": ["ai/params"], "mount_path": "/params"}})))
    assert a["secureai.dev/vault-agent-config"] != b["secureai.dev/vault-agent-config"]


def test_job_depends_on_the_config_map_and_completes() -> None:
    resources = compiled(spec_with({"kind": "Job"}))
    job = next(r for r in resources if r.properties["kind"] == "Job")
    assert "kubernetes:core/v1:ConfigMap::ml/w-vault-agent" in job.depends_on
    pod = pod_of(resources, "Job")
    assert all("restartPolicy" not in c for c in pod["initContainers"])


def test_files_reach_only_the_containers_asked_for() -> None:
    pod = pod_of(compiled(spec_with({"vault": {"read": ["ai/params"], "containers": ["w"]}})))
    assert any(m["mountPath"] == "/vault/secrets" for m in pod["containers"][0]["volumeMounts"])


# ----------------------------------------------------------------------------- injector


def injector_names(annotations: dict[str, str], prefix: str) -> set[str]:
    names = set()
    for key in annotations:
        if key.startswith("secureai.dev/"):
            continue
        assert key.startswith(prefix + "/"), key
        name = key.removeprefix(prefix + "/")
        for base in PER_FILE:
            if name.startswith(base + "-") and name.removeprefix(base + "-") in ("params.json",):
                name = base
        names.add(name)
    return names


def test_injector_annotations_are_the_documented_ones() -> None:
    spec = spec_with({"vault": {"read": ["ai/params"], "deliver": "injector"}}, injector={})
    resources = compiled(spec)
    annotations = template_annotations(resources)
    names = injector_names(annotations, "vault.hashicorp.com")
    assert names <= INJECTOR_ANNOTATIONS, names - INJECTOR_ANNOTATIONS
    a = {k.removeprefix("vault.hashicorp.com/"): v for k, v in annotations.items()}
    assert a["agent-inject"] == "true" and a["role"] == "demo-ml-w"
    assert a["auth-path"] == "auth/kubernetes" and a["service"] == "https://vault.example:8200"
    assert a["agent-inject-secret-params.json"] == "secret/data/ai/params"
    assert a["agent-inject-template-params.json"] == (
        '{{ with secret "secret/data/ai/params" }}{{ .Data.data | toJSON }}{{ end }}'
    )
    assert (
        a["agent-inject-file-params.json"] == "params.json" and a["agent-inject-perms-params.json"] == "0400"
    )
    assert a["agent-pre-populate-only"] == "true"  # no sidecar asked
    pod = pod_of(resources)
    # The token volume exists for the injector's agents; the application does not mount it.
    assert a["agent-service-account-token-volume-name"] in [v["name"] for v in pod["volumes"]]
    assert all(
        m["mountPath"] != "/var/run/secrets/vault" for m in pod["containers"][0].get("volumeMounts", [])
    )
    assert "initContainers" not in pod
    assert find(resources, "ConfigMap") == []


def test_injector_prefix_for_openbao_and_jobs_are_pre_populate_only() -> None:
    spec = spec_with(
        {"kind": "Job", "vault": {"read": ["ai/params"], "deliver": "injector", "agent": {"sidecar": False}}},
        injector={"annotation_prefix": "openbao.org", "ca_cert": "/vault/tls/ca.crt"},
    )
    annotations = template_annotations(compiled(spec), "Job")
    assert injector_names(annotations, "openbao.org") <= INJECTOR_ANNOTATIONS
    assert annotations["openbao.org/agent-pre-populate-only"] == "true"
    assert annotations["openbao.org/ca-cert"] == "/vault/tls/ca.crt"
    # A sidecar for a long-running workload: the injector keeps its agent, refreshing.
    spec = spec_with(
        {"vault": {"read": ["ai/params"], "deliver": "injector", "agent": {"sidecar": True}}}, injector={}
    )
    annotations = template_annotations(compiled(spec))
    assert "vault.hashicorp.com/agent-pre-populate-only" not in annotations
    assert annotations["vault.hashicorp.com/template-static-secret-render-interval"] == "300s"


# ----------------------------------------------------------------------------- External Secrets


def test_external_secrets_sync_into_a_secret_the_pod_mounts() -> None:
    spec = spec_with({"vault": {"read": ["ai/params"], "deliver": "externalSecrets"}}, external_secrets={})
    resources = compiled(spec)
    store = one(resources, "SecretStore", "w-vault")
    assert store["apiVersion"] == "external-secrets.io/v1"
    assert store["spec"]["provider"]["vault"] == {
        "server": "https://vault.example:8200",
        "path": "secret",
        "version": "v2",
        "auth": {
            "kubernetes": {
                "mountPath": "kubernetes",
                "role": "demo-ml-w",
                "serviceAccountRef": {"name": "w", "audiences": ["vault"]},
            }
        },
    }
    external = one(resources, "ExternalSecret", "w-vault")
    assert external["spec"] == {
        "refreshInterval": "1h",
        "secretStoreRef": {"name": "w-vault", "kind": "SecretStore"},
        "target": {"name": "w-vault", "creationPolicy": "Owner"},
        "data": [{"secretKey": "params.json", "remoteRef": {"key": "ai/params"}}],
    }
    pod = pod_of(resources)
    assert {"name": "secureai-vault-files", "secret": {"secretName": "w-vault", "defaultMode": 0o440}} in pod[
        "volumes"
    ]
    assert pod["securityContext"]["fsGroup"] == 1000
    # No Vault token in the pod, and no Vault egress from it: the operator reads Vault.
    assert all("projected" not in v for v in pod["volumes"])
    assert find(resources, "NetworkPolicy", "w-to-vault") == []


def test_operator_egress_only_from_a_default_deny_namespace_of_the_spec() -> None:
    reader = {"vault": {"read": ["ai/params"], "deliver": "externalSecrets"}}
    spec = spec_with(reader, external_secrets={})
    assert find(compiled(spec), "NetworkPolicy", "external-secrets-to-vault") == []
    spec = make_spec(
        vault={**VAULT, "external_secrets": {}},
        vault_secrets=PARAMS,
        namespaces={"ml": {}, "external-secrets": {}},
        workloads={"w": workload(**reader)},
    )
    egress = one(compiled(spec), "NetworkPolicy", "external-secrets-to-vault")
    assert egress["metadata"]["namespace"] == "external-secrets"
    assert egress["spec"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "external-secrets"}},
        "policyTypes": ["Egress"],
        "egress": [
            {"to": [{"ipBlock": {"cidr": "10.0.0.10/32"}}], "ports": [{"protocol": "TCP", "port": 8200}]}
        ],
    }


# ----------------------------------------------------------------------------- none


def test_none_tells_the_application_where_to_log_in() -> None:
    spec = spec_with(
        {
            "vault": {"read": ["ai/params"], "deliver": "none"},
            "env": {"VAULT_ADDR": {"value": "http://mine:8200"}},
        }
    )
    container = pod_of(compiled(spec))["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env == {
        "VAULT_ADDR": "http://mine:8200",  # the spec's own value wins
        "VAULT_AUTH_MOUNT": "kubernetes",
        "VAULT_AUTH_ROLE": "demo-ml-w",
        "VAULT_TOKEN_FILE": "/var/run/secrets/vault/token",
        "VAULT_KV_MOUNT": "secret",
        "VAULT_PATHS": "ai/params",
    }


def test_pod_address_is_what_pods_use() -> None:
    spec = spec_with({}, pod_address="http://vault.vault.svc:8200")
    config = one(compiled(spec), "ConfigMap", "w-vault-agent")["data"]["agent-init.hcl"]
    assert 'address = "http://vault.vault.svc:8200"' in config


# ----------------------------------------------------------------------------- the examples


def test_delivery_example_pods_pass_their_pod_security_level() -> None:
    result = compile_path(ROOT / "specs" / "005-vault-delivery.yaml", {"SERVING_API_KEY": "x"})
    assert result.value is not None, [d.text() for d in result.diagnostics]
    assert check_pod_security(result.value.spec, result.value.plan) == []


def test_no_vault_value_in_any_manifest() -> None:
    for name in ("004-model-parameters.yaml", "005-vault-delivery.yaml", "ai-platform.yaml"):
        result = compile_path(ROOT / "specs" / name, {"SERVING_API_KEY": "x", "DB_PASSWORD": "y"})
        assert result.value is not None
        text = "\n".join(kubernetes_files(result.value.plan).values())
        for value in ("relu", "llama-3-8b", "0.01"):
            assert value not in text, (name, value)


def test_vault_roles_still_bind_the_workloads_own_account() -> None:
    # External Secrets logs in as the workload (TokenRequest for its account), so the role is the same.
    spec = spec_with({"vault": {"read": ["ai/params"], "deliver": "externalSecrets"}}, external_secrets={})
    result = compile_vault(spec)
    assert result.value is not None
    (role,) = [r for r in result.value if r.type.endswith("AuthBackendRole")]
    assert role.properties["bound_service_account_names"] == ["w"]
    assert re.fullmatch(r"demo-ml-w", role.properties["role_name"])


def test_vaults_ca_reaches_whoever_logs_in() -> None:
    ca = {"config_map": "vault-ca"}
    pod = pod_of(compiled(spec_with({}, ca_cert=ca)))
    volume = {
        "name": "secureai-vault-ca",
        "configMap": {"name": "vault-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]},
    }
    assert volume in pod["volumes"]
    mount = {"name": "secureai-vault-ca", "mountPath": "/vault/tls", "readOnly": True}
    assert (
        mount in pod["initContainers"][0]["volumeMounts"]
        and mount not in pod["containers"][0]["volumeMounts"]
    )
    none = pod_of(compiled(spec_with({"vault": {"read": ["ai/params"], "deliver": "none"}}, ca_cert=ca)))
    assert mount in none["containers"][0]["volumeMounts"]
    assert {"name": "VAULT_CACERT", "value": "/vault/tls/ca.crt"} in none["containers"][0]["env"]
    eso = spec_with(
        {"vault": {"read": ["ai/params"], "deliver": "externalSecrets"}}, external_secrets={}, ca_cert=ca
    )
    store = one(compiled(eso), "SecretStore", "w-vault")["spec"]["provider"]["vault"]
    assert store["caProvider"] == {"type": "ConfigMap", "name": "vault-ca", "key": "ca.crt"}


def test_files_reach_the_specs_init_containers_and_sidecars_unless_narrowed() -> None:
    extra = {
        "init_containers": {"prep": {"image": "ghcr.io/acme/prep:1.0.0"}},
        "sidecars": {"shipper": {"image": "ghcr.io/acme/ship:1.0.0"}},
    }
    pod = pod_of(compiled(spec_with(extra)))
    names = [c["name"] for c in pod["initContainers"]]
    assert names == ["vault-agent-init", "prep", "shipper"]  # the agent writes the files first
    files = [
        c["name"]
        for c in [*pod["containers"], *pod["initContainers"]]
        if any(m["mountPath"] == "/vault/secrets" and m["readOnly"] for m in c.get("volumeMounts", []))
    ]
    assert sorted(files) == ["prep", "shipper", "w"]
    narrowed = pod_of(compiled(spec_with({**extra, "vault": {"read": ["ai/params"], "containers": ["w"]}})))
    files = [
        c["name"]
        for c in [*narrowed["containers"], *narrowed["initContainers"]]
        if any(m["mountPath"] == "/vault/secrets" and m["readOnly"] for m in c.get("volumeMounts", []))
    ]
    assert files == ["w"]
