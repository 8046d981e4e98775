"""SecuritySpec under Pulumi's mock runtime: the real SDK registers resources, no engine.

A recording monitor keeps every RegisterResource request, so the tests see what the engine
would see: type tokens, names, inputs (with secrets still wrapped), parents, providers,
dependencies and additional secret outputs.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks, rpc
from pulumi.runtime.config import set_all_config

from secureai.compile.plan import Plan, Resource, SecretValue, iter_secrets
from secureai.pulumi.component import (
    ConfigurationError,
    MissingGeneratedSecretError,
    SecuritySpec,
    SpecError,
    generated_config_key,
)
from secureai.resolve import ResolveError

ENV = {"DB_PASSWORD": "s3cr3t-db-pw", "VAULT_TOKEN": "hvs.test-token"}
GENERATED = {"ai-data-pipeline/db/api_token": "generated-token-value-0123456789"}

NAMESPACE = {
    "apiVersion": "v1",
    "kind": "Namespace",
    "metadata": {
        "name": "ai-data-pipeline",
        "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
    },
}
SECRET = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {"name": "db", "namespace": "ai-data-pipeline"},
    "type": "Opaque",
    "stringData": {
        "db_password": SecretValue("env", "DB_PASSWORD"),
        "api_token": SecretValue(
            "generate", "ai-data-pipeline/db/api_token", length=32, charset="alphanumeric"
        ),
    },
}
DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "trainer", "namespace": "ai-data-pipeline", "labels": {"app": "trainer"}},
    "spec": {
        "replicas": 1,
        "selector": {"matchLabels": {"app": "trainer"}},
        "template": {
            "metadata": {"labels": {"app": "trainer"}},
            "spec": {
                "automountServiceAccountToken": False,
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [
                    {
                        "name": "trainer",
                        "image": "ghcr.io/acme/train:1.4.2",
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                        },
                        "env": [
                            {
                                "name": "DB_PASSWORD",
                                "valueFrom": {"secretKeyRef": {"name": "db", "key": "db_password"}},
                            }
                        ],
                    }
                ],
            },
        },
    },
}
NETWORK_POLICY = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "default-deny", "namespace": "ai-data-pipeline"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
}
ROLE = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "Role",
    "metadata": {"name": "reader", "namespace": "ai-data-pipeline"},
    "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}],
}
ROLE_BINDING = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "RoleBinding",
    "metadata": {"name": "reader", "namespace": "ai-data-pipeline"},
    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
    "subjects": [{"kind": "ServiceAccount", "name": "trainer", "namespace": "ai-data-pipeline"}],
}
CALICO = {
    "apiVersion": "projectcalico.org/v3",
    "kind": "GlobalNetworkPolicy",
    "metadata": {"name": "deny-external"},
    "spec": {"selector": "all()", "types": ["Egress"], "egress": [{"action": "Deny"}]},
}
KV = {"mount": "secret", "name": "ai/model-parameters", "data_json": {"learning_rate": 0.01, "epochs": 100}}
POLICY = {"name": "ai-platform-trainer", "policy": 'path "secret/data/ai/*" { capabilities = ["read"] }'}
AUTH_ROLE = {
    "backend": "kubernetes",
    "role_name": "ai-platform-trainer",
    "bound_service_account_names": ["trainer"],
    "bound_service_account_namespaces": ["ai-data-pipeline"],
    "token_policies": ["ai-platform-trainer"],
    "token_ttl": 900,
    "token_max_ttl": 3600,
    "audience": "vault",
}

NS_KEY = "kubernetes:core/v1:Namespace::ai-data-pipeline"
ROLE_KEY = "kubernetes:rbac.authorization.k8s.io/v1:Role::ai-data-pipeline/reader"
POLICY_KEY = "vault:index/policy:Policy::ai-platform-trainer"


def full_plan() -> Plan:
    return Plan(
        project="ai-platform",
        environment="dev",
        kubernetes_version="1.30",
        resources=(
            Resource("kubernetes:core/v1:Namespace", "ai-data-pipeline", NAMESPACE),
            Resource("kubernetes:core/v1:Secret", "ai-data-pipeline/db", SECRET, depends_on=(NS_KEY,)),
            Resource(
                "kubernetes:apps/v1:Deployment",
                "ai-data-pipeline/trainer",
                DEPLOYMENT,
                depends_on=(NS_KEY, "kubernetes:core/v1:Secret::ai-data-pipeline/db"),
            ),
            Resource(
                "kubernetes:networking.k8s.io/v1:NetworkPolicy",
                "ai-data-pipeline/default-deny",
                NETWORK_POLICY,
                depends_on=(NS_KEY,),
            ),
            # RoleBinding is listed before its Role: the component must still create the Role first.
            Resource(
                "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
                "ai-data-pipeline/reader",
                ROLE_BINDING,
                depends_on=(ROLE_KEY,),
            ),
            Resource(
                "kubernetes:rbac.authorization.k8s.io/v1:Role",
                "ai-data-pipeline/reader",
                ROLE,
                depends_on=("ai-data-pipeline",),
            ),  # a bare name works too
            Resource("kubernetes:projectcalico.org/v3:GlobalNetworkPolicy", "deny-external", CALICO),
            Resource("vault:kv/secretV2:SecretV2", "secret/ai/model-parameters", KV),
            Resource("vault:index/policy:Policy", "ai-platform-trainer", POLICY),
            Resource(
                "vault:kubernetes/authBackendRole:AuthBackendRole",
                "ai-platform-trainer",
                AUTH_ROLE,
                depends_on=(POLICY_KEY,),
            ),
        ),
        # The pulumi-vault provider, chosen explicitly: these tests pin its registrations;
        # the built-in provider (the default) has its own tests below.
        settings={
            "kube_context": "kind-dev",
            "vault_address": "http://127.0.0.1:8200",
            "vault_provider": "pulumi-vault",
        },
    )


class Recorder(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class RecordingMonitor(mocks.MockMonitor):
    """Keeps the raw requests: they carry what MockResourceArgs leaves out."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(recorder)
        self.requests: list[Any] = []
        self.outputs: list[Any] = []

    def RegisterResource(self, request: Any) -> Any:
        self.requests.append(request)
        return super().RegisterResource(request)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self.outputs.append(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)

    def by_type(self, prefix: str) -> list[Any]:
        return [r for r in self.requests if r.type.startswith(prefix)]

    def inputs(self, request: Any) -> dict[str, Any]:
        return dict(rpc.deserialize_properties(request.object))


