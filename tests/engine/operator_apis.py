"""The APIs operators add to a real cluster, served by the engine tests' control plane.

- External Secrets Operator (`external-secrets.io/v1`): its REAL CustomResourceDefinitions, with
  their OpenAPI schemas (and CEL rules), fetched from the operator's Go module by
  scripts/engine/fetch-crds.sh (version in engine/crds/versions.env). Installed once per
  session: a rendered ExternalSecret or SecretStore is then validated by the API server like a
  core object, unknown fields and wrong types refused.
- Cilium (`cilium.io/v2`): its REAL CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy CRDs,
  fetched from Cilium's Go module the same way, installed with the External Secrets ones (when
  fetched: the fixture that needs them says so), so the rendered CiliumNetworkPolicies of
  `networkPlugin: cilium` are validated by the API server against Cilium's schema.
- network-policy-api (`policy.networking.k8s.io/v1alpha1`): the REAL AdminNetworkPolicy and
  BaselineAdminNetworkPolicy CRDs of sigs.k8s.io/network-policy-api v0.1.7 (standard channel),
  fetched and installed the same way, for `kubernetes.adminNetworkPolicy`.
- Sigstore policy-controller (`policy.sigstore.dev/v1beta1`): its REAL ClusterImagePolicy CRD
  (v0.14.0), for `images.signatures`, installed the same way but with `conversion: None` and
  v1beta1 stored (`without_conversion_webhook`: the controller's conversion webhook is not run
  here); the schema is the fetched one.
- Calico (`projectcalico.org/v3`): no real schema is obtainable (see NOT_SERVED in specs.py), so
  a SCHEMALESS stand-in CRD of that group and version lets the life-cycle tests apply the rendered
  GlobalNetworkPolicy; it proves nothing about its fields, and it is served only while a test
  asks for it (`serve_stand_ins` / `remove_stand_ins`), so that the server-validation tests see
  that the group is not really served. Calico's real CRD of another group,
  `crd.projectcalico.org/v1` GlobalNetworkPolicy, whose `spec` schema is generated from the same
  Go type as v3's, can be installed too (`serve_calico_v1_crds`): the rendered spec is checked
  against it under that group.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import yaml

from .kubeapi import KubeClient
from .toolchain import (
    OperatorCrds,
    calico_crds,
    cilium_crds,
    external_secrets_crds,
    network_policy_api_crds,
    policy_controller_crds,
)

CRD_API = "apiextensions.k8s.io/v1"


def _schemaless_crd(
    group: str, version: str, kind: str, plural: str, scope: str = "Namespaced"
) -> dict[str, Any]:
    return {
        "apiVersion": CRD_API,
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": scope,
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }


# APIs with no real schema to install, stood in for by schemaless CRDs of the same group and version.
STAND_INS = {
    "projectcalico.org/v3": [
        _schemaless_crd("projectcalico.org", "v3", "GlobalNetworkPolicy", "globalnetworkpolicies", "Cluster")
    ],
}


def real_crds(crds: OperatorCrds) -> list[dict[str, Any]]:
    """The operator's CRD documents, as fetched."""
    docs = [doc for f in crds.files() for doc in yaml.safe_load_all(f.read_text(encoding="utf-8")) if doc]
    assert all(d["kind"] == "CustomResourceDefinition" for d in docs), [d["kind"] for d in docs]
    return docs


def served_versions(crd: dict[str, Any]) -> dict[str, set[str]]:
    """api version -> plurals this CRD serves."""
    group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
    return {f"{group}/{v['name']}": {plural} for v in crd["spec"]["versions"] if v.get("served")}


def _serves(kube: KubeClient, api_version: str, plurals: set[str]) -> bool:
    reply = kube.request("GET", f"/apis/{api_version}")
    return reply.ok and plurals <= {r["name"] for r in reply.body.get("resources", [])}


def _established(kube: KubeClient, name: str) -> bool:
    reply = kube.get(CRD_API, "CustomResourceDefinition", name)
    # A CRD just created may have `status: {conditions: null}` until its controller runs.
    conditions = ((reply.body.get("status") or {}).get("conditions") or []) if reply.ok else []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def install(kube: KubeClient, crds: list[dict[str, Any]], what: str) -> None:
    """Apply `crds` (server-side) and wait until each is Established and its APIs are served."""
    wanted: dict[str, set[str]] = {}
    for crd in crds:
        kube.apply_ok(crd)
        for api_version, plurals in served_versions(crd).items():
            wanted.setdefault(api_version, set()).update(plurals)
    for crd in crds:
        name = crd["metadata"]["name"]
        kube.wait_for(f"{what}: CRD {name} established", lambda n=name: _established(kube, n))
    for api_version, plurals in wanted.items():
        kube.wait_for(f"{what}: {api_version} served", lambda a=api_version, p=plurals: _serves(kube, a, p))


