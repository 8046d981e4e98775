"""compile_vault: KV v2 secrets keep types, policies read exactly the granted paths, roles bind."""

from __future__ import annotations

import re
from typing import Any

from secureai.compile.plan import SecretValue
from secureai.compile.vault import (
    AUTH_ROLE,
    KV_SECRET,
    POLICY,
    compile_vault,
    policy_text,
)
from secureai.model.names import duration_seconds
from secureai.model.spec import Spec


def make_spec(**overrides: Any) -> Spec:
    workload = {
        "namespace": "ml",
        "image": "ghcr.io/acme/train:1.0.0",
        "runAsUser": 10001,
        "vault": {"read": ["ai/model-parameters"]},
    }
    data: dict[str, Any] = {
        "version": 1,
        "project": "demo",
        "kubernetes": {"version": "1.30"},
        "vault": {},
        "namespaces": {"ml": {}},
        "vaultSecrets": {
            "ai/model-parameters": {
                "data": {
                    "learning_rate": 0.01,
                    "epochs": 100,
                    "activation_function": "relu",
                    "early_stopping": True,
                },
            },
        },
        "workloads": {"trainer": workload},
    }
    data.update(overrides)
    return Spec.model_validate(data)


def resources(spec: Spec) -> list[Any]:
    result = compile_vault(spec)
    assert result.diagnostics == []
    assert result.value is not None
    return result.value


def of_type(spec: Spec, token: str) -> list[Any]:
    return [r for r in resources(spec) if r.type == token]


def test_kv_secret_keeps_scalar_types() -> None:
    [kv] = of_type(make_spec(), KV_SECRET)
    assert kv.name == "secret/ai/model-parameters"
    assert kv.source == ("vaultSecrets", "ai/model-parameters")
    assert kv.properties["mount"] == "secret"
    assert kv.properties["name"] == "ai/model-parameters"
    data = kv.properties["data_json"]
    assert data == {
        "learning_rate": 0.01,
        "epochs": 100,
        "activation_function": "relu",
        "early_stopping": True,
    }
    assert [type(v) for v in data.values()] == [float, int, str, bool]
    assert kv.secret_paths() == []


def test_value_sources_become_secret_leaves() -> None:
    spec = make_spec(
        vaultSecrets={
            "ai/keys": {
                "data": {
                    "token": {"fromEnv": "HF_TOKEN"},
                    "cert": {"fromFile": "files/ca.pem"},
                    "salt": {"generate": {"length": 24, "charset": "hex"}},
                    "copied": {"fromVault": {"path": "shared/creds", "key": "api"}},
                    "pin": {"literal": "1234", "allowPlaintext": True},
                    "retries": 3,
                }
            }
        },
        workloads={},
    )
    [kv] = of_type(spec, KV_SECRET)
    data = kv.properties["data_json"]
    base = ("vaultSecrets", "ai/keys", "data")
    assert data["token"] == SecretValue("env", "HF_TOKEN", (*base, "token"))
    assert data["cert"] == SecretValue("file", "files/ca.pem", (*base, "cert"))
    assert data["salt"] == SecretValue("generate", "vault/ai/keys/salt", (*base, "salt"), 24, "hex")
    assert data["copied"] == SecretValue("vault", "shared/creds#api", (*base, "copied"))
    assert data["pin"].source == "literal"
    assert data["pin"].literal == "1234"
    assert "1234" not in repr(data["pin"]) and "1234" not in data["pin"].placeholder()
    assert data["retries"] == 3
    assert sorted(p[-1] for p in kv.secret_paths()) == ["cert", "copied", "pin", "salt", "token"]


def test_policy_reads_exactly_the_granted_data_path() -> None:
    [policy] = of_type(make_spec(), POLICY)
    assert policy.name == "ml/trainer"
    assert policy.source == ("workloads", "trainer", "vault")
    assert policy.properties == {
        "name": "demo-ml-trainer",
        "policy": (
            "# secureai: workload 'trainer' in namespace 'ml' reads these paths\n"
            'path "secret/data/ai/model-parameters" {\n'
            '  capabilities = ["read"]\n'
            "}\n"
        ),
    }


