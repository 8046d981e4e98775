"""Every rendered manifest of every example spec passes the real API server's validation.

Server-side apply with `dryRun=All` and `fieldValidation=Strict` (what
`kubectl apply --server-side --dry-run=server` does): schema, defaulting, CEL compilation of the
ValidatingAdmissionPolicies, and admission (Pod Security on namespaces labelled for real), with
an unknown field an error rather than silently dropped. The YAML is sent as rendered, so the
server's YAML reader decides what each scalar is. Namespaces and ServiceAccounts are applied
for real first: everything namespaced needs its namespace, pods their account.

Objects of API groups that an operator adds to a cluster: the External Secrets Operator's
`external-secrets.io/v1` (ExternalSecret, SecretStore) are validated against the operator's REAL
CRDs, fetched from its Go module (engine/crds/versions.env, operator_apis.py) and installed for
the session, CEL rules included; negative controls prove the schemas are live (an unknown field,
a wrong type, a value outside an enum are refused). Calico's `projectcalico.org/v3` is served by
Calico's own aggregated API server and no real schema for it is obtainable (specs.NOT_SERVED
says why): a test holds its GlobalNetworkPolicies to be the only objects no server here
validates. Their `spec` alone is checked against Calico's crd.projectcalico.org/v1 GlobalNetworkPolicy CRD, whose schema is
generated from the same Go type (field names and types, strictly; not Calico's own validation).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cilium_oracle import MIXED

from .deploying import edit_spec
from .harness import ControlPlane
from .kubeapi import KubeClient
from .operator_apis import assert_schema_refuses, served_spec_schema
from .specs import EXAMPLES, SPECS, compiled_at, declared_version, not_served, rendered, targets
from .toolchain import OperatorCrds, kube_version, minor_of

pytestmark = pytest.mark.engine

REAL_FIRST = frozenset({"Namespace", "ServiceAccount"})
CASES = [(spec, version) for spec in EXAMPLES for version in targets(spec, kube_version())]


@pytest.mark.parametrize(("spec", "version"), CASES, ids=[f"{s.stem}@{v}" for s, v in CASES])
def test_rendered_manifests_pass_server_validation(
    control_plane: ControlPlane,
    kube: KubeClient,
    operator_apis: OperatorCrds,
    spec: Path,
    version: str,
    tmp_path: Path,
) -> None:
    objects = rendered(compiled_at(spec, version, tmp_path))
    assert objects, spec
    failures = []
    for name, text, manifest in objects:
        if not_served(manifest):
            continue
        reply = kube.apply_yaml(text, manifest, dry_run=manifest["kind"] not in REAL_FIRST)
        if not reply.ok:
            failures.append(f"{name}: HTTP {reply.status}: {reply.message}")
        elif reply.body.get("kind") != manifest["kind"]:
            failures.append(f"{name}: the server answered with {reply.body.get('kind')}")
    assert failures == []


def test_every_example_is_validated_at_the_cluster_version() -> None:
    minor = minor_of(kube_version())
    assert {s.name for s, v in CASES if v == minor} == {s.name for s in EXAMPLES}
    assert {s.name for s, v in CASES if v == declared_version(s)} >= {
        "000-training-secret.yaml",
        "002-pipeline-isolation.yaml",
        "004-model-parameters.yaml",
        "ai-platform.yaml",
    }


def unserved(spec: Path, into: Path) -> dict[str, str]:
    """File name -> why this cluster cannot serve it, for the spec at its own target."""
    objects = rendered(compiled_at(spec, declared_version(spec), into))
    return {name: why for name, _, manifest in objects if (why := not_served(manifest))}


@pytest.mark.parametrize("spec", EXAMPLES, ids=[s.stem for s in EXAMPLES])
def test_only_calicos_policies_go_without_a_server_and_their_specs_are_checked(
    kube: KubeClient, operator_apis: OperatorCrds, spec: Path, tmp_path: Path
) -> None:
    """What no server here validates is Calico's projectcalico.org/v3 policies, and only them
    (specs.NOT_SERVED says why): each is a GlobalNetworkPolicy, its group really is not served,
    and its `spec` is checked strictly against Calico's schema of the same Go type instead
    (test_rendered_calico_policy_specs_fit_calicos_schema_of_that_type)."""
    unchecked = unserved(spec, tmp_path)
    for name, _, manifest in rendered(compiled_at(spec, declared_version(spec), tmp_path / "again")):
        if name in unchecked:
            assert not kube.served(manifest["apiVersion"]), f"{name}: served after all; validate it"
            assert (manifest["apiVersion"], manifest["kind"]) == (
                "projectcalico.org/v3",
                "GlobalNetworkPolicy",
            )


# ----------------------------------------------------------------------------- External Secrets

ESO = "external-secrets.io"
ESO_KINDS = {"ExternalSecret": "externalsecrets", "SecretStore": "secretstores"}


def test_the_external_secrets_crds_are_the_real_ones(kube: KubeClient, operator_apis: OperatorCrds) -> None:
    """What serves external-secrets.io/v1 here is the operator's schema, not a schemaless stand-in."""
    for kind, plural in ESO_KINDS.items():
        spec = served_spec_schema(kube, f"{plural}.{ESO}", "v1")
        assert len(spec["properties"]) >= 5, (kind, sorted(spec["properties"]))