def serve_real_crds(kube: KubeClient) -> OperatorCrds:
    """Install the External Secrets Operator's real CRDs (the caller checked they are fetched),
    and Cilium's network policy CRDs and network-policy-api's when they are fetched."""
    crds = external_secrets_crds()
    install(kube, real_crds(crds), f"{crds.name} {crds.version}")
    for more in (cilium_crds(), network_policy_api_crds()):
        if more.missing_reason() is None:
            install(kube, real_crds(more), f"{more.name} {more.version}")
    signatures = policy_controller_crds()
    if signatures.missing_reason() is None:
        install(kube, without_conversion_webhook(real_crds(signatures), "v1beta1"), signatures.name)
    return crds


def without_conversion_webhook(crds: list[dict[str, Any]], storage: str) -> list[dict[str, Any]]:
    """The CRDs with `conversion: None` and `storage` as the stored version, their schemas as
    fetched: policy-controller converts between its versions with a webhook of the running
    controller, which is not running here (every write, dry runs too, would call it)."""
    out = copy.deepcopy(crds)
    for crd in out:
        crd["spec"]["conversion"] = {"strategy": "None"}
        for version in crd["spec"]["versions"]:
            version["storage"] = version["name"] == storage
    return out


def serve_calico_v1_crds(kube: KubeClient) -> OperatorCrds:
    """Install Calico's crd.projectcalico.org/v1 GlobalNetworkPolicy CRD (fetched)."""
    crds = calico_crds()
    install(kube, real_crds(crds), f"{crds.name} {crds.version}")
    return crds


def serve_stand_ins(kube: KubeClient) -> None:
    for api_version, crds in STAND_INS.items():
        install(kube, crds, f"stand-in {api_version}")


def remove_stand_ins(kube: KubeClient) -> None:
    for api_version, crds in STAND_INS.items():
        for crd in crds:
            kube.delete(crd["apiVersion"], crd["kind"], crd["metadata"]["name"])
        kube.wait_for(f"{api_version} gone", lambda: not kube.served(api_version), timeout=120)  # noqa: B023


def assert_schema_refuses(
    kube: KubeClient,
    good: dict[str, Any],
    edit: Callable[[dict[str, Any]], None],
    wrong: str,
    on_apply: str,
    on_create: str,
) -> None:
    """A negative control: `good` (as rendered) passes a dry-run apply and create, and the same
    object made wrong by `edit` is refused by both, with `on_apply`/`on_create` in the reasons:
    the schema the server checks against is live, not a stand-in that accepts anything."""
    for verb in (kube.apply, kube.create):
        reply = verb(good, dry_run=True)
        assert reply.ok, f"as rendered, {verb.__name__}: HTTP {reply.status}: {reply.message}"
    bad = copy.deepcopy(good)
    edit(bad)
    applied, created = kube.apply(bad, dry_run=True), kube.create(bad, dry_run=True)
    assert not applied.ok and not created.ok, f"{good['kind']} with {wrong} accepted: {bad}"
    assert (on_apply in applied.message, on_create in created.message) == (True, True), (
        applied.message,
        created.message,
    )


def served_spec_schema(kube: KubeClient, crd: str, version: str) -> dict[str, Any]:
    """The `spec` schema of `version` of the CRD named `crd`, as the server serves and stores it,
    checked to be typed (no `x-kubernetes-preserve-unknown-fields`, which a schemaless stand-in has)."""
    reply = kube.get(CRD_API, "CustomResourceDefinition", crd)
    assert reply.ok, f"{crd}: HTTP {reply.status}: {reply.message}"
    (served,) = [v for v in reply.body["spec"]["versions"] if v["name"] == version]
    assert served["served"] and served["storage"], crd
    schema = served["schema"]["openAPIV3Schema"]
    spec: dict[str, Any] = schema["properties"]["spec"]
    assert "x-kubernetes-preserve-unknown-fields" not in schema, crd
    assert "x-kubernetes-preserve-unknown-fields" not in spec, crd
    return spec
