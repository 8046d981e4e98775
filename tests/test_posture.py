"""Posture from the compiled Plan: secret readers (env, volume, RBAC, Vault), flows, privileges."""

from __future__ import annotations

import json
from pathlib import Path

from specutil import write_spec
from typer.testing import CliRunner

from secureai.cli import app
from secureai.pipeline import compile_path
from secureai.posture import Posture, compute_posture
from secureai.posture.ports import PortSet

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

RBAC_SPEC = """\
version: 1
project: demo
kubernetes: { version: "1.30" }
namespaces:
  ml: {}
  ops: {}
secrets:
  db: { namespace: ml, data: { password: { fromEnv: DB_PASSWORD }, user: { fromEnv: DB_USER } } }
  other: { namespace: ops, data: { token: { fromEnv: TOKEN } } }
workloads:
  trainer:
    namespace: ml
    image: ghcr.io/acme/train:1.0.0
    runAsUser: 10001
    env: { DB_PASSWORD: { secret: db, key: password } }
  reader:
    namespace: ml
    image: ghcr.io/acme/reader:1.0.0
    runAsUser: 10001
    serviceAccount: secret-reader
    volumes: { creds: { mountPath: /creds, secret: db } }
access:
  secret-reader:
    namespace: ml
    can: [{ verbs: [get], resources: [secrets], names: [db] }]
  auditor:
    namespace: ops
    clusterWide: true
    allowSecretListing: true
    can: [{ verbs: [list], resources: [secrets] }]
"""


def posture_of(path: Path, environ: dict[str, str] | None = None) -> Posture:
    compiled = compile_path(path, environ or {})
    assert compiled.value is not None, [d.text() for d in compiled.diagnostics]
    return compute_posture(compiled.value.plan)


def readers(p: Posture) -> dict[str, list[tuple[str, str, str, bool]]]:
    return {
        s.id: [(r.workload or f"account {r.account}", r.how, r.detail, r.credential) for r in s.readers]
        for s in p.secrets
    }


def test_example_platform() -> None:
    p = posture_of(ROOT / "specs" / "ai-platform.yaml")
    assert readers(p) == {
        "ai-data-pipeline/ai-training-secret/api_token": [],
        "ai-data-pipeline/ai-training-secret/ca_cert": [],
        "ai-data-pipeline/ai-training-secret/db_password": [
            ("ai-data-pipeline/trainer", "env", "env DB_PASSWORD (trainer)", True)
        ],
        "secret/ai/model-parameters": [
            ("ai-data-pipeline/trainer", "vault", "Vault read of secret/data/ai/model-parameters", True),
            (
                "ai-data-pipeline/trainer",
                "file",
                "delivered file /vault/secrets/model-parameters.json (Vault agent)",
                True,
            ),
        ],
    }
    assert [(f.source, f.target, f.ports.text()) for f in p.network.flows] == [
        ("ai-data-pipeline/trainer", "ai-data-pipeline/feature-store", "TCP/5432")
    ]
    vault = [o for o in p.network.outside if "vault" in o.peer]
    assert [(o.workload, o.direction, o.peer, o.ports, o.via) for o in vault] == [
        (
            "ai-data-pipeline/trainer",
            "egress",
            "pods app.kubernetes.io/name=vault in namespace vault",
            "TCP/8200",
            ("NetworkPolicy ai-data-pipeline/trainer-to-vault",),
        )
    ]
    tokens = {x.workload: x.api_token for x in p.privileges}
    assert tokens == {
        "ai-data-pipeline/trainer": False,
        "ai-data-pipeline/feature-store": False,
        "ml-workloads/batch-scorer": True,
    }


def test_env_volume_and_rbac_readers_including_cluster_wide(tmp_path: Path) -> None:
    p = posture_of(write_spec(tmp_path, RBAC_SPEC))
    cluster = "RBAC read of every secret in every namespace"
    assert readers(p) == {
        "ml/db/password": [
            ("ml/trainer", "env", "env DB_PASSWORD (trainer)", True),
            ("ml/reader", "volume", "volume creds at /creds", True),
            ("ml/reader", "rbac", "RBAC read of db in namespace ml", True),
            ("account ops/auditor", "rbac", cluster, False),
        ],
        "ml/db/user": [
            ("ml/reader", "volume", "volume creds at /creds", True),
            ("ml/reader", "rbac", "RBAC read of db in namespace ml", True),
            ("account ops/auditor", "rbac", cluster, False),
        ],
        "ops/other/token": [("account ops/auditor", "rbac", cluster, False)],
    }
    grants = {r.grant for s in p.secrets for r in s.readers if r.how == "rbac"}
    assert grants == {
        "Role secret-reader via RoleBinding ml/secret-reader",
        "ClusterRole demo:ops:auditor via ClusterRoleBinding demo:ops:auditor",
    }


