"""Real admission for the namespace guardrails (issue 20): the API server, not our checker,
refuses an unpinned image, an image from a foreign registry (in any container, in a pod secureai
did not render) and a pod past the namespace's GPU quota; the LimitRange gives a bare pod
its defaults. Every object is applied for real; the probe pods are dry-run creates, which go
through admission (quota included) without being stored.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from .harness import ControlPlane
from .kubeapi import KubeClient, Reply
from .specs import compiled_at, rendered
from .test_admission import WORKLOAD_KINDS, apply_all, denied_by_policy, probe_pod, remove_all, workload_named

pytestmark = pytest.mark.engine

DIGEST = "sha256:" + "0123456789abcdef" * 4
SPEC = f"""\
version: 1
project: guard
kubernetes:
  version: "1.30"
namespaces:
  guarded:
    images:
      allowedRegistries: [registry.example.com/ml/, docker.io/library/]
    quota:
      requests: {{ cpu: "2", nvidia.com/gpu: 1 }}
      pods: 5
      defaults: {{ requests: {{ cpu: 100m, memory: 64Mi }}, limits: {{ cpu: 500m, memory: 128Mi }} }}
workloads:
  app:
    namespace: guarded
    image: registry.example.com/ml/app@{DIGEST}
    runAsUser: 10001
    resources: {{ requests: {{ cpu: 500m, memory: 64Mi }} }}