def test_every_external_secrets_object_rendered_is_validated(
    operator_apis: OperatorCrds, tmp_path: Path
) -> None:
    """The examples that render External Secrets objects: none of them is left out as unserved."""
    renders = {}
    for spec in EXAMPLES:
        objects = rendered(compiled_at(spec, declared_version(spec), tmp_path / spec.stem))
        kinds = sorted(m["kind"] for _, _, m in objects if m["apiVersion"].startswith(f"{ESO}/"))
        if kinds:
            renders[spec.name] = kinds
            assert [m for _, _, m in objects if not_served(m) and m["apiVersion"].startswith(ESO)] == []
    assert renders.get("005-vault-delivery.yaml") == ["ExternalSecret", "SecretStore"], renders


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(manifest: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = manifest
        for key in parents:
            node = node[key]
        node[last] = value

    return edit


# (kind, what is wrong, edit, the server's words for it on server-side apply, on create). Apply
# (what pulumi-kubernetes does) is refused while the patch is typed against the schema; create
# goes through the CRD's OpenAPI validator.
BROKEN = [
    (
        "ExternalSecret",
        "unknown field",
        _set("spec.refreshEvery", "15m"),
        ".spec.refreshEvery: field not declared in schema",
        'unknown field "spec.refreshEvery"',
    ),
    (
        "ExternalSecret",
        "wrong type",
        _set("spec.data", "api-key"),
        ".spec.data: expected list, got",
        'spec.data: Invalid value: "string": spec.data in body must be of type array',
    ),
    (
        "ExternalSecret",
        "outside the enum",
        _set("spec.target.creationPolicy", "Sometimes"),
        'spec.target.creationPolicy: Unsupported value: "Sometimes"',
        'spec.target.creationPolicy: Unsupported value: "Sometimes"',
    ),
    (
        "SecretStore",
        "unknown field",
        _set("spec.provider.vault.auth.kubernetes.tokenPath", "/t"),
        ".spec.provider.vault.auth.kubernetes.tokenPath: field not declared in schema",
        'unknown field "spec.provider.vault.auth.kubernetes.tokenPath"',
    ),
    (
        "SecretStore",
        "wrong type",
        _set("spec.provider.vault.version", 2),
        ".spec.provider.vault.version: expected string, got",
        'spec.provider.vault.version: Invalid value: "integer"',
    ),
]
PROBE_NAMESPACE = "eso-schema-probe"


@pytest.mark.parametrize(
    ("kind", "wrong", "edit", "on_apply", "on_create"),
    BROKEN,
    ids=[f"{k}-{w.replace(' ', '-')}" for k, w, *_ in BROKEN],
)
def test_the_server_refuses_an_external_secrets_object_that_does_not_fit_the_schema(
    control_plane: ControlPlane,
    kube: KubeClient,
    operator_apis: OperatorCrds,
    kind: str,
    wrong: str,
    edit: Callable[[dict[str, Any]], None],
    on_apply: str,
    on_create: str,
    tmp_path: Path,
) -> None:
    """A negative control: the rendered object passes, the same object made wrong is refused."""
    minor = control_plane.minor
    objects = rendered(compiled_at(SPECS / "005-vault-delivery.yaml", minor, tmp_path))
    (good,) = [m for _, _, m in objects if m["kind"] == kind]
    good["metadata"]["namespace"] = PROBE_NAMESPACE
    kube.apply_ok({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PROBE_NAMESPACE}})
    assert_schema_refuses(kube, good, edit, wrong, on_apply, on_create)