@pytest.fixture
def monitor() -> Iterator[RecordingMonitor]:
    recorder = Recorder()
    monitor = RecordingMonitor(recorder)
    pulumi.runtime.set_mocks(recorder, project="ai-platform", stack="dev", preview=False, monitor=monitor)
    set_all_config({})
    yield monitor
    set_all_config({}, [])


def run(make: Callable[[], SecuritySpec]) -> SecuritySpec:
    built: list[SecuritySpec] = []

    @pulumi.runtime.test
    def program() -> Any:
        built.append(make())
        return built[0].urn

    program()
    return built[0]


def unwrap(value: Any) -> Any:
    return rpc.unwrap_rpc_secret(value) if rpc.is_rpc_secret(value) else value


def resolved(manifest: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The manifest with each SecretValue replaced by the value it stands for."""

    def walk(v: Any) -> Any:
        if isinstance(v, SecretValue):
            return values[v.ref]
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return walk(manifest)  # type: ignore[no-any-return]


def camel(args: dict[str, Any]) -> dict[str, Any]:
    def one(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(p.title() for p in rest)

    return {one(k): v for k, v in args.items()}


def spec_with(monitor: RecordingMonitor, plan: Plan | None = None, **kwargs: Any) -> SecuritySpec:
    kwargs.setdefault("environ", ENV)
    kwargs.setdefault("generated", GENERATED)
    return run(lambda: SecuritySpec("secureai", plan or full_plan(), **kwargs))


def test_registers_exactly_the_plan_resources(monitor: RecordingMonitor) -> None:
    plan = full_plan()
    spec_with(monitor, plan)
    custom = [r for r in monitor.requests if r.custom and not r.type.startswith("pulumi:providers:")]
    assert sorted((r.type, r.name) for r in custom) == sorted((r.type, r.name) for r in plan.resources)
    component = monitor.by_type("secureai:index:SecuritySpec")
    assert len(component) == 1
    assert all(r.parent.endswith("secureai:index:SecuritySpec::secureai") for r in custom)


@pytest.mark.parametrize("index", [0, 2, 3, 4, 5, 6])
def test_kubernetes_inputs_equal_the_manifest(monitor: RecordingMonitor, index: int) -> None:
    plan = full_plan()
    spec_with(monitor, plan)
    resource = plan.resources[index]
    (request,) = [r for r in monitor.requests if (r.type, r.name) == (resource.type, resource.name)]
    assert monitor.inputs(request) == resource.properties


def test_vault_inputs_are_the_args_in_engine_names(monitor: RecordingMonitor) -> None:
    plan = full_plan()
    spec_with(monitor, plan)
    for resource in plan.of_provider("vault"):
        (request,) = [r for r in monitor.requests if (r.type, r.name) == (resource.type, resource.name)]
        inputs = {k: unwrap(v) for k, v in monitor.inputs(request).items()}
        expected = camel(dict(resource.properties))
        if "dataJson" in expected:
            assert json.loads(inputs.pop("dataJson")) == expected.pop("dataJson")
        assert inputs == expected


def test_secret_fields_arrive_as_secrets(monitor: RecordingMonitor) -> None:
    spec_with(monitor)
    (secret,) = monitor.by_type("kubernetes:core/v1:Secret")
    inputs = monitor.inputs(secret)
    assert rpc.is_rpc_secret(inputs["stringData"])
    assert unwrap(inputs["stringData"]) == {
        "db_password": ENV["DB_PASSWORD"],
        "api_token": GENERATED["ai-data-pipeline/db/api_token"],
    }
    assert not rpc.is_rpc_secret(inputs["metadata"])
    assert "stringData" in secret.additionalSecretOutputs
    (namespace,) = monitor.by_type("kubernetes:core/v1:Namespace")
    assert not any(rpc.is_rpc_secret(v) for v in monitor.inputs(namespace).values())


def test_secret_outputs_are_secret_on_the_resource_object(monitor: RecordingMonitor) -> None:
    checked: list[bool] = []

    @pulumi.runtime.test
    def program() -> Any:
        spec = SecuritySpec("secureai", full_plan(), environ=ENV, generated=GENERATED)
        secret = spec.resources["kubernetes:core/v1:Secret::ai-data-pipeline/db"]
        namespace = spec.resources[NS_KEY]

        async def secretness() -> None:
            checked.append(await secret.string_data.is_secret())  # type: ignore[attr-defined]
            checked.append(await namespace.metadata.is_secret())  # type: ignore[attr-defined]

        return pulumi.Output.from_input(secretness())

    program()
    assert checked == [True, False]


# How each Vault provider registers a KV v2 secret: its type, and its data's input name.
KV_REGISTRATION = {
    "builtin": ("pulumi-python:dynamic/secureai:VaultKvSecretV2", "data_json"),
    "pulumi-vault": ("vault:kv/secretV2:SecretV2", "dataJson"),
}


@pytest.mark.parametrize("provider", sorted(KV_REGISTRATION))
def test_vault_data_json_is_secret_when_it_holds_a_secret(monitor: RecordingMonitor, provider: str) -> None:
    kv = {"mount": "secret", "name": "ai/db", "data_json": {"password": SecretValue("env", "DB_PASSWORD")}}
    plan = Plan(
        "p",
        "dev",
        "1.30",
        (Resource("vault:kv/secretV2:SecretV2", "secret/ai/db", kv),),
        settings={"vault_address": "http://127.0.0.1:8200", "vault_provider": provider},
    )
    spec_with(monitor, plan)
    kv_type, data_field = KV_REGISTRATION[provider]
    (request,) = monitor.by_type(kv_type)
    data = monitor.inputs(request)[data_field]
    assert rpc.is_rpc_secret(data)
    assert json.loads(unwrap(data)) == {"password": ENV["DB_PASSWORD"]}
    assert "data_json" in request.additionalSecretOutputs or "dataJson" in request.additionalSecretOutputs


@pytest.mark.parametrize("provider", sorted(KV_REGISTRATION))
def test_vault_data_json_is_secret_even_with_plain_values(monitor: RecordingMonitor, provider: str) -> None:
    kv = {
        "mount": "secret",
        "name": "ai/model-parameters",
        "data_json": {"learning_rate": 0.01, "epochs": 100},
    }
    plan = Plan(
        "p",
        "dev",
        "1.30",
        (Resource("vault:kv/secretV2:SecretV2", "secret/ai/mp", kv),),
        settings={"vault_address": "http://127.0.0.1:8200", "vault_provider": provider},
    )
    spec_with(monitor, plan)
    kv_type, data_field = KV_REGISTRATION[provider]
    (request,) = monitor.by_type(kv_type)
    data = monitor.inputs(request)[data_field]
    assert rpc.is_rpc_secret(data)
    assert json.loads(unwrap(data)) == {"learning_rate": 0.01, "epochs": 100}


def test_from_vault_on_a_path_the_plan_writes_needs_no_vault_read(monitor: RecordingMonitor) -> None:
    kv = {
        "mount": "secret",
        "name": "ai/db",
        "data_json": {"password": SecretValue("env", "DB_PASSWORD"), "port": 5432},
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "ns"},
        "stringData": {
            "password": SecretValue("vault", "ai/db#password"),
            "port": SecretValue("vault", "ai/db#port"),
        },
    }
    plan = Plan(
        "p",
        "dev",
        "1.30",
        (
            Resource("vault:kv/secretV2:SecretV2", "secret/ai/db", kv),
            Resource("kubernetes:core/v1:Secret", "ns/db", secret),
        ),
        settings={"vault_address": "http://127.0.0.1:8200"},
    )

    def no_vault(path: str, key: str) -> str:
        raise AssertionError("Vault must not be read for a path the plan itself writes")

    spec_with(monitor, plan, vault_reader=no_vault)
    (request,) = monitor.by_type("kubernetes:core/v1:Secret")
    data = monitor.inputs(request)["stringData"]
    assert rpc.is_rpc_secret(data)
    assert unwrap(data) == {"password": ENV["DB_PASSWORD"], "port": "5432"}


def test_base64_for_secret_data_field(monitor: RecordingMonitor) -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "b"},
        "data": {"pw": SecretValue("env", "DB_PASSWORD")},
    }
    plan = Plan("p", "dev", "1.30", (Resource("kubernetes:core/v1:Secret", "b", manifest),))
    spec_with(monitor, plan)
    (request,) = monitor.by_type("kubernetes:core/v1:Secret")
    data = monitor.inputs(request)["data"]
    assert rpc.is_rpc_secret(data)
    assert unwrap(data) == {"pw": base64.b64encode(ENV["DB_PASSWORD"].encode()).decode()}


def test_depends_on_is_honoured(monitor: RecordingMonitor) -> None:
    spec_with(monitor)
    urn = {r.name + "|" + r.type: r for r in monitor.requests}
    names = [(r.type, r.name) for r in monitor.requests]

    def deps(type_: str, name: str) -> set[str]:
        return set(urn[f"{name}|{type_}"].dependencies)

    ns_urn = (
        "urn:pulumi:dev::ai-platform::pulumi:pulumi:Stack$secureai:index:SecuritySpec$"
        "kubernetes:core/v1:Namespace::ai-data-pipeline"
    )
    assert any(
        d.endswith("kubernetes:core/v1:Namespace::ai-data-pipeline")
        for d in deps("kubernetes:core/v1:Secret", "ai-data-pipeline/db")
    )
    deployment = deps("kubernetes:apps/v1:Deployment", "ai-data-pipeline/trainer")
    assert any(d.endswith("kubernetes:core/v1:Secret::ai-data-pipeline/db") for d in deployment)
    binding = deps("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "ai-data-pipeline/reader")
    assert any(d.endswith("rbac.authorization.k8s.io/v1:Role::ai-data-pipeline/reader") for d in binding)
    role = deps("kubernetes:rbac.authorization.k8s.io/v1:Role", "ai-data-pipeline/reader")
    assert any(d.endswith("Namespace::ai-data-pipeline") for d in role), ns_urn
    auth = deps("vault:kubernetes/authBackendRole:AuthBackendRole", "ai-platform-trainer")
    assert any(d.endswith("vault:index/policy:Policy::ai-platform-trainer") for d in auth)
    # Registration order: a dependency is registered before its dependant.
    assert names.index(
        ("kubernetes:rbac.authorization.k8s.io/v1:Role", "ai-data-pipeline/reader")
    ) < names.index(("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "ai-data-pipeline/reader"))


def test_explicit_providers_are_used(monitor: RecordingMonitor) -> None:
    spec_with(monitor)
    providers = monitor.by_type("pulumi:providers:")
    assert sorted(p.type for p in providers) == ["pulumi:providers:kubernetes", "pulumi:providers:vault"]
    by_pkg = {p.type.rsplit(":", 1)[1]: p for p in providers}
    k8s_inputs = monitor.inputs(by_pkg["kubernetes"])
    assert k8s_inputs["context"] == "kind-dev"
    vault_inputs = monitor.inputs(by_pkg["vault"])
    assert vault_inputs["address"] == "http://127.0.0.1:8200"
    # A provider reference is "<provider URN>::<id>"; ours, never a default provider.
    refs = {
        urn.split("::")[2].rsplit(":", 1)[1]: f"{urn}::{reg.id}"
        for urn, reg in monitor.resources.items()
        if "pulumi:providers:" in urn
    }
    assert set(refs) == {"kubernetes", "vault"}
    for request in monitor.requests:
        if request.custom and not request.type.startswith("pulumi:providers:"):
            assert request.provider == refs[request.type.split(":", 1)[0]], request.type
            assert "::default" not in request.provider


def test_provider_inputs_hold_no_credentials_or_local_paths(monitor: RecordingMonitor) -> None:
    """Provider inputs are kept in state and reused by destroy, which does not run the program:
    a stored token would be stale by then (and make every preview show a provider change when
    it rotates), a stored KUBECONFIG path would not exist on the next machine. The providers
    read both from the environment of each run instead."""
    environ = {**ENV, "KUBECONFIG": "/tmp/ci-1234/kubeconfig"}
    spec_with(monitor, environ=environ)
    by_pkg = {p.type.rsplit(":", 1)[1]: monitor.inputs(p) for p in monitor.by_type("pulumi:providers:")}
    assert "token" not in by_pkg["vault"]
    assert "kubeconfig" not in by_pkg["kubernetes"]
    stored = json.dumps([unwrap(v) for inputs in by_pkg.values() for v in inputs.values()], default=str)
    assert ENV["VAULT_TOKEN"] not in stored
    assert "/tmp/ci-1234" not in stored


def test_only_needed_providers(monitor: RecordingMonitor) -> None:
    plan = Plan(
        "p", "dev", "1.30", (Resource("kubernetes:core/v1:Namespace", "ai-data-pipeline", NAMESPACE),)
    )
    spec_with(monitor, plan, environ={})
    assert [p.type for p in monitor.by_type("pulumi:providers:")] == ["pulumi:providers:kubernetes"]


def test_vault_without_address_is_a_clear_error(monitor: RecordingMonitor) -> None:
    plan = Plan("p", "dev", "1.30", (Resource("vault:index/policy:Policy", "x", POLICY),))
    with pytest.raises(ConfigurationError, match="VAULT_ADDR"):
        spec_with(monitor, plan, environ={})


def test_vault_address_from_environment(monitor: RecordingMonitor) -> None:
    settings = {"vault_provider": "pulumi-vault"}
    plan = Plan("p", "dev", "1.30", (Resource("vault:index/policy:Policy", "x", POLICY),), settings=settings)
    spec_with(monitor, plan, environ={"VAULT_ADDR": "https://vault.example:8200"})
    (provider,) = monitor.by_type("pulumi:providers:vault")
    assert monitor.inputs(provider)["address"] == "https://vault.example:8200"
    assert "token" not in monitor.inputs(provider)


def test_builtin_vault_address_from_environment(monitor: RecordingMonitor) -> None:
    plan = Plan("p", "dev", "1.30", (Resource("vault:index/policy:Policy", "x", POLICY),))
    spec_with(monitor, plan, environ={"VAULT_ADDR": "https://vault.example:8200"})
    assert monitor.by_type("pulumi:providers:") == []
    (policy,) = monitor.by_type("pulumi-python:dynamic/secureai:VaultPolicy")
    assert unwrap(monitor.inputs(policy)["address"]) == "https://vault.example:8200"


BUILTIN_TYPES = {
    "vault:kv/secretV2:SecretV2": "pulumi-python:dynamic/secureai:VaultKvSecretV2",
    "vault:index/policy:Policy": "pulumi-python:dynamic/secureai:VaultPolicy",
    "vault:kubernetes/authBackendRole:AuthBackendRole": "pulumi-python:dynamic/secureai:VaultKubernetesAuthRole",
}


def test_builtin_vault_registers_dynamic_resources_without_a_plugin(monitor: RecordingMonitor) -> None:
    """The default: each Vault resource is a dynamic resource holding the plan's args plus the
    address, with no Vault provider resource (no plugin) and no token anywhere."""
    plan = dataclasses.replace(
        full_plan(), settings={"kube_context": "kind-dev", "vault_address": "http://127.0.0.1:8200"}
    )
    spec_with(monitor, plan)
    assert [p.type for p in monitor.by_type("pulumi:providers:")] == ["pulumi:providers:kubernetes"]
    for resource in plan.of_provider("vault"):
        (request,) = [
            r for r in monitor.requests if (r.type, r.name) == (BUILTIN_TYPES[resource.type], resource.name)
        ]
        inputs = {k: unwrap(v) for k, v in monitor.inputs(request).items()}
        provider_pickle = base64.b64decode(inputs.pop("__provider"))
        assert ENV["VAULT_TOKEN"].encode() not in provider_pickle
        assert b"secureai.pulumi.vault_builtin" in provider_pickle  # by reference, not by value
        expected = {**resource.properties, "address": "http://127.0.0.1:8200"}
        if "data_json" in expected:
            assert rpc.is_rpc_secret(monitor.inputs(request)["data_json"])
            assert json.loads(inputs.pop("data_json")) == expected.pop("data_json")
        assert {k: v for k, v in inputs.items() if v is not None} == expected
        assert ENV["VAULT_TOKEN"] not in json.dumps(inputs, default=str)


def test_builtin_vault_resources_take_exactly_their_provider_inputs() -> None:
    """One constructor serves every kind: it takes the address, identity and body its provider
    names, refuses a misspelt or missing one, and lets only the optional ones be left out."""
    from secureai.pulumi.vault_builtin import AuthBackendRole, KvSecret, Policy

    with pytest.raises(
        TypeError, match=r"KvSecret: unknown inputs \['data'\], missing inputs \['data_json'\]"
    ):
        KvSecret("s", address="http://127.0.0.1:8200", mount="secret", name="a", data="{}")
    with pytest.raises(TypeError, match=r"Policy: unknown inputs \[\], missing inputs \['address'\]"):
        Policy("p", name="p", policy="")
    with pytest.raises(TypeError, match=r"missing inputs \['token_policies'\]"):
        AuthBackendRole(
            "r",
            address="http://127.0.0.1:8200",
            backend="kubernetes",
            role_name="r",
            bound_service_account_names=["a"],
            bound_service_account_namespaces=["ns"],
        )


def test_generated_secret_comes_from_stack_config_first(monitor: RecordingMonitor) -> None:
    key = "secureai:" + generated_config_key("ai-data-pipeline/db/api_token")
    set_all_config({key: "value-from-config"}, [key])
    spec_with(monitor, generated={"ai-data-pipeline/db/api_token": "fallback"})
    (secret,) = monitor.by_type("kubernetes:core/v1:Secret")
    string_data = monitor.inputs(secret)["stringData"]
    assert rpc.is_rpc_secret(string_data)
    assert unwrap(string_data)["api_token"] == "value-from-config"


def test_generated_secret_missing_everywhere_says_how_to_set_it(monitor: RecordingMonitor) -> None:
    with pytest.raises(MissingGeneratedSecretError) as caught:
        spec_with(monitor, generated={})
    message = str(caught.value)
    assert "pulumi config set --secret secureai:generated-" in message
    assert "secureai apply" in message


def test_missing_environment_value_raises_resolve_error(monitor: RecordingMonitor) -> None:
    with pytest.raises(ResolveError, match="DB_PASSWORD") as caught:
        spec_with(monitor, environ={})
    assert ENV["DB_PASSWORD"] not in str(caught.value)


def test_outputs_hold_names_never_secret_values(monitor: RecordingMonitor) -> None:
    spec_with(monitor)
    text = json.dumps(monitor.outputs, default=str)
    assert "ai-data-pipeline" in text
    for value in [*ENV.values(), *GENERATED.values()]:
        assert value not in text


def test_bad_spec_file_raises_spec_error_with_diagnostics(monitor: RecordingMonitor, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nproject: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        run(lambda: SecuritySpec("secureai", bad, environ={}))
    assert str(bad) in str(caught.value)
    assert caught.value.diagnostics
    assert all(d.text() in str(caught.value) for d in caught.value.diagnostics if d.is_error)


def test_spec_file_compiles_through_the_pipeline(monitor: RecordingMonitor, tmp_path: Path) -> None:
    from secureai.pipeline import compile_file

    spec = tmp_path / "mini.yaml"
    spec.write_text(
        'version: 1\nproject: mini\nenvironment: dev\nkubernetes:\n  version: "1.30"\n'
        "namespaces:\n  team-a:\n    podSecurity: restricted\n    network: default-deny\n",
        encoding="utf-8",
    )
    compiled = compile_file(spec, environ={})
    assert compiled.ok, [d.text() for d in compiled.diagnostics]
    assert compiled.value is not None
    component = run(lambda: SecuritySpec("secureai", spec, environ={}))
    assert sorted(component.resources) == sorted(r.key for r in compiled.value.resources)


def test_example_spec_registers_every_resource_as_its_manifest(monitor: RecordingMonitor) -> None:
    """specs/ai-platform.yaml end to end: pipeline -> Plan -> component -> registrations."""
    from secureai.pipeline import compile_file

    spec = Path(__file__).resolve().parents[1] / "specs" / "ai-platform.yaml"
    environ = {**ENV, "VAULT_ADDR": "http://127.0.0.1:8200"}
    compiled = compile_file(spec, environ=environ)
    assert compiled.ok and compiled.value is not None, [d.text() for d in compiled.diagnostics]
    plan = compiled.value
    generated = {
        ref: f"gen-{i}"
        for i, ref in enumerate(
            sorted(
                {
                    v.ref
                    for r in plan.resources
                    for _, v in iter_secrets(r.properties)
                    if v.source == "generate"
                }
            )
        )
    }
    run(lambda: SecuritySpec("secureai", spec, environ=environ, generated=generated))
    registered = {(r.type, r.name): r for r in monitor.requests if r.custom}
    for resource in plan.resources:
        if resource.provider != "kubernetes":
            assert (BUILTIN_TYPES[resource.type], resource.name) in registered
            continue
        request = registered[(resource.type, resource.name)]
        inputs = {k: unwrap(v) for k, v in monitor.inputs(request).items()}
        secret_fields = {str(p[0]) for p in resource.secret_paths()}
        for field in secret_fields:
            assert rpc.is_rpc_secret(monitor.inputs(request)[field]), (resource.key, field)
            inputs.pop(field)
        expected = {k: v for k, v in resource.properties.items() if k not in secret_fields}
        assert inputs == expected, resource.key