"""
POLICY = "guard.images.guarded"
DIGEST_MSG = "namespace 'guarded' image policy: every image must be pinned by digest (name@sha256:...)"
REGISTRY_MSG = (
    "namespace 'guarded' image policy: every image must come from an allowed registry: "
    "registry.example.com/ml/, docker.io/library/"
)


@pytest.fixture(scope="module")
def guarded(
    control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    if int(control_plane.minor.split(".")[1]) < 28:
        pytest.skip("ValidatingAdmissionPolicy needs Kubernetes 1.28+")
    kube = control_plane.client()
    work = tmp_path_factory.mktemp("guard")
    (work / "guard.yaml").write_text(SPEC, encoding="utf-8")
    objects = rendered(compiled_at(work / "guard.yaml", control_plane.minor, work / "out"))
    apply_all(kube, [o for o in objects if o[2]["kind"] not in WORKLOAD_KINDS])
    app = workload_named(objects, "app")
    unpinned = probe_pod(app, "policy-probe")
    unpinned["spec"]["containers"][0]["image"] = "registry.example.com/ml/app:1.0"
    # The policy reaches the admission plugin through an informer, and the quota admits pods
    # only once the controller has computed its usage: wait for both.
    kube.wait_for(
        f"{POLICY} to be enforced",
        lambda: denied_by_policy(kube.create(unpinned, dry_run=True), POLICY, DIGEST_MSG),
        timeout=30,
    )
    kube.wait_for(
        "the quota's usage",
        lambda: "used" in kube.get("v1", "ResourceQuota", "guard-quota", "guarded").body.get("status", {}),
        timeout=60,
    )
    yield objects
    remove_all(kube, [o for o in objects if o[2]["kind"] not in WORKLOAD_KINDS])


def _pod(objects: list[tuple[str, str, dict[str, Any]]], name: str) -> dict[str, Any]:
    return probe_pod(workload_named(objects, "app"), name)


def _refused(reply: Reply, message: str) -> bool:
    return denied_by_policy(reply, POLICY, message)


def test_a_pinned_pod_from_an_allowed_registry_is_admitted(
    kube: KubeClient, guarded: list[tuple[str, str, dict[str, Any]]]
) -> None:
    reply = kube.create(_pod(guarded, "pinned"), dry_run=True)
    assert reply.ok, f"HTTP {reply.status}: {reply.message}"


def test_an_unpinned_image_is_refused(
    kube: KubeClient, guarded: list[tuple[str, str, dict[str, Any]]]
) -> None:
    pod = _pod(guarded, "unpinned")
    pod["spec"]["containers"][0]["image"] = "registry.example.com/ml/app:1.0"
    reply = kube.create(pod, dry_run=True)
    assert _refused(reply, DIGEST_MSG), f"HTTP {reply.status}: {reply.message}"


def test_a_foreign_registry_is_refused_in_any_container_of_any_pod(
    kube: KubeClient, guarded: list[tuple[str, str, dict[str, Any]]]
) -> None:
    pod = _pod(guarded, "foreign")
    pod["spec"]["containers"][0]["image"] = f"evil.example.com/app@{DIGEST}"
    reply = kube.create(pod, dry_run=True)
    assert _refused(reply, REGISTRY_MSG), f"HTTP {reply.status}: {reply.message}"
    # An init container, in a pod without any label of ours (a chart's, an operator's).
    pod = _pod(guarded, "foreign-init")
    pod["metadata"]["labels"] = {}
    init = copy.deepcopy(pod["spec"]["containers"][0]) | {"name": "fetch", "image": f"docker.io/x/y@{DIGEST}"}
    init.pop("ports", None)
    init.pop("readinessProbe", None)
    init.pop("livenessProbe", None)
    init.pop("startupProbe", None)
    pod["spec"]["initContainers"] = [init]
    reply = kube.create(pod, dry_run=True)
    assert _refused(reply, REGISTRY_MSG), f"HTTP {reply.status}: {reply.message}"


def test_a_pod_past_the_gpu_quota_is_refused(
    kube: KubeClient, guarded: list[tuple[str, str, dict[str, Any]]]
) -> None:
    pod = _pod(guarded, "greedy")
    pod["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": "500m", "memory": "64Mi", "nvidia.com/gpu": "2"},
        "limits": {"nvidia.com/gpu": "2"},
    }
    reply = kube.create(pod, dry_run=True)
    assert reply.status == 403 and "exceeded quota: guard-quota" in reply.message, reply.message
    assert "requests.nvidia.com/gpu=2" in reply.message, reply.message


def test_the_limit_range_gives_a_bare_container_its_defaults(
    kube: KubeClient, guarded: list[tuple[str, str, dict[str, Any]]]
) -> None:
    """A container without amounts would be refused by a quota on cpu; the LimitRange fills them in."""
    pod = _pod(guarded, "bare")
    pod["spec"]["containers"][0].pop("resources")
    reply = kube.create(pod, dry_run=True)
    assert reply.ok, f"HTTP {reply.status}: {reply.message}"
    resources = reply.body["spec"]["containers"][0]["resources"]
    assert resources == {
        "requests": {"cpu": "100m", "memory": "64Mi"},
        "limits": {"cpu": "500m", "memory": "128Mi"},
    }


def test_docker_hub_short_names_are_matched_as_the_cluster_sees_them(
    kube: KubeClient, guarded: list[tuple[str, str, dict[str, Any]]]
) -> None:
    """`docker.io/library/` admits `busybox@...` (the regex the policy runs works in the
    API server's CEL) but not another Docker Hub namespace."""
    pod = _pod(guarded, "official")
    pod["spec"]["containers"][0]["image"] = f"busybox@{DIGEST}"
    reply = kube.create(pod, dry_run=True)
    assert reply.ok, f"HTTP {reply.status}: {reply.message}"
    pod["spec"]["containers"][0]["image"] = f"evil/busybox@{DIGEST}"
    reply = kube.create(pod, dry_run=True)
    assert _refused(reply, REGISTRY_MSG), f"HTTP {reply.status}: {reply.message}"


def test_a_controller_with_a_refused_image_is_refused_when_applied(
    kube: KubeClient, guarded: list[tuple[str, str, dict[str, Any]]]
) -> None:
    deployment = copy.deepcopy(workload_named(guarded, "app"))
    reply = kube.create(deployment, dry_run=True)
    assert reply.ok, f"HTTP {reply.status}: {reply.message}"
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.example.com/ml/app:1.0"
    reply = kube.create(deployment, dry_run=True)
    assert _refused(reply, DIGEST_MSG), f"HTTP {reply.status}: {reply.message}"
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "guarded"},
        "spec": {
            "schedule": "0 2 * * *",
            "jobTemplate": {"spec": {"template": {**deployment["spec"]["template"]}}},
        },
    }
    cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"] = {
        **deployment["spec"]["template"]["spec"],
        "restartPolicy": "OnFailure",
    }
    reply = kube.create(cronjob, dry_run=True)
    assert _refused(reply, DIGEST_MSG), f"HTTP {reply.status}: {reply.message}"
