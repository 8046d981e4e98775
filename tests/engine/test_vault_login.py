"""Real Vault login: a workload's own ServiceAccount token logs in to OpenBao through this API
server's TokenReview and reads exactly the paths its spec grants.

For each example spec with Vault readers (retargeted to the cluster's version): the rendered
namespaces and ServiceAccounts are applied for real, the rendered Vault artefacts (policies, KV
data, auth roles) are loaded as `tests/test_vault_proof.py` loads them, OpenBao's kubernetes
auth method reviews tokens with this API server, and a TokenRequest token (audience
`vault.audience`, as the pod's projected volume asks) is the only credential each reader gets.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import hvac  # type: ignore[import-untyped]
import pytest
from hvac.exceptions import Forbidden, InvalidRequest  # type: ignore[import-untyped]
from test_vault_proof import VAULT_SPECS, Loaded, assert_reads_exactly_its_paths, load, readers
from vault_server import BaoServer

from secureai.compile.naming import vault_policy_name
from secureai.compile.vault import AUTH_ROLE
from secureai.model.vault import VaultSettings
from secureai.pipeline import Compiled

from .harness import ControlPlane
from .kubeapi import KubeClient
from .specs import compiled_at, rendered
from .vault_auth import KubeAuth

pytestmark = [
    pytest.mark.engine,
    pytest.mark.filterwarnings("ignore:The raise_on_deleted_version:DeprecationWarning"),
]

REFUSED = (Forbidden, InvalidRequest)


def identities(compiled: Compiled) -> dict[str, tuple[str, str, str]]:
    """Reader workload -> (namespace, service account, auth role), from the Plan's roles."""
    out = {}
    for role in (r for r in compiled.plan.resources if r.type == AUTH_ROLE):
        props = role.properties
        (namespace,) = props["bound_service_account_namespaces"]
        (account,) = props["bound_service_account_names"]
        for workload in readers(compiled):
            if vault_policy_name(compiled.spec, workload) in props["token_policies"]:
                out[workload] = (namespace, account, props["role_name"])
    return out


def login(bao: BaoServer, jwt: str, role: str, mount: str) -> hvac.Client:
    client = hvac.Client(url=bao.address)
    client.auth.kubernetes.login(role=role, jwt=jwt, mount_point=mount)
    return client


def refused(bao: BaoServer, jwt: str, role: str, mount: str) -> bool:
    try:
        login(bao, jwt, role, mount)
    except REFUSED:
        return True
    return False


def apply_identities(kube: KubeClient, compiled: Compiled) -> None:
    for name, text, manifest in rendered(compiled):
        if manifest["kind"] in ("Namespace", "ServiceAccount"):
            reply = kube.apply_yaml(text, manifest)
            assert reply.ok, f"{name}: HTTP {reply.status}: {reply.message}"


def prepared(
    control_plane: ControlPlane, kube: KubeClient, vault: Any, spec: Path, tmp_path: Path
) -> tuple[Compiled, VaultSettings, Loaded]:
    """The spec compiled for this cluster, its accounts applied, its Vault artefacts loaded."""
    compiled = compiled_at(spec, control_plane.minor, tmp_path)
    settings = compiled.spec.vault
    assert settings is not None
    apply_identities(kube, compiled)
    return compiled, settings, load(vault, compiled)


@pytest.mark.parametrize("spec", VAULT_SPECS, ids=[p.stem for p in VAULT_SPECS])
def test_each_reader_logs_in_with_its_own_token_and_reads_exactly_its_paths(
    control_plane: ControlPlane,
    kube: KubeClient,
    bao: BaoServer,
    vault: Any,
    kube_auth: KubeAuth,
    spec: Path,
    tmp_path: Path,
) -> None:
    compiled, settings, loaded = prepared(control_plane, kube, vault, spec, tmp_path)
    assert settings.kubernetes_auth_mount == kube_auth.mount
    who = identities(compiled)
    assert set(who) == set(readers(compiled)) and who, spec.name
    for workload, (namespace, account, role) in who.items():
        jwt = kube.token_request(namespace, account, [settings.audience])
        client = login(bao, jwt, role, kube_auth.mount)
        policy = vault_policy_name(compiled.spec, workload)
        # Exactly the reader's policy: the role attaches no `default` policy either.
        assert vault.auth.token.lookup(client.token)["data"]["policies"] == [policy]
        # The whole proof of tests/test_vault_proof.py, with the token from the real login.
        logged_in = dataclasses.replace(loaded, tokens={**loaded.tokens, policy: client.token})
        assert_reads_exactly_its_paths(bao, vault, logged_in, workload)


@pytest.mark.parametrize("spec", VAULT_SPECS, ids=[p.stem for p in VAULT_SPECS])
def test_other_tokens_are_refused(
    control_plane: ControlPlane,
    kube: KubeClient,
    bao: BaoServer,
    vault: Any,
    kube_auth: KubeAuth,
    spec: Path,
    tmp_path: Path,
) -> None:
    compiled, settings, _ = prepared(control_plane, kube, vault, spec, tmp_path)
    for workload, (namespace, account, role) in identities(compiled).items():
        # Another account in the same namespace, with the right audience.
        kube.apply_ok(
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "intruder", "namespace": namespace},
            }
        )
        intruder = kube.token_request(namespace, "intruder", [settings.audience])
        assert refused(bao, intruder, role, kube_auth.mount), f"{workload}: another account logged in"
        # The reader's own account in another namespace.
        kube.apply_ok({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "secureai-elsewhere"}})
        kube.apply_ok(
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": account, "namespace": "secureai-elsewhere"},
            }
        )
        namesake = kube.token_request("secureai-elsewhere", account, [settings.audience])
        assert refused(bao, namesake, role, kube_auth.mount), (
            f"{workload}: same name, other namespace logged in"
        )
        # The reader's own account, but a token for another audience (the API server's own).
        wrong_audience = kube.token_request(namespace, account, [])
        assert refused(bao, wrong_audience, role, kube_auth.mount), f"{workload}: token for another audience"
        # A token the API server never issued (same claims, signature broken).
        own = kube.token_request(namespace, account, [settings.audience])
        head, body, signature = own.split(".")
        forged = f"{head}.{body}.{signature[:-4]}AAAA"
        assert refused(bao, forged, role, kube_auth.mount), f"{workload}: a forged token logged in"
        # And the genuine one works, so the refusals above are about the token, not the setup.
        assert login(bao, own, role, kube_auth.mount).token
