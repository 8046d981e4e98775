"""Image signature policies pass Sigstore policy-controller's real ClusterImagePolicy schema.

policy-controller v0.14.0's CRD (`policy.sigstore.dev`, config/300-clusterimagepolicy.yaml),
fetched from the Go module proxy by scripts/engine/fetch-crds.sh (engine/crds/versions.env) and
installed with the other operator CRDs (operator_apis.py), its v1beta1 schema as fetched (only
the conversion webhook, which needs the running controller, is replaced: see
`without_conversion_webhook`). Every ClusterImagePolicy the examples render, and a spec with each
kind of signer (keyless subject, keyless regular expression, public key) and the policy of what
a namespace admits unsigned, is applied server-side and created with `dryRun=All` and
`fieldValidation=Strict`. Negative controls: the same policy with an unknown field or a wrong
type is refused, on apply and on create. (The schema has no enums or required fields: what it
cannot say, policy-controller's webhook checks; the unit tests check secureai's side.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import need
from .harness import ControlPlane
from .kubeapi import KubeClient
from .operator_apis import CRD_API, assert_schema_refuses, real_crds
from .specs import EXAMPLES, compiled_at, declared_version, rendered
from .toolchain import OperatorCrds, policy_controller_crds

pytestmark = pytest.mark.engine

KIND = "ClusterImagePolicy"
CRD = "clusterimagepolicies.policy.sigstore.dev"
KEY = """\
-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOjPeticFVVF+DGpXnm58Mvn4pTb7
mOp5XqWfbl8b/BvAmaCX7oGOj9d1F9Rwog6UT/OTx78yfMqcKo9z5qqJ5w==
-----END PUBLIC KEY-----
"""
SIGNERS = {
    "version": 1,
    "project": "signers",
    "kubernetes": {"version": "1.30"},
    "namespaces": {
        "subject": {
            "images": {
                "requireDigest": False,
                "allowedRegistries": ["ghcr.io/acme/", "docker.io/library/postgres"],
                "exceptions": [{"image": "busybox:1.36", "reason": "the vendor's debug image"}],
                "signatures": {
                    "registries": ["ghcr.io/acme/"],
                    "keyless": {"issuer": "https://accounts.google.com", "subject": "release@acme.example"},
                },
            }
        },
        "regexp": {
            "images": {
                "requireDigest": False,
                "allowedRegistries": ["registry.example.com/ml/"],
                "signatures": {
                    "keyless": {
                        "issuer": "https://token.actions.githubusercontent.com",
                        "subjectRegExp": "https://github.com/acme/.+",
                    }
                },
            }
        },
        "key": {  # its own registry: two signers over one registry would be SA145
            "images": {
                "requireDigest": False,
                "allowedRegistries": ["registry.example.com/keyed/"],
                "signatures": {"publicKey": KEY},
            }
        },
    },
}


@pytest.fixture
def signature_apis(operator_apis: OperatorCrds) -> OperatorCrds:
    crds = policy_controller_crds()
    need(crds.missing_reason())
    return crds


def _policies(minor: str, into: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    signers = into / "signers" / "signers.yaml"
    signers.parent.mkdir(parents=True)
    signers.write_text(yaml.safe_dump(SIGNERS), encoding="utf-8")
    found = {}
    for spec in [*EXAMPLES, signers]:
        version = minor if spec == signers else declared_version(spec)
        for name, text, manifest in rendered(compiled_at(spec, version, into / "render" / spec.stem)):
            if manifest["kind"] == KIND:
                found[f"{spec.stem}/{name}"] = (text, manifest)
    return found


def test_the_cluster_image_policy_crd_is_the_real_one(kube: KubeClient, signature_apis: OperatorCrds) -> None:
    """What serves policy.sigstore.dev/v1beta1 here is the fetched schema, unchanged."""
    reply = kube.get(CRD_API, "CustomResourceDefinition", CRD)
    assert reply.ok, f"HTTP {reply.status}: {reply.message}"
    (fetched,) = [c for c in real_crds(signature_apis) if c["metadata"]["name"] == CRD]
    (want,) = [v for v in fetched["spec"]["versions"] if v["name"] == "v1beta1"]
    (v1beta1,) = [v for v in reply.body["spec"]["versions"] if v["name"] == "v1beta1"]
    assert v1beta1["served"]
    assert v1beta1["schema"] == want["schema"]
    spec = v1beta1["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert "x-kubernetes-preserve-unknown-fields" not in spec
    assert {"images", "authorities", "mode"} <= set(spec["properties"])


def test_every_rendered_signature_policy_passes_the_schema(
    control_plane: ControlPlane, kube: KubeClient, signature_apis: OperatorCrds, tmp_path: Path
) -> None:
    objects = _policies(control_plane.minor, tmp_path)
    assert {n.partition("/")[0] for n in objects} == {"llm-platform", "signers"}, sorted(objects)
    text = repr([m for _, m in objects.values()])
    for needed in ("'subject'", "'subjectRegExp'", "'key'", "'static'", "'glob'"):
        assert needed in text, needed
    failures = []
    for name, (text, manifest) in sorted(objects.items()):
        for verb, reply in (
            ("apply", kube.apply_yaml(text, manifest, dry_run=True)),
            ("create", kube.create(manifest, dry_run=True)),
        ):
            if not reply.ok:
                failures.append(f"{name} ({verb}): HTTP {reply.status}: {reply.message}")
            elif reply.body.get("kind") != KIND:
                failures.append(f"{name} ({verb}): the server answered with {reply.body.get('kind')}")
    assert failures == []


def _probe(minor: str, into: Path) -> dict[str, Any]:
    (_, manifest), *_ = [v for k, v in _policies(minor, into).items() if k.endswith("regexp.yaml")]
    return manifest


def _identity(edit: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def on_identity(manifest: dict[str, Any]) -> None:
        edit(manifest["spec"]["authorities"][0]["keyless"]["identities"][0])

    return on_identity


def _spec(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def on_spec(manifest: dict[str, Any]) -> None:
        manifest["spec"][key] = value

    return on_spec


# (what is wrong, edit, the server's words on server-side apply, on create)
BROKEN = [
    (
        "unknown field",
        _identity(lambda i: i.update(subjectRegex=i.pop("subjectRegExp"))),
        "subjectRegex: field not declared in schema",
        'unknown field "spec.authorities[0].keyless.identities[0].subjectRegex"',
    ),
    (
        "wrong type",
        _spec("images", "ghcr.io/acme/**"),
        ".spec.images: expected list",
        'spec.images: Invalid value: "string"',
    ),
]


@pytest.mark.parametrize(
    ("wrong", "edit", "on_apply", "on_create"), BROKEN, ids=[w.replace(" ", "-") for w, *_ in BROKEN]
)
def test_the_server_refuses_a_signature_policy_that_does_not_fit_the_schema(
    control_plane: ControlPlane,
    kube: KubeClient,
    signature_apis: OperatorCrds,
    wrong: str,
    edit: Callable[[dict[str, Any]], None],
    on_apply: str,
    on_create: str,
    tmp_path: Path,
) -> None:
    assert_schema_refuses(kube, _probe(control_plane.minor, tmp_path), edit, wrong, on_apply, on_create)
