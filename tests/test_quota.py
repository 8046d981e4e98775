"""Namespace quotas: the ResourceQuota and LimitRange compiled from `quota`, and the checks
that the namespace's workloads fit it (SA182) and give the amounts it requires (SA183),
counted as the quota admission counts pods."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from specutil import BASE, WORKLOAD, messages

from secureai.check.quota import effective
from secureai.compile.build import compile_spec
from secureai.model.quota import quantity
from secureai.model.spec import Resources, Spec
from secureai.pipeline import compile_path
from secureai.render.kubernetes import ORDER

FULL = BASE + WORKLOAD


def quota(text: str) -> str:
    return FULL.replace("  ml: {}\n", f"  ml:\n    quota: {text}\n")


QUOTA_CASES = [
    (
        "SA185",
        FULL.replace(
            "  ml: {}\n", '  ml:\n    quota: { requests: { cpu: "8" }, defaults: { limits: { cpu: "1" } } }\n'
        ).replace(
            'resources: { limits: { cpu: "1", memory: 1Gi } }', 'resources: { requests: { cpu: "2" } }'
        ),
        "spec.yaml:9:3: error[SA185]: workload 'trainer' requests 2 cpu and sets no cpu limit, so it gets the default limit of namespace 'ml', 1, below its request: the cluster refuses its pods",
    ),
    (
        "SA184",
        FULL.replace("  ml: {}\n", '  ml:\n    quota: { requests: { cpu: "2" } }\n').replace(
            "    runAsUser: 10001\n", "    runAsUser: 10001\n    replicas: 2\n"
        ),
        "spec.yaml:9:3: warning[SA184]: workload 'trainer' fits the quota of namespace 'ml', but the extra pod of its rolling update does not (requests.cpu: 3 of 2): an update would wait for quota forever",
    ),
    (
        "SA182",
        quota('{ requests: { cpu: "2" } }').replace(
            "    runAsUser: 10001\n", "    runAsUser: 10001\n    replicas: 3\n"
        ),
        "spec.yaml:9:3: error[SA182]: workload 'trainer' brings the requests.cpu of namespace 'ml' to 3 (3 pods of 1 each), above its quota of 2",
    ),
    (
        "SA183",
        quota('{ requests: { memory: 8Gi }, limits: { cpu: "8" } }')
        + "    initContainers:\n      fetch: { image: ghcr.io/acme/fetch:1.0 }\n",
        "spec.yaml:15:14: error[SA183]: init container 'fetch' of workload 'trainer' sets no memory request, which the quota of namespace 'ml' requires: the cluster refuses its pods",
    ),
]


@pytest.mark.parametrize(
    ("code", "text", "expected"), QUOTA_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(QUOTA_CASES)]
)
def test_code_message(tmp_path: Path, code: str, text: str, expected: str) -> None:
    found = [m.split("\n")[0] for m in messages(tmp_path, text) if f"[{code}]" in m]
    assert expected in found, found


def _over(tmp_path: Path, text: str) -> list[str]:
    return [m.split("\n")[0].split("]: ", 1)[1] for m in messages(tmp_path, text) if "[SA182]" in m]


GPU = "{ requests: { nvidia.com/gpu: 4 } }"
GPU_WORKLOAD = FULL.replace(
    'limits: { cpu: "1", memory: 1Gi }', 'limits: { cpu: "1", memory: 1Gi, nvidia.com/gpu: 2 }'
)


def with_quota(text: str, q: str) -> str:
    return text.replace("  ml: {}\n", f"  ml:\n    quota: {q}\n")


def test_gpus_fit_until_the_replicas_do_not(tmp_path: Path) -> None:
    two = with_quota(GPU_WORKLOAD, GPU).replace(
        "    runAsUser: 10001\n", "    runAsUser: 10001\n    replicas: 2\n"
    )
    assert _over(tmp_path, two) == []
    three = two.replace("replicas: 2", "replicas: 3")
    assert _over(tmp_path, three) == [
        "workload 'trainer' brings the requests.nvidia.com/gpu of namespace 'ml' to 6 (3 pods of 2 each), above its quota of 4"
    ]


def test_a_job_counts_its_parallel_pods_and_a_cronjob_one_run(tmp_path: Path) -> None:
    job = with_quota(GPU_WORKLOAD, GPU).replace(
        "    runAsUser: 10001\n", "    runAsUser: 10001\n    kind: Job\n    parallelism: 3\n"
    )
    assert _over(tmp_path, job)[0].endswith("to 6 (3 pods of 2 each), above its quota of 4")
    # parallelism is capped by completions: two pods at most
    assert _over(tmp_path, job.replace("parallelism: 3", "parallelism: 3\n    completions: 2")) == []
    cron = with_quota(GPU_WORKLOAD, GPU).replace(
        "    runAsUser: 10001\n", "    runAsUser: 10001\n    kind: CronJob\n    schedule: '0 * * * *'\n"
    )
    assert _over(tmp_path, cron) == []


def test_the_namespace_total_is_reported_at_the_workload_that_passes_it(tmp_path: Path) -> None:
    text = with_quota(GPU_WORKLOAD, GPU) + (
        "  second:\n    namespace: ml\n    image: ghcr.io/acme/x:1.0\n    runAsUser: 10001\n"
        "    resources: { limits: { cpu: '1', memory: 1Gi, nvidia.com/gpu: 2 } }\n"
        "  third:\n    namespace: ml\n    image: ghcr.io/acme/x:1.0\n    runAsUser: 10001\n"
        "    resources: { limits: { cpu: '1', memory: 1Gi, nvidia.com/gpu: 1 } }\n"
    )
    found = [m.split("\n")[0] for m in messages(tmp_path, text) if "[SA182]" in m]
    assert found == [
        "spec.yaml:19:3: error[SA182]: workload 'third' brings the requests.nvidia.com/gpu of namespace 'ml' to 5, above its quota of 4"
    ]


def test_init_containers_count_as_their_most_not_their_sum(tmp_path: Path) -> None:
    """max(each init container, app containers): two 3-cpu init containers take 3, not 6."""
    text = with_quota(FULL, '{ requests: { cpu: "3" } }') + (
        "    initContainers:\n"
        "      a: { image: ghcr.io/acme/a:1.0, resources: { requests: { cpu: '3', memory: 1Gi } } }\n"
        "      b: { image: ghcr.io/acme/b:1.0, resources: { requests: { cpu: '3', memory: 1Gi } } }\n"
    )
    assert _over(tmp_path, text) == []
    assert _over(
        tmp_path, text.replace("cpu: '3', memory: 1Gi } } }\n    ", "cpu: '3.5', memory: 1Gi } } }\n    ", 1)
    )


def test_native_sidecars_add_to_the_app_containers(tmp_path: Path) -> None:
    text = with_quota(FULL, '{ requests: { cpu: "1500m" } }') + (
        "    sidecars:\n      log: { image: ghcr.io/acme/log:1.0, resources: { limits: { cpu: 600m, memory: 64Mi } } }\n"
    )
    assert _over(tmp_path, text) == [
        "workload 'trainer' brings the requests.cpu of namespace 'ml' to 1.6, above its quota of 1.5"
    ]


def test_pods_and_storage(tmp_path: Path) -> None:
    text = with_quota(FULL, "{ pods: 2, storage: 250Gi }").replace(
        "    runAsUser: 10001\n",
        "    runAsUser: 10001\n    kind: StatefulSet\n    replicas: 3\n"
        "    volumes:\n      data: { mountPath: /data, claim: { size: 100Gi } }\n",
    )
    assert _over(tmp_path, text) == [
        "workload 'trainer' brings the pods of namespace 'ml' to 3, above its quota of 2",
        "workload 'trainer' brings the requests.storage of namespace 'ml' to 300Gi, above its quota of 250Gi",
    ]


def test_defaults_give_the_amounts_a_quota_requires(tmp_path: Path) -> None:
    bare = FULL.replace('    resources: { limits: { cpu: "1", memory: 1Gi } }\n', "")
    text = with_quota(bare, '{ requests: { cpu: "4", memory: 8Gi } }')
    assert [m.split("\n")[0].split("]: ")[1] for m in messages(tmp_path, text) if "[SA183]" in m] == [
        "workload 'trainer' sets no cpu or memory request, which the quota of namespace 'ml' requires: the cluster refuses its pods"
    ]
    defaulted = with_quota(
        bare, '{ requests: { cpu: "4", memory: 8Gi }, defaults: { limits: { cpu: 500m, memory: 1Gi } } }'
    )
    assert not [m for m in messages(tmp_path, defaulted) if "[SA183]" in m or "[SA182]" in m]


def test_effective_amounts_follow_the_api_server() -> None:
    """Request, else limit, else the LimitRange's defaultRequest, else its default limit."""
    defaults = Resources.model_validate(
        {"requests": {"cpu": "100m"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    )
    requests, limits = effective(Resources.model_validate({"limits": {"memory": "2Gi"}}), defaults)
    assert requests == {"memory": quantity("2Gi"), "cpu": quantity("100m")}
    assert limits == {"memory": quantity("2Gi"), "cpu": quantity("1")}
    requests, limits = effective(None, Resources.model_validate({"limits": {"cpu": "1"}}))
    assert requests == limits == {"cpu": quantity("1")}
    requests, limits = effective(Resources.model_validate({"requests": {"nvidia.com/gpu": "2"}}), None)
    assert requests == limits == {"nvidia.com/gpu": 2}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{ limits: { nvidia.com/gpu: 2 } }",
            "namespaces.ml.quota: quota limits cannot name extended resources (nvidia.com/gpu): Kubernetes quotas them by requests only, so write them under 'requests'",
        ),
        (
            "{ defaults: { requests: { nvidia.com/gpu: 1 } } }",
            "namespaces.ml.quota: quota defaults cannot name extended resources (nvidia.com/gpu): every container that sets none would be given one",
        ),
    ],
)
def test_extended_resources_only_as_requests(tmp_path: Path, text: str, message: str) -> None:
    assert [m.split("\n")[0].split("]: ", 1)[1] for m in messages(tmp_path, text=quota(text))] == [message]


