"""Image policies: the validate checks (SA138, SA139, SA144), the prefix matching, and the
rendered ValidatingAdmissionPolicy's CEL evaluated with cel-python on pods the API server
would see, secureai's own and others'."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import celpy
import pytest
from specutil import BASE, WORKLOAD, messages
from test_compile_cel import ENV, admission, as_admitted, at_version, namespaced_templates, templates

from secureai.compile.build import compile_spec
from secureai.compile.kubernetes.images import cel_test
from secureai.compile.plan import Plan
from secureai.model.images import ImagePolicy, image_tests, passes, registry_allowed
from secureai.model.spec import Spec
from secureai.pipeline import compile_path

FULL = BASE + WORKLOAD
POLICY = FULL.replace("  ml: {}\n", "  ml:\n    images: { allowedRegistries: [registry.example.com/ml/] }\n")

IMAGE_CASES = [
    (
        "SA138",
        POLICY,
        "spec.yaml:11:12: error[SA138]: workload 'trainer' uses image 'ghcr.io/acme/train:1.0.0' without a digest, which namespace 'ml' requires",
    ),
    (
        "SA138",
        POLICY + "    initContainers:\n      fetch: { image: registry.example.com/ml/fetch:1.0 }\n",
        "spec.yaml:15:23: error[SA138]: init container 'fetch' of workload 'trainer' uses image 'registry.example.com/ml/fetch:1.0' without a digest, which namespace 'ml' requires",
    ),
    (
        "SA139",
        POLICY,
        "spec.yaml:11:12: error[SA139]: workload 'trainer' uses image 'ghcr.io/acme/train:1.0.0', which is not under a registry namespace 'ml' allows (registry.example.com/ml/)",
    ),
    (
        "SA144",
        POLICY.replace('version: "1.30"', 'version: "1.27"'),
        "spec.yaml:7:13: warning[SA144]: Kubernetes 1.27 has no ValidatingAdmissionPolicy: the image policy of namespace 'ml' is checked on the spec's workloads but not enforced by the cluster",
    ),
    (
        "SA144",
        POLICY.replace('version: "1.30"', 'version: "1.29"'),
        "spec.yaml:7:13: warning[SA144]: Kubernetes 1.29 enforces the image policy of namespace 'ml' only when the cluster serves ValidatingAdmissionPolicy v1beta1",
    ),
]


@pytest.mark.parametrize(
    ("code", "text", "expected"), IMAGE_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(IMAGE_CASES)]
)
def test_code_message(tmp_path: Path, code: str, text: str, expected: str) -> None:
    found = [m.split("\n")[0] for m in messages(tmp_path, text) if f"[{code}]" in m]
    assert expected in found, found


DIGEST = "@sha256:" + "a" * 64


def test_sidecars_and_the_vault_agent_are_checked(tmp_path: Path) -> None:
    pinned = POLICY.replace("ghcr.io/acme/train:1.0.0", f"registry.example.com/ml/train{DIGEST}")
    text = pinned + (
        "    sidecars:\n      log: { image: fluent/fluent-bit:3.1.9 }\n"
        "    vault: { read: [ai/x], agent: { image: quay.io/openbao/openbao:2.7.2 } }\n"
        "vault: { address: https://vault.example:8200 }\nvaultSecrets:\n  ai/x: { data: { a: b } }\n"
    )
    found = [m.split("\n")[0] for m in messages(tmp_path, text) if "[SA13" in m]
    assert [(m.split("[")[1][:5], m.split("]: ")[1].split(" uses ")[0]) for m in found] == [
        ("SA138", "sidecar 'log' of workload 'trainer'"),
        ("SA139", "sidecar 'log' of workload 'trainer'"),
        ("SA138", "the Vault agent of workload 'trainer'"),
        ("SA139", "the Vault agent of workload 'trainer'"),
    ]


def test_a_pinned_image_from_an_allowed_registry_and_an_exception_pass(tmp_path: Path) -> None:
    text = POLICY.replace("ghcr.io/acme/train:1.0.0", f"registry.example.com/ml/train{DIGEST}").replace(
        "allowedRegistries: [registry.example.com/ml/]",
        "allowedRegistries: [registry.example.com/ml/], "
        "exceptions: [{ image: 'busybox:1.36', reason: the on-call team's debug shell }]",
    )
    text += "    initContainers:\n      shell: { image: 'busybox:1.36' }\n"
    assert not [m for m in messages(tmp_path, text) if "[SA13" in m]


def test_no_policy_no_check(tmp_path: Path) -> None:
    """Off unless declared: a policy nobody asked for would break working specs."""
    assert not [m for m in messages(tmp_path, FULL) if "[SA138]" in m or "[SA139]" in m]


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        (
            "acme/",
            "'acme/' does not start with a registry host: write it in full, such as docker.io/acme/ or ghcr.io/acme/",
        ),
        (
            "ghcr.io/acme/x:1.0",
            "'ghcr.io/acme/x:1.0' is not a registry or repository prefix such as registry.example.com/ml/ (no tag or digest)",
        ),
    ],
)
def test_a_prefix_names_its_registry(tmp_path: Path, prefix: str, message: str) -> None:
    text = FULL.replace("  ml: {}\n", f"  ml:\n    images: {{ allowedRegistries: ['{prefix}'] }}\n")
    assert [m.split("\n")[0].split("]: ", 1)[1] for m in messages(tmp_path, text)] == [
        f"namespaces.ml.images.allowedRegistries[0]: {message}"
    ]


# ----------------------------------------------------------------------------- prefix matching

ALLOWED = [
    # (prefix, image, allowed)
    ("registry.example.com/ml/", "registry.example.com/ml/train:1", True),
    ("registry.example.com/ml/", "registry.example.com/ml/team/train@sha256:ab", True),
    ("registry.example.com/ml/", "registry.example.com/ml-evil/train:1", False),  # path boundary
    ("registry.example.com/ml", "registry.example.com/mlx:1", False),
    ("registry.example.com/ml", "registry.example.com/ml:1", True),  # no '/': the repository too
    ("docker.io/library/postgres/", "postgres:16", False),
    ("docker.io/library/postgres/", "postgres/x:1", False),  # docker.io/postgres/x
    ("registry.example.com/ml/", "registry.example.com/ml", False),
    ("registry.example.com", "registry.example.com/x:1", True),
    ("registry.example.com", "registry.example.com:5000/x:1", False),  # another port, another registry
    ("registry.example.com", "registry.example.com.evil.io/x:1", False),
    ("quay.io/openbao/openbao", "quay.io/openbao/openbao:2.7.2", True),  # one repository
    ("quay.io/openbao/openbao", "quay.io/openbao/openbao@sha256:ab", True),
    ("quay.io/openbao/openbao", "quay.io/openbao/openbao-evil:1", False),
    ("localhost:5000/", "localhost:5000/x:1", True),
    # Docker Hub short forms name the same repositories
    ("docker.io/rayproject/", "rayproject/ray:2.9.0", True),
    ("docker.io/rayproject/", "index.docker.io/rayproject/ray:2.9.0", True),
    ("docker.io/rayproject/", "rayprojectx/ray:2.9.0", False),
    ("docker.io/rayproject/ray", "rayproject/ray:2.9.0", True),
    ("docker.io/library/postgres", "postgres:16.4", True),
    ("docker.io/library/postgres", "postgres", True),
    ("docker.io/library/postgres", "docker.io/postgres:16", True),
    ("docker.io/library/postgres", "library/postgres@sha256:ab", True),
    ("docker.io/library/postgres", "postgres:5000/evil:1", False),  # a host:port, not a tag
    ("docker.io/library/postgres", "postgresx:1", False),
    ("docker.io/library/postgres", "evil/postgres:1", False),
    ("docker.io/library/", "busybox:1.36", True),
    ("docker.io/library/", "docker.io/busybox:1.36", True),
    ("docker.io/library/", "qdrant/qdrant:v1", False),
    ("docker.io/library/", "ghcr.io/busybox:1", False),
    ("docker.io", "qdrant/qdrant:v1", True),
    ("docker.io", "busybox", True),
    ("docker.io", "ghcr.io/acme/x:1", False),
    ("docker.io", "localhost/x:1", False),
    ("docker.io", "localhost:5000/x:1", False),
    ("ghcr.io/acme/", "acme/x:1", False),  # Docker Hub's acme, not ghcr.io's
]


@pytest.mark.parametrize(("prefix", "image", "allowed"), ALLOWED)
def test_prefix_matching(prefix: str, image: str, allowed: bool) -> None:
    assert registry_allowed(ImagePolicy(allowed_registries=[prefix]), image) is allowed


def _cel(expression: str, image: str) -> bool:
    program = ENV.program(ENV.compile(expression))
    result = program.evaluate({"c": celpy.json_to_cel({"image": image})})
    assert isinstance(result, celpy.celtypes.BoolType)
    return bool(result)


@pytest.mark.parametrize(("prefix", "image", "allowed"), ALLOWED)
def test_cel_matches_as_validate_does(prefix: str, image: str, allowed: bool) -> None:
    """Each test as CEL says what `passes` says: the cluster admits what validate accepts."""
    for test in image_tests(prefix):
        assert _cel(cel_test(test), image) is passes(test, image), test


# ----------------------------------------------------------------------------- the admission policy

SPEC = {
    "version": 1,
    "project": "demo",
    "kubernetes": {"version": "1.30"},
    "namespaces": {
        "ml": {
            "images": {
                "allowed_registries": ["registry.example.com/ml/", "docker.io/library/busybox"],
                "exceptions": [{"image": "ghcr.io/vendor/agent:3", "reason": "vendor ships no digests"}],
            }
        },
        "open": {},
    },
    "workloads": {
        "w": {"namespace": "ml", "image": f"registry.example.com/ml/train{DIGEST}", "run_as_user": 10001}
    },
}


@pytest.fixture(scope="module")
def plan() -> Plan:
    compiled = compile_spec(Spec.model_validate(SPEC))
    assert compiled.value is not None
    return compiled.value


@pytest.fixture
def pod(plan: Plan) -> dict[str, Any]:
    (template,) = templates(plan)
    return as_admitted(template)


def _foreign(pod: dict[str, Any]) -> dict[str, Any]:
    """A pod secureai did not render: no labels of ours (`kubectl run`, a chart, an operator)."""
    other = copy.deepcopy(pod)
    other["metadata"] = {"name": "x"}
    return other


DIGEST_MSG = "namespace 'ml' image policy: every image must be pinned by digest (name@sha256:...)"
REGISTRY_MSG = (
    "namespace 'ml' image policy: every image must come from an allowed registry: "
    "registry.example.com/ml/, docker.io/library/busybox"
)


def test_pinned_pod_from_an_allowed_registry_is_admitted(plan: Plan, pod: dict[str, Any]) -> None:
    assert admission(plan, pod, "ml") == []


def test_unpinned_pod_is_refused(plan: Plan, pod: dict[str, Any]) -> None:
    pod["spec"]["containers"][0]["image"] = "registry.example.com/ml/train:1.0"
    assert admission(plan, pod, "ml") == [DIGEST_MSG]
    assert admission(plan, _foreign(pod), "ml") == [DIGEST_MSG]


def test_pod_from_a_foreign_registry_is_refused(plan: Plan, pod: dict[str, Any]) -> None:
    pod["spec"]["containers"][0]["image"] = f"evil.example.com/ml/train{DIGEST}"
    assert admission(plan, pod, "ml") == [REGISTRY_MSG]
    assert admission(plan, _foreign(pod), "ml") == [REGISTRY_MSG]


@pytest.mark.parametrize("field", ["initContainers", "ephemeralContainers"])
def test_init_and_debug_containers_from_a_foreign_registry_are_refused(
    plan: Plan, pod: dict[str, Any], field: str
) -> None:
    extra = copy.deepcopy(pod["spec"]["containers"][0]) | {"name": "x", "image": f"ghcr.io/x/y{DIGEST}"}
    pod["spec"][field] = [extra]
    assert admission(plan, pod, "ml") == [REGISTRY_MSG]
    extra["image"] = "ghcr.io/x/y:1"
    assert admission(plan, pod, "ml") == [DIGEST_MSG, REGISTRY_MSG]


def test_exceptions_and_short_names(plan: Plan, pod: dict[str, Any]) -> None:
    pod["spec"]["containers"][0]["image"] = "ghcr.io/vendor/agent:3"  # exempt from both rules
    assert admission(plan, pod, "ml") == []
    pod["spec"]["containers"][0]["image"] = "ghcr.io/vendor/agent:4"  # only that exact image
    assert admission(plan, pod, "ml") == [DIGEST_MSG, REGISTRY_MSG]
    pod["spec"]["containers"][0]["image"] = f"busybox{DIGEST}"  # docker.io/library/busybox
    assert admission(plan, pod, "ml") == []


def test_other_namespaces_are_not_bound(plan: Plan, pod: dict[str, Any]) -> None:
    pod["spec"]["containers"][0]["image"] = "evil.example.com/x:latest"
    assert admission(plan, _foreign(pod), "open") == []


def _deployment(plan: Plan) -> dict[str, Any]:
    (deployment,) = [r.properties for r in plan.resources if r.properties.get("kind") == "Deployment"]
    return copy.deepcopy(deployment)


def test_controllers_are_refused_when_applied(plan: Plan) -> None:
    """A Deployment (a chart's, say) whose pods would be refused is refused itself, so the
    refusal reaches whoever applies it rather than a ReplicaSet's events."""
    deployment = _deployment(plan)
    assert admission(plan, deployment, "ml") == []
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "evil.example.com/x:1"
    assert admission(plan, deployment, "ml") == [DIGEST_MSG, REGISTRY_MSG]
    template = _deployment(plan)["spec"]["template"]
    init = copy.deepcopy(template["spec"]["containers"][0]) | {"name": "x", "image": f"ghcr.io/x/y{DIGEST}"}
    template["spec"]["initContainers"] = [init]
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "ml"},
        "spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": template}}},
    }
    assert admission(plan, cronjob, "ml") == [REGISTRY_MSG]
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {"template": template}}
    assert admission(plan, job, "ml") == [REGISTRY_MSG]


