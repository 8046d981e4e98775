"""The harness itself: a real API server at the pinned version, and a fake node that runs pods.

What the deploy tests rely on: `/version` reports the real version (pulumi-kubernetes decides
its behaviour from it), and kwok turns scheduled pods Ready, so rollouts and Jobs complete.
"""

from __future__ import annotations

from typing import Any

import pytest

from .harness import NODE, ControlPlane
from .kubeapi import KubeClient

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