def test_open_namespace_is_reachable_from_everything(tmp_path: Path) -> None:
    spec = RBAC_SPEC.replace("  ml: {}", "  ml: { network: open }")
    p = posture_of(write_spec(tmp_path, spec))
    assert {(f.source, f.target): f.ports for f in p.network.flows} == {
        ("ml/trainer", "ml/reader"): PortSet.all(),
        ("ml/reader", "ml/trainer"): PortSet.all(),
    }
    assert p.network.isolated == {"ml/trainer": (), "ml/reader": ()}


def test_cli_access_text_and_json(tmp_path: Path) -> None:
    spec = str(write_spec(tmp_path, RBAC_SPEC))
    text = runner.invoke(app, ["access", spec])
    assert text.exit_code == 0
    assert "ml/db/password   ml/trainer           env     env DB_PASSWORD (trainer)" in text.output
    doc = json.loads(runner.invoke(app, ["access", spec, "--format", "json"]).output)
    assert doc["workloads"] == ["ml/trainer", "ml/reader"]
    assert [r["workload"] for r in doc["secrets"][0]["readers"]] == [
        "ml/trainer",
        "ml/reader",
        "ml/reader",
        None,
    ]


def test_cli_access_on_a_broken_spec_prints_diagnostics(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, RBAC_SPEC.replace("image:", "imagee:", 1))
    result = runner.invoke(app, ["access", str(spec)])
    assert result.exit_code == 1
    assert "error[SA101]" in result.output


def test_delivered_files_and_external_secrets_are_readers() -> None:
    p = posture_of(ROOT / "specs" / "005-vault-delivery.yaml", {"SERVING_API_KEY": "x"})
    found = readers(p)
    assert found["ml-serving/batch-scorer-vault/api-key"] == [
        ("ml-serving/batch-scorer", "volume", "volume secureai-vault-files at /vault/secrets", True)
    ]
    files = sorted(
        (who, detail) for s in p.secrets for who, how, detail, _ in readers(p)[s.id] if how == "file"
    )
    assert files == [
        ("ml-serving/server", "delivered file /vault/secrets/serving.env (Vault agent injector)"),
        ("ml-serving/trainer", "delivered file /vault/secrets/learning-rate (Vault agent)"),
        ("ml-serving/trainer", "delivered file /vault/secrets/model-parameters.json (Vault agent)"),
    ]
    assert (
        "account ml-serving/batch-scorer",
        "vault",
        "synced into Secret ml-serving/batch-scorer-vault by the External Secrets operator",
        True,
    ) in found["secret/ai/serving"]


def test_picture_is_self_contained_and_fresh(tmp_path: Path) -> None:
    import os

    result = runner.invoke(app, ["access", str(ROOT / "specs" / "ai-platform.yaml"), "--format", "svg"])
    svg = result.stdout
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    # Nothing fetched: the only URL is the SVG namespace.
    assert svg.count("http") == 1 and "<script" not in svg and "href" not in svg
    for name in ("trainer", "feature-store", "batch-scorer", "db_password", "TCP/5432"):
        assert name in svg
    committed = ROOT / "docs" / "ai-platform-posture.svg"
    if os.environ.get("SECUREAI_ACCEPT"):
        committed.write_text(svg, encoding="utf-8")
    assert committed.read_text(encoding="utf-8") == svg, "refresh with SECUREAI_ACCEPT=1"
    page = runner.invoke(app, ["access", str(ROOT / "specs" / "ai-platform.yaml"), "--format", "html"]).stdout
    assert page.startswith("<!DOCTYPE html>") and page.count("http") == 1 and "<script" not in page


def test_pull_secrets_and_services(tmp_path: Path) -> None:
    from secureai.compile.plan import Plan, Resource
    from secureai.posture.inventory import inventory
    from secureai.posture.network import Exposure
    from secureai.posture.secrets import secret_items

    # Built by hand (kompose style): the constructs come from compile, the reading from here.
    pod = {
        "serviceAccountName": "vllm",
        "automountServiceAccountToken": False,
        "imagePullSecrets": [{"name": "regcred"}],
        "containers": [{"name": "vllm", "image": "x", "ports": [{"containerPort": 8000, "name": "http"}]}],
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "vllm", "namespace": "llm"},
        "spec": {"template": {"metadata": {"labels": {"app": "vllm"}}, "spec": pod}},
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "regcred", "namespace": "llm"},
        "data": {".dockerconfigjson": "x"},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "vllm", "namespace": "llm"},
        "spec": {"type": "NodePort", "selector": {"app": "vllm"}, "ports": [{"port": 80, "nodePort": 30080}]},
    }
    plan = Plan(
        "demo",
        "dev",
        "1.30",
        tuple(
            Resource(f"kubernetes:x:{m['kind']}", m["metadata"]["name"], m)
            for m in (deployment, secret, service)
        ),
    )
    inv = inventory(plan)
    [item] = secret_items(inv)
    assert [(r.workload, r.how) for r in item.readers] == [("llm/vllm", "pull")]
    from secureai.posture.network import analyze

    assert analyze(inv).services == [Exposure("llm/vllm", "llm/vllm", "NodePort", "TCP/80 (node 30080)")]