SPEC: dict[str, Any] = {
    "version": 1,
    "project": "demo",
    "kubernetes": {"version": "1.30"},
    "namespaces": {
        "ml": {
            "quota": {
                "requests": {"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "4"},
                "limits": {"memory": "64Gi"},
                "pods": 10,
                "storage": "1Ti",
                "defaults": {"requests": {"cpu": "100m"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            }
        }
    },
    "workloads": {"w": {"namespace": "ml", "image": "ghcr.io/acme/x:1.0", "run_as_user": 10001}},
}


def test_quota_and_limit_range() -> None:
    plan = compile_spec(Spec.model_validate(SPEC)).value
    assert plan is not None
    by_kind = {r.properties.get("kind"): r for r in plan.resources}
    quota_, limits = by_kind["ResourceQuota"].properties, by_kind["LimitRange"].properties
    assert quota_["metadata"]["namespace"] == limits["metadata"]["namespace"] == "ml"
    assert quota_["spec"] == {
        "hard": {
            "requests.cpu": "8",
            "requests.memory": "32Gi",
            "requests.nvidia.com/gpu": "4",  # extended resources: the requests. form only
            "limits.memory": "64Gi",
            "pods": "10",
            "requests.storage": "1Ti",
        }
    }
    assert limits["spec"] == {
        "limits": [
            {"type": "Container", "default": {"cpu": "1", "memory": "1Gi"}, "defaultRequest": {"cpu": "100m"}}
        ]
    }
    # Pods are created after both: a pod admitted before the LimitRange gets no defaults.
    deps = by_kind["Deployment"].depends_on
    assert by_kind["ResourceQuota"].key in deps and by_kind["LimitRange"].key in deps
    assert ORDER["ResourceQuota"] < ORDER["Deployment"] and ORDER["LimitRange"] < ORDER["Pod"]


def test_no_quota_no_objects() -> None:
    spec = Spec.model_validate({**SPEC, "namespaces": {"ml": {}}})
    plan = compile_spec(spec).value
    assert plan is not None
    assert not [r for r in plan.resources if r.properties.get("kind") in ("ResourceQuota", "LimitRange")]


def test_llm_platform_gpu_namespaces_have_quotas_their_workloads_fit() -> None:
    result = compile_path(Path(__file__).resolve().parent.parent / "specs" / "llm-platform.yaml", {})
    assert result.value is not None  # no SA182 or SA183
    spec = result.value.spec
    gpu = {
        w.namespace for w in spec.workloads.values() if w.resources and "nvidia.com/gpu" in str(w.resources)
    }
    assert gpu == {"llm-serving", "ml-training"}
    for namespace in gpu:
        q = spec.namespaces[namespace].quota
        assert q is not None and "nvidia.com/gpu" in q.requests


def test_only_a_deployment_that_cannot_take_a_pod_down_needs_room_for_one_more(tmp_path: Path) -> None:
    """Up to 3 replicas, 25% maxUnavailable rounds down to 0 and the update needs one more pod;
    from 4 it can take one down first; a StatefulSet replaces its pods in place."""
    text = with_quota(FULL, '{ requests: { cpu: "4" } }').replace(
        "    runAsUser: 10001\n", "    runAsUser: 10001\n    replicas: 4\n"
    )

    def surge(t: str) -> list[str]:
        return [m for m in messages(tmp_path, t) if "[SA184]" in m]

    assert surge(text) == []
    assert surge(text.replace("replicas: 4", "replicas: 3").replace('cpu: "4"', 'cpu: "3"')) != []
    assert (
        surge(
            text.replace("replicas: 4", "replicas: 3\n    kind: StatefulSet").replace('cpu: "4"', 'cpu: "3"')
        )
        == []
    )