def _policies(plan: Plan) -> list[dict[str, Any]]:
    return [
        r.properties
        for r in plan.resources
        if r.properties.get("kind", "").startswith("ValidatingAdmissionPolicy")
        and ".images." in r.properties["metadata"]["name"]
    ]


def test_policy_shape_and_versions(plan: Plan) -> None:
    policy, binding = _policies(plan)
    assert policy["apiVersion"] == "admissionregistration.k8s.io/v1"
    assert policy["metadata"]["name"] == binding["spec"]["policyName"] == "demo.images.ml"
    rules = policy["spec"]["matchConstraints"]["resourceRules"]
    assert rules[0]["resources"] == ["pods", "pods/ephemeralcontainers"]
    assert rules[0]["operations"] == ["CREATE", "UPDATE"]  # a pod's image can be changed in place
    assert [r["resources"] for r in rules[1:]] == [
        ["deployments", "replicasets", "statefulsets", "daemonsets"],
        ["jobs", "cronjobs"],
    ]
    assert "objectSelector" not in binding["spec"]["matchResources"]  # every pod, ours or not
    spec = Spec.model_validate(SPEC)
    beta = compile_spec(at_version(spec, "1.29")).value
    assert beta is not None
    assert {p["apiVersion"] for p in _policies(beta)} == {"admissionregistration.k8s.io/v1beta1"}
    old = compile_spec(at_version(spec, "1.27")).value
    assert old is not None and _policies(old) == []