def test_policy_has_no_wildcard_and_only_read() -> None:
    spec = make_spec(vault={"kvMount": "kv"})
    [policy] = of_type(spec, POLICY)
    text = policy.properties["policy"]
    assert "*" not in text and "+" not in text
    assert "metadata" not in text
    assert re.findall(r"capabilities = (\[.*\])", text) == ['["read"]']
    for word in ("list", "create", "update", "delete", "sudo", "patch", "deny"):
        assert word not in text
    assert 'path "kv/data/ai/model-parameters"' in text


def test_wildcards_only_as_granted_and_duplicates_dropped() -> None:
    text = policy_text("secret", ["ai/+/params", "ai/models/*", "ai/+/params"])
    assert text == (
        'path "secret/data/ai/+/params" {\n  capabilities = ["read"]\n}\n'
        "\n"
        'path "secret/data/ai/models/*" {\n  capabilities = ["read"]\n}\n'
    )


def test_auth_role_binds_service_account_namespace_and_policy() -> None:
    spec = make_spec(
        vault={
            "kubernetesAuthMount": "k8s-prod",
            "audience": "https://vault.example",
            "tokenTtl": "90s",
            "tokenMaxTtl": "2h",
        }
    )
    [policy] = of_type(spec, POLICY)
    [role] = of_type(spec, AUTH_ROLE)
    assert role.name == "ml/trainer"
    assert role.depends_on == (policy.key,)
    assert role.properties == {
        "backend": "k8s-prod",
        "role_name": "demo-ml-trainer",
        "bound_service_account_names": ["trainer"],
        "bound_service_account_namespaces": ["ml"],
        "token_policies": ["demo-ml-trainer"],
        "token_no_default_policy": True,
        "token_ttl": 90,
        "token_max_ttl": 7200,
        "audience": "https://vault.example",
    }


def test_role_uses_the_named_service_account() -> None:
    spec = make_spec(
        access={"ml-sa": {"namespace": "ml"}},
        workloads={
            "trainer": {
                "namespace": "ml",
                "image": "ghcr.io/acme/train:1.0.0",
                "serviceAccount": "ml-sa",
                "vault": {"read": ["ai/model-parameters"]},
            }
        },
    )
    [role] = of_type(spec, AUTH_ROLE)
    assert role.properties["bound_service_account_names"] == ["ml-sa"]


def test_default_settings_and_order() -> None:
    spec = make_spec(
        workloads={
            "b": {"namespace": "ml", "image": "x:1", "vault": {"read": ["ai/model-parameters"]}},
            "a": {"namespace": "ml", "image": "x:1"},
            "c": {"namespace": "ml", "image": "x:1", "vault": {"read": ["ai/model-parameters"]}},
        }
    )
    got = [(r.type, r.name) for r in resources(spec)]
    assert got == [
        (KV_SECRET, "secret/ai/model-parameters"),
        (POLICY, "ml/b"),
        (AUTH_ROLE, "ml/b"),
        (POLICY, "ml/c"),
        (AUTH_ROLE, "ml/c"),
    ]
    role = of_type(spec, AUTH_ROLE)[0]
    assert (role.properties["backend"], role.properties["audience"]) == ("kubernetes", "vault")
    assert (role.properties["token_ttl"], role.properties["token_max_ttl"]) == (900, 3600)
    assert resources(spec) == resources(spec)


def test_no_vault_content_compiles_to_nothing() -> None:
    assert resources(make_spec(vault=None, vaultSecrets={}, workloads={})) == []


def test_duration_seconds() -> None:
    assert [duration_seconds(d) for d in ("45s", "15m", "1h", "0s")] == [45, 900, 3600, 0]
