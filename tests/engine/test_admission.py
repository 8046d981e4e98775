"""Real admission: the API server, not our checker, rejects what the spec forbids.

Seed 001 (retargeted to the cluster's version) puts a hostPath-reading workload in a
`privileged` namespace, so Pod Security lets hostPath through and the generated
ValidatingAdmissionPolicy alone must hold the profile: host paths under /data/ai and read-only,
read-only root filesystem, the volume allow-list. Seed 004's `restricted` namespace shows Pod
Security Admission itself rejecting a pod that breaks the level. The profile gate (issue 8)
rejects a pod with no profile label, an unknown profile, or another namespace's profile. Every
object is applied for real; the compliant workloads roll out on the kwok node.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from secureai.model.spec import SecurityProfile

from .harness import ControlPlane
from .kubeapi import KubeClient, Reply
from .specs import SPECS, compiled_at, not_served, rendered

pytestmark = pytest.mark.engine

WORKLOAD_KINDS = frozenset({"Pod", "Deployment", "StatefulSet", "Job", "CronJob"})
Mutation = Callable[[dict[str, Any]], None]
# How long to wait for the controller-manager: a namespace goes when it has deleted everything
# in it, pod by pod (kwok marks each deleted): a minute was too little on a 2-core machine under
# a load of 15.
CONTROLLER_TIMEOUT = 300.0


def apply_all(kube: KubeClient, objects: list[tuple[str, str, dict[str, Any]]]) -> None:
    for name, text, manifest in objects:
        if not_served(manifest):
            continue
        reply = kube.apply_yaml(text, manifest)
        assert reply.ok, f"{name}: HTTP {reply.status}: {reply.message}"


def remove_all(kube: KubeClient, objects: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Delete what a test applied, last first, and wait until its namespaces are gone: the
    control plane is shared by the session, and the deploy tests create the same names."""
    gone = []
    for _, _, manifest in reversed(objects):
        if not_served(manifest):
            continue
        meta = manifest["metadata"]
        kube.delete(manifest["apiVersion"], manifest["kind"], meta["name"], meta.get("namespace"))
        if manifest["kind"] == "Namespace":
            gone.append(meta["name"])
    for name in gone:
        kube.wait_for(
            f"namespace {name} to be deleted",
            lambda n=name: kube.get("v1", "Namespace", n).status == 404,
            timeout=CONTROLLER_TIMEOUT,
        )


def template_of(manifest: dict[str, Any]) -> dict[str, Any]:
    kind = manifest["kind"]
    if kind == "Pod":
        return {"metadata": manifest["metadata"], "spec": manifest["spec"]}
    if kind == "CronJob":
        return dict(manifest["spec"]["jobTemplate"]["spec"]["template"])
    return dict(manifest["spec"]["template"])