def test_workloads_wait_for_the_policy(plan: Plan) -> None:
    """Pods created before the binding exists would never be checked."""
    (deployment,) = [r for r in plan.resources if r.properties.get("kind") == "Deployment"]
    assert any("ValidatingAdmissionPolicyBinding::secureai.images.ml" in d for d in deployment.depends_on)


def test_llm_platform_declares_image_policies_its_pods_pass() -> None:
    """Every namespace with GPU workloads has an image policy, and every pod of the example
    (the Vault agent's containers included) passes it."""
    result = compile_path(Path(__file__).resolve().parent.parent / "specs" / "llm-platform.yaml", {})
    assert result.value is not None
    spec, plan = result.value.spec, result.value.plan
    gpu = {
        w.namespace for w in spec.workloads.values() if w.resources and "nvidia.com/gpu" in str(w.resources)
    }
    assert gpu == {"llm-serving", "ml-training"}
    assert all(spec.namespaces[n].images for n in gpu)
    bound = {
        r.properties["metadata"]["name"]
        for r in plan.resources
        if r.properties.get("kind") == "ValidatingAdmissionPolicyBinding"
    }
    assert {f"llm-platform.images.{n}" for n in gpu} <= bound
    checked = [(n, t) for n, t in namespaced_templates(plan) if n in gpu]
    assert len(checked) == 2  # vllm and the fine-tune
    for namespace, template in checked:
        assert admission(plan, as_admitted(template), namespace) == []


