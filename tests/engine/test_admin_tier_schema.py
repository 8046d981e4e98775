"""The admin tier's AdminNetworkPolicies pass the real network-policy-api schema.

sigs.k8s.io/network-policy-api v0.1.7's AdminNetworkPolicy and BaselineAdminNetworkPolicy CRDs
(`policy.networking.k8s.io/v1alpha1`, standard channel; engine/crds/versions.env says why that
version), fetched from the Go module proxy by scripts/engine/fetch-crds.sh and installed with the
other operator CRDs (operator_apis.py). Every example, and cilium_oracle.MIXED (every kind of
peer), rendered with `kubernetes.adminNetworkPolicy` on: each AdminNetworkPolicy is applied
server-side with `dryRun=All` and `fieldValidation=Strict`. Negative controls: the same policy with
an unknown field, a wrong type, an action outside the enum (v1alpha2's `Accept`) or a priority
above the maximum is refused, on apply and on create.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cilium_oracle import MIXED

from .conftest import need
from .deploying import edit_spec
from .harness import ControlPlane
from .kubeapi import KubeClient
from .operator_apis import assert_schema_refuses, served_spec_schema
from .specs import EXAMPLES, compiled_at, rendered
from .toolchain import OperatorCrds, network_policy_api_crds

pytestmark = pytest.mark.engine

GROUP = "policy.networking.k8s.io"
PRIORITY = 40


def _tier_on(data: dict[str, Any]) -> None:
    data["kubernetes"]["adminNetworkPolicy"] = {"priority": PRIORITY}


def _admin_policies(minor: str, into: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    found = {}
    mixed = into / "mixed" / "mixed.yaml"
    mixed.parent.mkdir(parents=True)
    mixed.write_text(MIXED, encoding="utf-8")
    for spec in [*EXAMPLES, mixed]:
        source = edit_spec(spec, _tier_on, into / "spec" / spec.stem)
        for name, text, manifest in rendered(compiled_at(source, minor, into / "render" / spec.stem)):
            if manifest["kind"] == "AdminNetworkPolicy":
                found[f"{spec.stem}/{name}"] = (text, manifest)
    return found


@pytest.fixture
def admin_apis(operator_apis: OperatorCrds) -> OperatorCrds:
    crds = network_policy_api_crds()
    need(crds.missing_reason())
    return crds


def test_the_network_policy_api_crds_are_the_real_ones(kube: KubeClient, admin_apis: OperatorCrds) -> None:
    for plural in ("adminnetworkpolicies", "baselineadminnetworkpolicies"):
        spec = served_spec_schema(kube, f"{plural}.{GROUP}", "v1alpha1")
        rule = spec["properties"]["egress"]["items"]["properties"]
        assert rule["action"]["enum"] in (["Allow", "Deny", "Pass"], ["Allow", "Deny"]), plural
        assert {"namespaces", "pods", "networks"} <= set(rule["to"]["items"]["properties"]), plural


def test_every_examples_admin_tier_passes_the_schema(
    control_plane: ControlPlane, kube: KubeClient, admin_apis: OperatorCrds, tmp_path: Path
) -> None:
    objects = _admin_policies(control_plane.minor, tmp_path)
    policies = [m for _, m in objects.values()]
    assert len(policies) >= 25, len(policies)
    text = repr(policies)
    for needed in (
        "'Pass'",
        "'Deny'",
        "portRange",
        "portNumber",
        "matchExpressions",
        "'pods'",
        "'namespaces'",
    ):
        assert needed in text, needed
    failures = []
    for name, (text, manifest) in sorted(objects.items()):
        reply = kube.apply_yaml(text, manifest, dry_run=True)
        if not reply.ok:
            failures.append(f"{name}: HTTP {reply.status}: {reply.message}")
        elif reply.body.get("kind") != "AdminNetworkPolicy":
            failures.append(f"{name}: the server answered with {reply.body.get('kind')}")
    assert failures == []


def _probe(minor: str, into: Path) -> dict[str, Any]:
    (manifest,) = [
        m
        for _, (_, m) in _admin_policies(minor, into).items()
        if m["metadata"]["name"] == "mixed-back-web-to-api-ingress"
    ]
    return copy.deepcopy(manifest)


def _rule(edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def on_rule(manifest: dict[str, Any]) -> None:
        edit(manifest["spec"]["ingress"][0])

    return on_rule


def _priority(value: Any) -> Callable[[dict[str, Any]], None]:
    def on_spec(manifest: dict[str, Any]) -> None:
        manifest["spec"]["priority"] = value

    return on_spec


# (what is wrong, edit, the server's words on server-side apply, on create)
BROKEN = [
    (
        "unknown field",
        _rule(lambda rule: rule["ports"][0].update(portnumber=rule["ports"][0].pop("portNumber"))),
        "portnumber: field not declared in schema",
        'unknown field "spec.ingress[0].ports[0].portnumber"',
    ),
    (
        "wrong type",
        _priority("40"),
        ".spec.priority: expected numeric (int or float), got string",
        'spec.priority: Invalid value: "string"',
    ),
    (
        "outside the enum",
        _rule(lambda rule: rule.update(action="Accept")),
        'spec.ingress[0].action: Unsupported value: "Accept"',
        'spec.ingress[0].action: Unsupported value: "Accept"',
    ),
    (
        "above the maximum",
        _priority(1001),
        "spec.priority: Invalid value: 1001",
        "spec.priority: Invalid value: 1001",
    ),
]


@pytest.mark.parametrize(
    ("wrong", "edit", "on_apply", "on_create"), BROKEN, ids=[w.replace(" ", "-") for w, *_ in BROKEN]
)
def test_the_server_refuses_an_admin_policy_that_does_not_fit_the_schema(
    control_plane: ControlPlane,
    kube: KubeClient,
    admin_apis: OperatorCrds,
    wrong: str,
    edit: Callable[[dict[str, Any]], None],
    on_apply: str,
    on_create: str,
    tmp_path: Path,
) -> None:
    assert_schema_refuses(kube, _probe(control_plane.minor, tmp_path), edit, wrong, on_apply, on_create)