def _every_external_secrets_variant(data: dict[str, Any]) -> None:
    """005 with what its own ExternalSecret and SecretStore leave out: Vault's CA from a ConfigMap
    (`caProvider`), a whole path as one JSON file (no `property`), the default refresh."""
    data["vault"]["caCert"] = {"configMap": "vault-ca", "key": "ca.pem"}
    data["vault"]["externalSecrets"].pop("refresh")
    files = data["workloads"]["batch-scorer"]["vault"]["files"]
    files["serving.json"] = {"path": "ai/serving"}


def test_every_external_secrets_variant_passes_the_real_schema(
    control_plane: ControlPlane, kube: KubeClient, operator_apis: OperatorCrds, tmp_path: Path
) -> None:
    minor = control_plane.minor
    spec = edit_spec(SPECS / "005-vault-delivery.yaml", _every_external_secrets_variant, tmp_path / "spec")
    objects = rendered(compiled_at(spec, minor, tmp_path / "render"))
    eso = {m["kind"]: m for _, _, m in objects if m["apiVersion"].startswith(f"{ESO}/")}
    assert eso["SecretStore"]["spec"]["provider"]["vault"]["caProvider"] == {
        "type": "ConfigMap",
        "name": "vault-ca",
        "key": "ca.pem",
    }
    assert eso["ExternalSecret"]["spec"]["refreshInterval"] == "1h"
    assert {"secretKey": "serving.json", "remoteRef": {"key": "ai/serving"}} in eso["ExternalSecret"]["spec"][
        "data"
    ]
    failures = []
    for name, text, manifest in objects:
        if manifest["kind"] == "Namespace" or manifest["apiVersion"].startswith(f"{ESO}/"):
            reply = kube.apply_yaml(text, manifest, dry_run=manifest["kind"] != "Namespace")
            if not reply.ok:
                failures.append(f"{name}: HTTP {reply.status}: {reply.message}")
    assert failures == []


# ----------------------------------------------------------------------------- Calico, partly

CALICO_V1 = "crd.projectcalico.org/v1"


def _as_calico_v1(manifest: dict[str, Any]) -> dict[str, Any]:
    """The rendered projectcalico.org/v3 GlobalNetworkPolicy under crd.projectcalico.org/v1."""
    assert manifest["apiVersion"] == "projectcalico.org/v3", manifest["apiVersion"]
    return {**copy.deepcopy(manifest), "apiVersion": CALICO_V1}


def _global_network_policies(minor: str, into: Path) -> dict[str, dict[str, Any]]:
    return {
        f"{spec.stem}/{name}": manifest
        for spec in EXAMPLES
        for name, _, manifest in rendered(compiled_at(spec, minor, into / spec.stem))
        if manifest["kind"] == "GlobalNetworkPolicy"
    }