EXAMPLES = [
    *sorted((Path(__file__).resolve().parent.parent / "specs").glob("*.yaml")),
    Path(__file__).resolve().parent.parent / "specs" / "org" / "secureai.yaml",
]


@pytest.mark.parametrize(
    "path", EXAMPLES, ids=[p.parent.name if p.parent.name == "org" else p.stem for p in EXAMPLES]
)
def test_every_example_pins_its_images_and_quotas_its_gpus(path: Path) -> None:
    """Every namespace of an example that runs workloads requires digests from allowed
    registries; where a namespace has GPU workloads, its quota bounds the GPUs; and from 1.28,
    where the cluster enforces the policy, every pod the example renders is admitted."""
    result = compile_path(path, {})
    assert result.value is not None, [d.text() for d in result.diagnostics]
    spec, plan = result.value.spec, result.value.plan
    for name in {w.namespace for w in spec.workloads.values()}:
        policy = spec.namespaces[name].images
        assert policy is not None and policy.require_digest and policy.allowed_registries, name
        assert policy.exceptions == [], name
    for w in spec.workloads.values():
        if w.resources and "nvidia.com/gpu" in str(w.resources):
            quota = spec.namespaces[w.namespace].quota
            assert quota is not None and "nvidia.com/gpu" in quota.requests, w.namespace
    if spec.minor >= 28:
        templates = namespaced_templates(plan)
        assert templates
        for namespace, template in templates:
            assert admission(plan, as_admitted(template), namespace) == [], namespace
