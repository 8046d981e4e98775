"""`secureai preview/apply/destroy` through the real Pulumi engine, against the real API server.

Every example spec (retargeted to the cluster's minor) goes through one life cycle: the
preview lists the creates, apply succeeds, every object read back from the API server matches
what `render` wrote, Vault (a dev OpenBao whose kubernetes auth reviews tokens with this API
server) holds every KV secret, policy and role the Plan has, the state holds neither the
canary secret value nor the Vault token, a second preview is clean, one edited field is one
update with that property path, a label removed through the API is drift, and destroy removes
everything from the cluster and from Vault. The Vault half goes through secureai's built-in
Vault provider (VAULT_ADDR, VAULT_TOKEN in the CLI's environment); a spec's `vault.address` is
pointed at the dev server in the copy.

APIs that operators add to a real cluster: the External Secrets Operator's `external-secrets.io/v1`
is served by the operator's real CRDs (operator_apis.py), so a rendered ExternalSecret or
SecretStore that does not fit the operator's schema fails the apply; Calico's
`projectcalico.org/v3`, which has no obtainable schema, is stood in for by a schemaless CRD of the
same group and version while this module runs (operator_apis.STAND_INS).
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hvac.exceptions  # type: ignore[import-untyped]
import pytest
from vault_server import BaoServer

from secureai.compile.plan import Resource
from secureai.compile.vault import AUTH_ROLE, KV_SECRET, POLICY

from .deploying import (
    CANARY,
    Deployer,
    comparable,
    compare,
    deployer_for,
    edit_spec,
    for_this_cluster,
    room_for,
)
from .harness import ControlPlane
from .kubeapi import KubeClient
from .operator_apis import remove_stand_ins, serve_stand_ins
from .s3 import MotoS3, moto_fixture
from .specs import EXAMPLES, SPECS, compiled_at, rendered
from .vault_auth import configure_kubernetes_auth

pytestmark = pytest.mark.engine

EDIT_LABEL = "example.com/edited"


@pytest.fixture(scope="module")
def stand_in_apis(control_plane: ControlPlane, operator_apis: object) -> Iterator[None]:
    kube = control_plane.client()
    serve_stand_ins(kube)
    yield
    remove_stand_ins(kube)


def _add_namespace_label(data: dict[str, Any]) -> None:
    first = next(iter(data["namespaces"]))
    data["namespaces"][first].setdefault("labels", {})[EDIT_LABEL] = "yes"


def _live(kube: KubeClient, manifest: dict[str, Any]) -> dict[str, Any] | None:
    meta = manifest["metadata"]
    reply = kube.get(manifest["apiVersion"], manifest["kind"], meta["name"], meta.get("namespace"))
    if reply.status == 404:
        return None
    assert reply.ok, f"GET {manifest['kind']} {meta['name']}: HTTP {reply.status}: {reply.message}"
    return reply.body


def _in_vault(vault: Any, resource: Resource) -> bool:
    """Whether `resource` (a KV secret, policy or auth role of the Plan) is in Vault as planned."""
    props = resource.properties
    if resource.type == KV_SECRET:
        try:
            read = vault.secrets.kv.v2.read_secret_version(
                path=props["name"], mount_point=props["mount"], raise_on_deleted_version=True
            )
        except hvac.exceptions.InvalidPath:
            return False
        # The keys: values from `fromEnv`/`generate` differ between this render and the apply.
        assert set(read["data"]["data"]) == set(props["data_json"]), resource.key
        return True
    if resource.type == POLICY:
        if props["name"] not in vault.sys.list_acl_policies()["data"]["keys"]:
            return False
        assert vault.sys.read_acl_policy(name=props["name"])["data"]["policy"] == props["policy"]
        return True
    assert resource.type == AUTH_ROLE, resource.type
    role = vault.read(f"auth/{props['backend']}/role/{props['role_name']}")
    if role is None:
        return False
    assert role["data"]["token_policies"] == props["token_policies"], resource.key
    assert role["data"]["bound_service_account_names"] == props["bound_service_account_names"]
    assert role["data"]["bound_service_account_namespaces"] == props["bound_service_account_namespaces"]
    return True


@pytest.mark.parametrize("example", EXAMPLES, ids=[s.stem for s in EXAMPLES])
def test_example_lifecycle_through_the_real_engine(
    control_plane: ControlPlane,
    kube: KubeClient,
    stand_in_apis: None,
    pulumi_home: Path,
    bao: BaoServer,
    vault: Any,
    example: Path,
    tmp_path: Path,
) -> None:
    spec, objects, vault_part = _prepared(control_plane, example, bao, vault, tmp_path)
    deployer = deployer_for(control_plane, pulumi_home, tmp_path, bao if vault_part else None)

    with room_for(kube, objects, f"pv-{example.stem}"):
        _lifecycle(kube, deployer, spec, objects, vault, vault_part, bao, tmp_path, _local_state(tmp_path))


def _prepared(
    control_plane: ControlPlane, example: Path, bao: BaoServer, vault: Any, tmp_path: Path
) -> tuple[Path, list[dict[str, Any]], list[Resource]]:
    """The example as this cluster and OpenBao take it, its rendered objects and its Vault part
    (Vault's kubernetes auth configured for the part's mounts)."""
    minor = control_plane.minor
    spec = for_this_cluster(example, minor, tmp_path / "spec", bao)
    compiled = compiled_at(spec, minor, tmp_path / "render", {"VAULT_ADDR": bao.address})
    objects = [m for _, _, m in rendered(compiled)]
    vault_part = compiled.plan.of_provider("vault")
    for mount in {r.properties["backend"] for r in vault_part if r.type == AUTH_ROLE}:
        configure_kubernetes_auth(vault, control_plane, mount)
    return spec, objects, vault_part


def _local_state(tmp_path: Path) -> Callable[[], str]:
    def read() -> str:
        return "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "state").rglob("*.json"))

    return read


@pytest.fixture
def moto(tmp_path: Path) -> Iterator[MotoS3]:
    yield from moto_fixture(tmp_path / "moto.log")


def test_the_composed_org_example_on_an_s3_backend(
    control_plane: ControlPlane,
    kube: KubeClient,
    stand_in_apis: None,
    pulumi_home: Path,
    bao: BaoServer,
    vault: Any,
    moto: MotoS3,
    tmp_path: Path,
) -> None:
    """specs/org (a root and three teams' files) through the same life cycle, its state in an
    S3-compatible bucket (moto on 127.0.0.1), as a platform team would keep it."""
    spec, objects, vault_part = _prepared(
        control_plane, SPECS / "org" / "secureai.yaml", bao, vault, tmp_path
    )
    assert (spec.parent / "teams" / "ml.yaml").is_file()  # the parts came along
    local = deployer_for(control_plane, pulumi_home, tmp_path, bao)
    team = Deployer({**local.env, **moto.env}, local.work_dir, moto.backend("org"))

    def bucket_state() -> str:
        blobs = moto.objects("org")
        assert any(key.endswith(".json") for key in blobs), sorted(blobs)
        return "".join(blob.decode(errors="replace") for blob in blobs.values())

    with room_for(kube, objects, "pv-org-s3"):
        _lifecycle(kube, team, spec, objects, vault, vault_part, bao, tmp_path, bucket_state)
    assert not [p for p in (tmp_path / "state").rglob("*") if p.is_file()], "state went to local files"
    assert any("/org/" in key or key.startswith("org/") for key in moto.keys("org")), moto.keys()


def _lifecycle(
    kube: KubeClient,
    deployer: Deployer,
    spec: Path,
    objects: list[dict[str, Any]],
    vault: Any,
    vault_part: list[Resource],
    bao: BaoServer,
    tmp_path: Path,
    state_text: Callable[[], str],
) -> None:
    # preview lists one create per rendered object (plus the component and its provider)
    creates = Counter(c["type"].rsplit(":", 1)[-1] for c in deployer.changes(spec) if c["op"] == "create")
    assert creates >= Counter(m["kind"] for m in objects), creates

    try:
        deployer.ok("apply", spec, "--yes")
        for manifest in objects:
            live = _live(kube, manifest)
            assert live is not None, f"{manifest['kind']} {manifest['metadata']['name']} not on the server"
            assert compare(comparable(manifest), live) == [], (
                f"{manifest['kind']} {manifest['metadata']['name']}"
            )
            if manifest["kind"] == "Secret" and "DB_PASSWORD" in str(manifest):
                values = {base64.b64decode(v).decode() for v in live["data"].values()}
                assert CANARY in values
        assert {r.type for r in vault_part} <= {KV_SECRET, POLICY, AUTH_ROLE}
        missing = [r.key for r in vault_part if not _in_vault(vault, r)]
        assert missing == [], f"not in Vault after apply: {missing}"
        state = state_text()
        assert CANARY not in state
        assert f'"{bao.token}"' not in state  # the provider reads VAULT_TOKEN from its environment

        assert deployer.run("preview", spec, "--expect-no-changes").code == 0

        # one edited field: exactly one update, at that property path
        edited = edit_spec(spec, _add_namespace_label, tmp_path / "edited")
        changes = deployer.changes(edited)
        assert [(c["op"], c["type"]) for c in changes] == [("update", "kubernetes:core/v1:Namespace")], (
            changes
        )
        assert any(EDIT_LABEL in p for p in changes[0]["paths"]), changes[0]["paths"]

        # drift made through the API: a label removed from a network policy (Cilium's on cilium)
        policy = next(m for m in objects if m["kind"] in ("NetworkPolicy", "CiliumNetworkPolicy"))
        meta = policy["metadata"]
        label = next(iter(meta["labels"]))
        url = kube.url_of(policy)
        reply = kube.request(
            "PATCH", url, {"metadata": {"labels": {label: None}}}, content_type="application/merge-patch+json"
        )
        assert reply.ok, reply.message
        drift = deployer.run("preview", spec, "--expect-no-changes")
        assert drift.code == 1, str(drift)
        assert meta["name"] in drift.out + drift.err

    except BaseException:
        # Leave the shared cluster and Vault clean for the next example (two examples share
        # namespace and object names): a failure half-way must not fail the next test too.
        deployer.run("destroy", spec, "--yes")
        raise
    deployer.ok("destroy", spec, "--yes")
    for manifest in objects:
        live = _live(kube, manifest)
        gone = live is None or "deletionTimestamp" in live.get("metadata", {})
        assert gone, f"{manifest['kind']} {manifest['metadata']['name']} still on the server after destroy"
    left = [r.key for r in vault_part if _in_vault(vault, r)]
    assert left == [], f"still in Vault after destroy: {left}"