def test_rendered_calico_policy_specs_fit_calicos_schema_of_that_type(
    control_plane: ControlPlane, kube: KubeClient, calico_v1_crds: OperatorCrds, tmp_path: Path
) -> None:
    """Not a validation of the projectcalico.org/v3 object (no server for it here, see NOT_SERVED),
    but of its `spec`: Calico's crd.projectcalico.org/v1 GlobalNetworkPolicy CRD has a real schema
    generated from the same Go type (v3.GlobalNetworkPolicySpec), so field names and types are
    checked, strictly; what Calico's own API server checks beyond the schema (selector syntax,
    action and type values, which are plain strings in the schema) is not."""
    minor = control_plane.minor
    policies = _global_network_policies(minor, tmp_path)
    assert {p.split("/")[0] for p in policies} >= {"002-pipeline-isolation", "ai-platform"}, sorted(policies)
    failures = []
    for name, manifest in policies.items():
        reply = kube.apply(_as_calico_v1(manifest), dry_run=True)
        if not reply.ok:
            failures.append(f"{name}: HTTP {reply.status}: {reply.message}")
    assert failures == []


@pytest.mark.parametrize(
    ("wrong", "edit", "words"),
    [
        ("unknown field", _set("spec.rules", []), ".spec.rules: field not declared in schema"),
        ("wrong type", _set("spec.order", "first"), ".spec.order: expected numeric"),
    ],
    ids=["unknown-field", "wrong-type"],
)
def test_calicos_schema_refuses_a_policy_spec_that_does_not_fit(
    control_plane: ControlPlane,
    kube: KubeClient,
    calico_v1_crds: OperatorCrds,
    wrong: str,
    edit: Callable[[dict[str, Any]], None],
    words: str,
    tmp_path: Path,
) -> None:
    """A negative control: that schema is live, not a schemaless stand-in."""
    minor = control_plane.minor
    (manifest,) = [
        m
        for _, _, m in rendered(compiled_at(SPECS / "002-pipeline-isolation.yaml", minor, tmp_path))
        if m["kind"] == "GlobalNetworkPolicy"
    ]
    bad = _as_calico_v1(manifest)
    edit(bad)
    reply = kube.apply(bad, dry_run=True)
    assert not reply.ok, f"a policy with {wrong} accepted: {bad}"
    assert words in reply.message, (reply.status, reply.message)


# ----------------------------------------------------------------------------- Cilium

CILIUM = "cilium.io"
CILIUM_SPEC = SPECS / "llm-platform-cilium.yaml"


def test_the_cilium_crds_are_the_real_ones(kube: KubeClient, operator_apis: OperatorCrds) -> None:
    """What serves cilium.io/v2 here is Cilium's schema, not a schemaless stand-in."""
    for plural in ("ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies"):
        spec = served_spec_schema(kube, f"{plural}.{CILIUM}", "v2")
        egress = spec["properties"]["egress"]["items"]["properties"]
        assert {"toEndpoints", "toEntities", "toFQDNs", "toCIDRSet", "toPorts"} <= set(egress), plural


def _on_cilium(data: dict[str, Any]) -> None:
    data["kubernetes"]["networkPlugin"] = "cilium"


