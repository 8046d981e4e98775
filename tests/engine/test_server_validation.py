"""Every rendered manifest of every example spec passes the real API server's validation.

Server-side apply with `dryRun=All` and `fieldValidation=Strict` (what
`kubectl apply --server-side --dry-run=server` does): schema, defaulting, CEL compilation of the
ValidatingAdmissionPolicies, and admission (Pod Security on namespaces labelled for real), with
an unknown field an error rather than silently dropped. The YAML is sent as rendered, so the
server's YAML reader decides what each scalar is. Namespaces and ServiceAccounts are applied
for real first: everything namespaced needs its namespace, pods their account.

Objects of API groups that an operator adds to a cluster (Calico's `projectcalico.org/v3`,
served by Calico's own aggregated API server; External Secrets' `external-secrets.io` CRDs) are
not served here: they are reported as skipped, by file name, with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import ControlPlane
from .kubeapi import KubeClient
from .specs import EXAMPLES, compiled_at, declared_version, not_served, rendered, targets
from .toolchain import kube_version

pytestmark = pytest.mark.engine

REAL_FIRST = frozenset({"Namespace", "ServiceAccount"})
CASES = [(spec, version) for spec in EXAMPLES for version in targets(spec, kube_version())]


@pytest.mark.parametrize(("spec", "version"), CASES, ids=[f"{s.stem}@{v}" for s, v in CASES])
def test_rendered_manifests_pass_server_validation(
    control_plane: ControlPlane, kube: KubeClient, spec: Path, version: str, tmp_path: Path
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
    minor = ".".join(kube_version().removeprefix("v").split(".")[:2])
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
def test_objects_of_operator_apis_are_named_when_not_validated(
    kube: KubeClient, spec: Path, tmp_path: Path
) -> None:
    skipped = unserved(spec, tmp_path)
    if not skipped:
        return
    for name, _, manifest in rendered(compiled_at(spec, declared_version(spec), tmp_path / "again")):
        if name in skipped:
            assert not kube.served(manifest["apiVersion"]), f"{name}: served after all; validate it"
    pytest.skip("not validated by a server: " + "; ".join(f"{n} ({why})" for n, why in skipped.items()))
