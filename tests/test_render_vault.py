"""vault_files: policy HCL as stored, role bodies, KV data redacted unless revealed."""

from __future__ import annotations

import json
from typing import Any

from secureai.compile.plan import Plan, SecretValue
from secureai.compile.vault import compile_vault
from secureai.model.spec import Spec
from secureai.render.vault import vault_files

SECRETS = {"HF_TOKEN": "hf-very-secret-token", "PIN": "pin-literal-4711"}


def make_plan() -> Plan:
    spec = Spec.model_validate(
        {
            "version": 1,
            "project": "demo",
            "kubernetes": {"version": "1.30"},
            "vault": {"kvMount": "kv"},
            "namespaces": {"ml": {}},
            "vaultSecrets": {
                "ai/model-parameters": {
                    "data": {
                        "learning_rate": 0.01,
                        "epochs": 100,
                        "activation_function": "relu",
                        "shuffle": False,
                    }
                },
                "ai/hub": {
                    "data": {
                        "token": {"fromEnv": "HF_TOKEN"},
                        "pin": {"literal": SECRETS["PIN"], "allowPlaintext": True},
                    }
                },
            },
            "workloads": {
                "trainer": {
                    "namespace": "ml",
                    "image": "ghcr.io/acme/train:1.0.0",
                    "vault": {"read": ["ai/model-parameters", "ai/hub"]},
                }
            },
        }
    )
    compiled = compile_vault(spec)
    assert compiled.value is not None
    return Plan(project="demo", environment="dev", kubernetes_version="1.30", resources=tuple(compiled.value))


def reveal(value: SecretValue) -> str:
    return SECRETS["HF_TOKEN"] if value.source == "env" else value.literal


def test_file_names() -> None:
    assert sorted(vault_files(make_plan())) == [
        "vault/auth-roles/demo-ml-trainer.json",
        "vault/kv/kv/ai/hub.json",
        "vault/kv/kv/ai/model-parameters.json",
        "vault/policies/demo-ml-trainer.hcl",
    ]


def test_policy_file_is_the_policy_text() -> None:
    plan = make_plan()
    [policy] = [r for r in plan.resources if r.type == "vault:index/policy:Policy"]
    text = vault_files(plan)["vault/policies/demo-ml-trainer.hcl"]
    assert text == policy.properties["policy"]
    assert text == (
        "# secureai: workload 'trainer' in namespace 'ml' reads these paths\n"
        'path "kv/data/ai/model-parameters" {\n  capabilities = ["read"]\n}\n'
        "\n"
        'path "kv/data/ai/hub" {\n  capabilities = ["read"]\n}\n'
    )


def test_role_file_is_the_api_body() -> None:
    text = vault_files(make_plan())["vault/auth-roles/demo-ml-trainer.json"]
    assert text == (
        "{\n"
        '  "audience": "vault",\n'
        '  "bound_service_account_names": [\n    "trainer"\n  ],\n'
        '  "bound_service_account_namespaces": [\n    "ml"\n  ],\n'
        '  "token_max_ttl": 3600,\n'
        '  "token_no_default_policy": true,\n'
        '  "token_policies": [\n    "demo-ml-trainer"\n  ],\n'
        '  "token_ttl": 900\n'
        "}\n"
    )


def test_kv_values_are_placeholders_without_reveal() -> None:
    files = vault_files(make_plan())
    params = json.loads(files["vault/kv/kv/ai/model-parameters.json"])
    assert params == {
        "activation_function": "<redacted:string>",
        "epochs": "<redacted:integer>",
        "learning_rate": "<redacted:number>",
        "shuffle": "<redacted:boolean>",
    }
    hub = json.loads(files["vault/kv/kv/ai/hub.json"])
    assert hub == {
        "pin": "<secret:literal:vaultSecrets.ai/hub.data.pin>",
        "token": "<secret:env:HF_TOKEN>",
    }


def test_no_value_leaks_without_reveal() -> None:
    everything = "".join(vault_files(make_plan()).values())
    for leak in (*SECRETS.values(), "0.01", "100", "relu", "false"):
        assert leak not in everything


def test_reveal_gives_typed_values() -> None:
    files = vault_files(make_plan(), reveal)
    params: dict[str, Any] = json.loads(files["vault/kv/kv/ai/model-parameters.json"])
    assert params == {"activation_function": "relu", "epochs": 100, "learning_rate": 0.01, "shuffle": False}
    assert [type(params[k]) for k in ("activation_function", "epochs", "learning_rate", "shuffle")] == [
        str,
        int,
        float,
        bool,
    ]
    assert json.loads(files["vault/kv/kv/ai/hub.json"]) == {
        "pin": SECRETS["PIN"],
        "token": SECRETS["HF_TOKEN"],
    }


def test_json_format_and_determinism() -> None:
    first, second = vault_files(make_plan()), vault_files(make_plan())
    assert first == second
    assert list(first) == sorted(first)
    for name, text in first.items():
        assert text.endswith("\n")
        if name.endswith(".json"):
            assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_plan_without_vault_renders_nothing() -> None:
    assert vault_files(Plan(project="p", environment="dev", kubernetes_version="1.30")) == {}
