"""The harness itself: a real API server at the pinned version, and a fake node that runs pods.

What the deploy tests rely on: `/version` reports the real version (pulumi-kubernetes decides
its behaviour from it), and kwok turns scheduled pods Ready, so rollouts and Jobs complete.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from children import start_time

from .conftest import need
from .harness import NODE, ControlPlane
from .kubeapi import KubeClient
from .toolchain import REPO, external_secrets_crds, kube_toolchain

pytestmark = pytest.mark.engine

NAMESPACE = "secureai-harness"


def container(**extra: Any) -> dict[str, Any]:
    return {"name": "main", "image": "registry.invalid/none:1", **extra}


def test_version_is_set_at_link_time(control_plane: ControlPlane, kube: KubeClient) -> None:
    version = kube.request("GET", "/version").body
    assert version["gitVersion"] == control_plane.version
    assert (version["major"], version["minor"]) == ("1", control_plane.version.split(".")[1])


def test_kubeconfig_names_the_context_and_reaches_the_server(control_plane: ControlPlane) -> None:
    text = control_plane.kubeconfig.read_text()
    assert f"current-context: {control_plane.context}" in text
    assert control_plane.server in text
    assert control_plane.token not in " ".join(" ".join(p.argv) for p in control_plane.processes)


def test_the_fake_node_offers_gpus(kube: KubeClient) -> None:
    node = kube.get("v1", "Node", NODE).body
    assert node["status"]["allocatable"]["nvidia.com/gpu"] == "8"


def test_a_gpu_deployment_rolls_out_and_a_job_completes(kube: KubeClient) -> None:
    kube.apply_ok({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    labels = {"app": "gpu"}
    gpu = {"limits": {"nvidia.com/gpu": "1", "cpu": "1", "memory": "1Gi"}}
    kube.apply_ok(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "gpu", "namespace": NAMESPACE},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [container(resources=gpu)]},
                },
            },
        }
    )
    kube.apply_ok(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "once", "namespace": NAMESPACE},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [container()]}}},
        }
    )

    def rolled_out() -> bool:
        status = kube.get("apps/v1", "Deployment", "gpu", NAMESPACE).body.get("status", {})
        return status.get("availableReplicas") == 2 and status.get("updatedReplicas") == 2

    def completed() -> bool:
        status = kube.get("batch/v1", "Job", "once", NAMESPACE).body.get("status", {})
        return status.get("succeeded") == 1

    kube.wait_for("Deployment gpu available", rolled_out)
    kube.wait_for("Job once complete", completed)


def test_cluster_sh_serves_what_the_examples_apply_and_down_stops_it(tmp_path: Path) -> None:
    """`cluster.sh up` by hand: a control plane that outlives the command, serving the operator
    APIs the examples render (as `engine.example` does); `down` stops every process it started."""
    need(kube_toolchain().missing_reason())
    need(external_secrets_crds().missing_reason())
    where = tmp_path / "by-hand"
    script = str(REPO / "scripts" / "engine" / "cluster.sh")
    up = subprocess.run(["bash", script, "up", str(where)], capture_output=True, text=True, timeout=180)
    try:
        assert up.returncode == 0, up.stderr
        lines = up.stdout.splitlines()
        assert lines[-1] == f"export KUBECONFIG={where / 'kubeconfig'}"
        assert any("external-secrets operator's CRDs" in line for line in lines), lines
        state = json.loads((where / "state.json").read_text())
        config = yaml.safe_load((where / "kubeconfig").read_text())
        token = config["users"][0]["user"]["token"]
        assert token not in up.stdout + up.stderr + json.dumps(state)
        kube = KubeClient(state["server"], token, where / "pki" / "ca.crt")
        assert kube.served("external-secrets.io/v1")
        assert kube.served("projectcalico.org/v3")
    finally:
        down = subprocess.run(
            ["bash", script, "down", str(where)], capture_output=True, text=True, timeout=120
        )
    assert down.returncode == 0, down.stderr
    for process in state["processes"]:
        assert start_time(process["pid"]) != process["started"], process["name"]