def _cilium_policies(minor: str, into: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every example rendered with `networkPlugin: cilium` (llm-platform-cilium with its domains)
    and cilium_oracle.MIXED (every kind of peer): file -> (text, manifest) of each
    Cilium policy and each Namespace."""
    found = {}
    mixed = into / "mixed" / "mixed.yaml"
    mixed.parent.mkdir(parents=True)
    mixed.write_text(MIXED, encoding="utf-8")
    for spec in [*EXAMPLES, mixed]:
        source = (
            spec if spec in (CILIUM_SPEC, mixed) else edit_spec(spec, _on_cilium, into / "spec" / spec.stem)
        )
        for name, text, manifest in rendered(compiled_at(source, minor, into / "render" / spec.stem)):
            if manifest["kind"] in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy", "Namespace"):
                found[f"{spec.stem}/{name}"] = (text, manifest)
    return found


def test_every_example_on_cilium_passes_ciliums_schema(
    control_plane: ControlPlane, kube: KubeClient, operator_apis: OperatorCrds, tmp_path: Path
) -> None:
    """Every CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy the cilium backend renders
    for the examples (selectors by namespace label, CIDR sets with except, entities, domains,
    named ports, port ranges, the DNS rule) passes server-side apply against Cilium's real
    CRDs, strictly."""
    objects = _cilium_policies(control_plane.minor, tmp_path)
    policies = [m for _, m in objects.values() if m["kind"] != "Namespace"]
    assert len(policies) >= 40, len(policies)
    assert {m["kind"] for m in policies} == {"CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"}
    text = repr(policies)
    for needed in ("toFQDNs", "toEntities", "toCIDRSet", "except", "matchExpressions", "rules"):
        assert needed in text, needed
    failures = []
    for name, (text, manifest) in sorted(objects.items(), key=lambda kv: kv[1][1]["kind"] != "Namespace"):
        reply = kube.apply_yaml(text, manifest, dry_run=manifest["kind"] != "Namespace")
        if not reply.ok:
            failures.append(f"{name}: HTTP {reply.status}: {reply.message}")
    assert failures == []


def _cilium_probe(minor: str, into: Path) -> dict[str, Any]:
    (manifest,) = [
        m
        for _, _, m in rendered(compiled_at(CILIUM_SPEC, minor, into))
        if m["kind"] == "CiliumNetworkPolicy"
        and m["metadata"]["name"] == "model-hub-egress"
        and m["metadata"]["namespace"] == "llm-serving"
    ]
    return {**copy.deepcopy(manifest), "metadata": {**manifest["metadata"], "namespace": PROBE_NAMESPACE}}


def _egress(edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def on_rule(manifest: dict[str, Any]) -> None:
        edit(manifest["spec"]["egress"][0])

    return on_rule


# (what is wrong, edit, the server's words on server-side apply, on create)
CILIUM_BROKEN = [
    (
        "unknown field",
        _egress(lambda rule: rule.update(toFQDN=rule.pop("toFQDNs"))),
        ".spec.egress[0].toFQDN: field not declared in schema",
        'unknown field "spec.egress[0].toFQDN"',
    ),
    (
        "wrong type",
        _egress(lambda rule: rule["toPorts"][0]["ports"][0].update(port=443)),
        ".spec.egress[0].toPorts[0].ports[0].port: expected string, got",
        'spec.egress[0].toPorts[0].ports[0].port: Invalid value: "integer"',
    ),
    (
        "outside the enum",
        _egress(lambda rule: rule.update(toEntities=["apiserver"])),
        'spec.egress[0].toEntities[0]: Unsupported value: "apiserver"',
        'spec.egress[0].toEntities[0]: Unsupported value: "apiserver"',
    ),
]


@pytest.mark.parametrize(
    ("wrong", "edit", "on_apply", "on_create"),
    CILIUM_BROKEN,
    ids=[w.replace(" ", "-") for w, *_ in CILIUM_BROKEN],
)
def test_the_server_refuses_a_cilium_policy_that_does_not_fit_the_schema(
    control_plane: ControlPlane,
    kube: KubeClient,
    operator_apis: OperatorCrds,
    wrong: str,
    edit: Callable[[dict[str, Any]], None],
    on_apply: str,
    on_create: str,
    tmp_path: Path,
) -> None:
    """A negative control: the rendered policy passes, the same policy made wrong is refused."""
    good = _cilium_probe(control_plane.minor, tmp_path)
    kube.apply_ok({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": PROBE_NAMESPACE}})
    assert_schema_refuses(kube, good, edit, wrong, on_apply, on_create)
