"""The Python API a Pulumi program sees (issue 12, point 12): documented arguments, the error
types it may catch exported beside SecuritySpec, readable generated-secret config keys."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from pulumi.automation import ConfigValue
from pulumi.runtime.config import set_all_config
from specutil import BASE, WORKLOAD, write_spec
from test_deploy_run import FakeStack
from test_pulumi_component import RecordingMonitor, monitor, run, spec_with  # noqa: F401 (fixture)

import secureai.pulumi as api
from secureai.compile.plan import Plan, Resource, SecretValue
from secureai.deploy.stack import ensure_generated_secrets
from secureai.pulumi.component import generated_config_key, legacy_generated_config_key
from secureai.resolve import ResolveError


def test_the_errors_a_program_may_catch_are_exported() -> None:
    assert set(api.__all__) == {
        "ConfigurationError",
        "MissingGeneratedSecretError",
        "ResolveError",
        "SecuritySpec",
        "SpecError",
    }
    assert api.ResolveError is ResolveError
    for name in api.__all__:
        assert isinstance(getattr(api, name), type), name


def test_init_documents_every_keyword() -> None:
    doc = inspect.getdoc(api.SecuritySpec.__init__) or ""
    for parameter in inspect.signature(api.SecuritySpec.__init__).parameters:
        if parameter != "self":
            assert f"{parameter}:" in doc, parameter
    for error in ("SpecError", "ResolveError", "MissingGeneratedSecretError", "ConfigurationError"):
        assert error in doc


def test_generated_config_keys_are_readable_and_distinct() -> None:
    assert generated_config_key("ml/db/api_token") == "generated-ml__db__api_token"
    assert (
        generated_config_key("vault/ai/model-parameters/seed")
        == "generated-vault__ai__model-parameters__seed"
    )
    dotted = generated_config_key("ml/tls.certs/ca.pem")
    assert dotted.startswith("generated-ml-tls-certs-ca-pem-") and len(dotted.rsplit("-", 1)[1]) == 8
    refs = ["a/b/c_d", "a/b_c/d", "a/b/c", "a-b/c/d", "a/b-c/d", "a/b/c.d", "a/b/c-d", "a/b.c/d"]
    assert len({generated_config_key(r) for r in refs}) == len(refs)


PLAN = Plan(
    "p",
    "dev",
    "1.30",
    (
        Resource(
            "kubernetes:core/v1:Secret",
            "db",
            {"stringData": {"t": SecretValue("generate", "ml/db/token", length=8, charset="hex")}},
        ),
    ),
)


def test_a_stack_from_before_readable_keys_keeps_its_generated_value() -> None:
    stack = FakeStack()
    legacy = "secureai:" + legacy_generated_config_key("ml/db/token")
    stack.config[legacy] = ConfigValue(value="kept-from-0.1", secret=True)
    assert ensure_generated_secrets(stack, PLAN) == {"ml/db/token": "kept-from-0.1"}
    assert "set_config" not in stack.ops()
    fresh = FakeStack()
    generated = ensure_generated_secrets(fresh, PLAN)["ml/db/token"]
    assert fresh.config["secureai:generated-ml__db__token"].value == generated


def test_the_component_reads_a_legacy_key_too(monitor: RecordingMonitor) -> None:  # noqa: F811
    key = "secureai:" + legacy_generated_config_key("ai-data-pipeline/db/api_token")
    set_all_config({key: "legacy-value"}, [key])
    spec_with(monitor, generated={})  # no MissingGeneratedSecretError: the legacy key holds it


def test_every_missing_value_in_one_resolve_error(monitor: RecordingMonitor, tmp_path: Path) -> None:  # noqa: F811
    text = (
        BASE
        + WORKLOAD
        + "    env:\n      A: { secret: s, key: a }\n"
        + "secrets:\n  s:\n    namespace: ml\n    data:\n"
        + "      a: { fromEnv: UNSET_ONE }\n      b: { fromEnv: UNSET_TWO }\n      c: { generate: {} }\n"
    )
    path = write_spec(tmp_path, text)
    with pytest.raises(api.ResolveError) as caught:
        run(lambda: api.SecuritySpec("s", path, environ={}, generated={"ml/s/c": "x"}))
    assert caught.value.problems == [
        "environment variable UNSET_ONE is not set",
        "environment variable UNSET_TWO is not set",
    ]