def probe_pod(workload: dict[str, Any], name: str, mutate: Mutation | None = None) -> dict[str, Any]:
    """A bare Pod from a rendered workload's pod template (what its controller would create)."""
    template = copy.deepcopy(template_of(workload))
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": workload["metadata"]["namespace"],
            "labels": template["metadata"].get("labels", {}),
        },
        "spec": template["spec"],
    }
    if workload["kind"] == "StatefulSet":
        # The StatefulSet controller adds a volume per claim template, for the pod's own claim.
        for claim in workload["spec"].get("volumeClaimTemplates", []):
            claim_name = f"{claim['metadata']['name']}-{workload['metadata']['name']}-0"
            pod["spec"].setdefault("volumes", []).append(
                {"name": claim["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim_name}}
            )
    if mutate is not None:
        mutate(pod["spec"])
    return pod


def provide_cluster_objects(kube: KubeClient, objects: list[tuple[str, str, dict[str, Any]]]) -> None:
    """What a GPU cluster's operators install and a spec only names: RuntimeClasses and
    PriorityClasses (admission refuses a pod naming one that does not exist)."""
    for _, _, manifest in objects:
        if manifest["kind"] not in WORKLOAD_KINDS:
            continue
        spec = template_of(manifest)["spec"]
        if spec.get("runtimeClassName"):
            kube.apply_ok(
                {
                    "apiVersion": "node.k8s.io/v1",
                    "kind": "RuntimeClass",
                    "metadata": {"name": spec["runtimeClassName"]},
                    "handler": spec["runtimeClassName"],
                }
            )
        if spec.get("priorityClassName"):
            kube.apply_ok(
                {
                    "apiVersion": "scheduling.k8s.io/v1",
                    "kind": "PriorityClass",
                    "metadata": {"name": spec["priorityClassName"]},
                    "value": 1000,
                }
            )


def workload_named(objects: list[tuple[str, str, dict[str, Any]]], name: str) -> dict[str, Any]:
    found = [m for _, _, m in objects if m["kind"] in WORKLOAD_KINDS and m["metadata"]["name"] == name]
    assert len(found) == 1, name
    return found[0]


def denied_by_policy(reply: Reply, policy: str, message: str) -> bool:
    return (
        reply.status in (403, 422)
        and f"ValidatingAdmissionPolicy '{policy}'" in reply.message
        and message in reply.message
    )


# ----------------------------------------------------------------------------- mutations


def host_path(path: str) -> Mutation:
    def mutate(spec: dict[str, Any]) -> None:
        for volume in spec["volumes"]:
            if "hostPath" in volume:
                volume["hostPath"]["path"] = path

    return mutate


def writable_host_mount(spec: dict[str, Any]) -> None:
    host = {v["name"] for v in spec["volumes"] if "hostPath" in v}
    for mount in spec["containers"][0]["volumeMounts"]:
        if mount["name"] in host:
            mount["readOnly"] = False


def writable_root(spec: dict[str, Any]) -> None:
    spec["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False


def nfs_volume(spec: dict[str, Any]) -> None:
    spec["volumes"].append({"name": "shared", "nfs": {"server": "10.0.0.5", "path": "/exports"}})


PROFILE_LABEL = "secureai.dev/profile"
POLICY = "pod-security-ai-data-security"
PROFILE = "security profile 'ai-data-security': "
VIOLATIONS: dict[str, tuple[Mutation, str]] = {
    "host path outside the prefix": (host_path("/etc"), "hostPath volumes must be under: /data/ai"),
    "host path prefix without a separator": (
        host_path("/data/ai-other"),
        "hostPath volumes must be under: /data/ai",
    ),
    "host path mounted writable": (
        writable_host_mount,
        "hostPath volumes under /data/ai must be mounted readOnly: true",
    ),
    "writable root filesystem": (
        writable_root,
        "every container must set securityContext.readOnlyRootFilesystem: true",
    ),
    "volume type not allowed": (
        nfs_volume,
        "volume types must be one of: configMap, emptyDir, projected, secret",
    ),
}


@pytest.fixture(scope="module")
def profiled(
    control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    """Seed 001 applied for real; its policy is in force when this returns."""
    kube = control_plane.client()
    objects = rendered(
        compiled_at(SPECS / "001-pod-security.yaml", control_plane.minor, tmp_path_factory.mktemp("001"))
    )
    apply_all(kube, objects)
    reader = workload_named(objects, "ai-data-reader")
    outside = probe_pod(reader, "policy-probe", host_path("/etc"))
    # The policy and binding reach the admission plugin through an informer: wait until enforced.
    kube.wait_for(
        f"{POLICY} to be enforced",
        lambda: denied_by_policy(
            kube.create(outside, dry_run=True), POLICY, "hostPath volumes must be under"
        ),
        timeout=30,
    )
    yield objects
    remove_all(kube, objects)


@pytest.mark.parametrize("case", list(VIOLATIONS))
def test_profile_violations_are_rejected_by_the_generated_policy(
    kube: KubeClient, profiled: list[tuple[str, str, dict[str, Any]]], case: str
) -> None:
    mutate, message = VIOLATIONS[case]
    reader = workload_named(profiled, "ai-data-reader")
    reply = kube.create(probe_pod(reader, "violator", mutate))
    assert denied_by_policy(reply, POLICY, PROFILE + message), f"HTTP {reply.status}: {reply.message}"
    assert not kube.get("v1", "Pod", "violator", reader["metadata"]["namespace"]).ok


def test_a_host_path_escaping_the_prefix_is_invalid_before_admission(
    kube: KubeClient, profiled: list[tuple[str, str, dict[str, Any]]]
) -> None:
    """The policy refuses `..` too (tests/test_compile_cel.py); the server's own validation
    already does, before any admission plugin runs."""
    reader = workload_named(profiled, "ai-data-reader")
    reply = kube.create(probe_pod(reader, "escaper", host_path("/data/ai/../../etc")), dry_run=True)
    assert reply.status == 422, f"HTTP {reply.status}: {reply.message}"
    assert "hostPath.path: Invalid value: \"/data/ai/../../etc\": must not contain '..'" in reply.message


def test_compliant_profiled_pods_are_admitted_and_roll_out(
    kube: KubeClient, profiled: list[tuple[str, str, dict[str, Any]]]
) -> None:
    reader = workload_named(profiled, "ai-data-reader")
    namespace = reader["metadata"]["namespace"]
    reply = kube.create(probe_pod(reader, "compliant"))
    assert reply.ok, f"HTTP {reply.status}: {reply.message}"
    kube.delete("v1", "Pod", "compliant", namespace)

    def available() -> bool:
        status = kube.get("apps/v1", "Deployment", "ai-data-reader", namespace).body.get("status", {})
        return bool(status.get("availableReplicas")) and status.get("availableReplicas") == status.get(
            "replicas"
        )

    kube.wait_for("Deployment ai-data-reader available", available)


def test_the_policy_binds_only_its_namespace(
    kube: KubeClient, profiled: list[tuple[str, str, dict[str, Any]]]
) -> None:
    """The same violating pod in a namespace the profile does not cover is not this policy's to judge."""
    kube.apply_ok({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "secureai-unbound"}})
    reader = workload_named(profiled, "ai-data-reader")
    pod = probe_pod(reader, "elsewhere", writable_root)
    pod["metadata"]["namespace"] = "secureai-unbound"
    pod["spec"]["serviceAccountName"] = "default"
    kube.wait_for(
        "ServiceAccount secureai-unbound/default",
        lambda: kube.get("v1", "ServiceAccount", "default", "secureai-unbound").ok,
    )
    reply = kube.create(pod, dry_run=True)
    assert reply.ok, f"HTTP {reply.status}: {reply.message}"


# ----------------------------------------------------------------------------- Pod Security


def privileged(spec: dict[str, Any]) -> None:
    spec["containers"][0]["securityContext"]["privileged"] = True
    spec["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True  # the API requires both


def root_user(spec: dict[str, Any]) -> None:
    spec["securityContext"]["runAsNonRoot"] = False
    spec["containers"][0]["securityContext"].pop("runAsNonRoot", None)
    spec["securityContext"]["runAsUser"] = 0


def escalation(spec: dict[str, Any]) -> None:
    spec["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True


def host_network(spec: dict[str, Any]) -> None:
    spec["hostNetwork"] = True


PSS_VIOLATIONS: dict[str, tuple[Mutation, str]] = {
    "privileged": (
        privileged,
        'privileged (container "trainer" must not set securityContext.privileged=true)',
    ),
    "root": (root_user, "runAsUser=0"),
    "privilege escalation": (escalation, "allowPrivilegeEscalation != false"),
    "host network": (host_network, "host namespaces (hostNetwork=true)"),
}


@pytest.fixture(scope="module")
def restricted(
    control_plane: ControlPlane, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
    kube = control_plane.client()
    objects = rendered(
        compiled_at(SPECS / "004-model-parameters.yaml", control_plane.minor, tmp_path_factory.mktemp("004"))
    )
    apply_all(kube, objects)
    yield objects
    remove_all(kube, objects)


@pytest.mark.parametrize("case", list(PSS_VIOLATIONS))
def test_pod_security_level_is_enforced_by_the_api_server(
    control_plane: ControlPlane,
    kube: KubeClient,
    restricted: list[tuple[str, str, dict[str, Any]]],
    case: str,
) -> None:
    mutate, detail = PSS_VIOLATIONS[case]
    trainer = workload_named(restricted, "trainer")
    reply = kube.create(probe_pod(trainer, "pss-violator", mutate), dry_run=True)
    level = f'violates PodSecurity "restricted:v{control_plane.minor}"'
    assert reply.status == 403 and level in reply.message and detail in reply.message, (
        f"HTTP {reply.status}: {reply.message}"
    )


def test_compliant_pod_is_admitted_at_restricted_and_the_job_completes(
    kube: KubeClient, restricted: list[tuple[str, str, dict[str, Any]]]
) -> None:
    trainer = workload_named(restricted, "trainer")
    namespace = trainer["metadata"]["namespace"]
    reply = kube.create(probe_pod(trainer, "pss-compliant"), dry_run=True)
    assert reply.ok, f"HTTP {reply.status}: {reply.message}"

    def completed() -> bool:
        return kube.get("batch/v1", "Job", "trainer", namespace).body.get("status", {}).get("succeeded") == 1

    # kwok completes the Job's pod at once; the Job controller may take minutes to see it on a
    # loaded 2-core machine (60 s was too little there), as namespace deletion may.
    kube.wait_for("Job trainer complete", completed, timeout=CONTROLLER_TIMEOUT)


def test_rendered_pod_templates_of_every_example_are_admitted_as_pods(
    control_plane: ControlPlane, kube: KubeClient, operator_apis: object, tmp_path: Path
) -> None:
    """Each workload's pod, exactly as its controller would create it, passes Pod Security and
    its profile's policy for real (the policies are applied, not dry-run). Each spec's policies
    are removed before the next spec: two examples share a namespace name."""
    failures = []
    for spec in sorted(SPECS.glob("*.yaml")):
        compiled = compiled_at(spec, control_plane.minor, tmp_path / spec.stem)
        objects = rendered(compiled)
        kept = [o for o in objects if existing(kube, o[2])]  # another test's: left in place
        provide_cluster_objects(kube, objects)
        apply_all(kube, [o for o in objects if o[2]["kind"] not in WORKLOAD_KINDS | {"Service"}])
        for name, _, manifest in objects:
            if manifest["kind"] in WORKLOAD_KINDS:
                profile = template_of(manifest)["metadata"].get("labels", {}).get(PROFILE_LABEL)
                rules = compiled.spec.security_profiles.get(profile or "") or SecurityProfile()
                if profile and rules.read_only_root_filesystem:
                    # Admitted must mean admitted by a policy in force, not by one still loading.
                    probe = probe_pod(manifest, "enforced-probe", writable_root)
                    kube.wait_for(
                        f"the policy of profile {profile}",
                        lambda p=probe: not kube.create(p, dry_run=True).ok,
                    )
                reply = kube.create(
                    probe_pod(manifest, f"probe-{manifest['metadata']['name']}"), dry_run=True
                )
                if not reply.ok:
                    failures.append(f"{spec.name} {name}: HTTP {reply.status}: {reply.message}")
        remove_all(
            kube, [o for o in objects if o not in kept and o[2]["kind"] not in WORKLOAD_KINDS | {"Service"}]
        )
    assert failures == [], "\n".join(failures)


def existing(kube: KubeClient, manifest: dict[str, Any]) -> bool:
    if not_served(manifest):
        return False
    meta = manifest["metadata"]
    return kube.get(manifest["apiVersion"], manifest["kind"], meta["name"], meta.get("namespace")).ok


# ----------------------------------------------------------------------------- profile gate


def gate_of(objects: list[tuple[str, str, dict[str, Any]]]) -> str:
    (name,) = [
        m["metadata"]["name"]
        for _, _, m in objects
        if m["kind"] == "ValidatingAdmissionPolicy" and m["metadata"]["name"].endswith(".profile-gate")
    ]
    return name


GATE_MESSAGE = (
    "pods must carry the label secureai.dev/profile naming a security profile allowed in their namespace"
)


def relabel(pod: dict[str, Any], profile: str | None) -> dict[str, Any]:
    labels = pod["metadata"]["labels"]
    labels.pop(PROFILE_LABEL, None)
    if profile is not None:
        labels[PROFILE_LABEL] = profile
    return pod


def unlabeled_host_escape(spec: dict[str, Any]) -> None:
    """What issue 8 feared: no label, so no profile policy, in a `privileged` namespace."""
    host_path("/etc")(spec)
    writable_host_mount(spec)
    writable_root(spec)
    spec["containers"][0]["securityContext"]["privileged"] = True
    spec["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    spec["hostNetwork"] = True


@pytest.mark.parametrize(
    ("case", "profile", "mutate"),
    [
        ("no profile label", None, None),
        ("no profile label, breaking every rule", None, unlabeled_host_escape),
        ("a profile that does not exist", "anything-goes", None),
    ],
)
def test_the_profile_gate_rejects_pods_without_an_allowed_profile(
    kube: KubeClient,
    profiled: list[tuple[str, str, dict[str, Any]]],
    case: str,
    profile: str | None,
    mutate: Mutation | None,
) -> None:
    reader = workload_named(profiled, "ai-data-reader")
    pod = relabel(probe_pod(reader, "gate-probe", mutate), profile)
    reply = kube.create(pod, dry_run=True)
    message = f"{GATE_MESSAGE} (sensitive-ai: ai-data-security)"
    assert denied_by_policy(reply, gate_of(profiled), message), (
        f"{case}: HTTP {reply.status}: {reply.message}"
    )


def test_the_profile_gate_rejects_a_profile_from_another_namespace(
    control_plane: ControlPlane, kube: KubeClient, tmp_path: Path
) -> None:
    """ai-platform: `ai-data-security` is ai-data-pipeline's profile, `ml-workload` ml-workloads'.
    A pod in ml-workloads that claims ai-data-security (whose policy binds only ai-data-pipeline,
    so it would check nothing here) is refused by the gate."""
    objects = rendered(compiled_at(SPECS / "ai-platform.yaml", control_plane.minor, tmp_path))
    apply_all(kube, [o for o in objects if o[2]["kind"] not in WORKLOAD_KINDS | {"Service"}])
    try:
        scorer = workload_named(objects, "batch-scorer")
        own = probe_pod(scorer, "own-profile")
        gate = gate_of(objects)
        foreign = relabel(probe_pod(scorer, "foreign-profile"), "ai-data-security")
        kube.wait_for(f"{gate} to be enforced", lambda: not kube.create(foreign, dry_run=True).ok, timeout=30)
        reply = kube.create(foreign, dry_run=True)
        assert denied_by_policy(reply, gate, GATE_MESSAGE), f"HTTP {reply.status}: {reply.message}"
        allowed = "(ai-data-pipeline: secureai-default, ai-data-security; ml-workloads: ml-workload)"
        assert f"{GATE_MESSAGE} {allowed}" in reply.message
        reply = kube.create(own, dry_run=True)
        assert reply.ok, f"HTTP {reply.status}: {reply.message}"
    finally:
        remove_all(kube, [o for o in objects if o[2]["kind"] not in WORKLOAD_KINDS | {"Service"}])
