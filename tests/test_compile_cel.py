"""The CEL of every generated ValidatingAdmissionPolicy, evaluated with cel-python.

A compliant pod passes every validation; for each rule, a pod that breaks just that rule fails
just that rule. The pods are the compiled pod templates themselves (as the API server would
see them, with the API token volume injected where the pod automounts one).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import celpy
import pytest

from secureai.compile.build import compile_spec
from secureai.compile.kubernetes.cel import Rule, profile_rules
from secureai.compile.kubernetes.workloads import pod_labels
from secureai.compile.plan import Plan
from secureai.model.spec import SecurityProfile, Spec
from secureai.pipeline import compile_path

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
ENV = celpy.Environment()

Pod = dict[str, Any]


def evaluate(expression: str, pod: Pod, namespace: str = "ml") -> bool:
    program = ENV.program(ENV.compile(expression))
    request = {"namespace": namespace, "operation": "CREATE"}
    result = program.evaluate({"object": celpy.json_to_cel(pod), "request": celpy.json_to_cel(request)})
    assert isinstance(result, celpy.celtypes.BoolType), f"{expression!r} -> {result!r}"
    return bool(result)


def failing(validations: list[dict[str, Any]], pod: Pod) -> list[str]:
    return [v["message"] for v in validations if not evaluate(v["expression"], pod)]


def as_admitted(template: dict[str, Any]) -> Pod:
    """The pod the API server validates: the template, plus the API token volume it injects."""
    pod: Pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": copy.deepcopy(template["metadata"]),
        "spec": copy.deepcopy(template["spec"]),
    }
    if pod["spec"].get("automountServiceAccountToken"):
        pod["spec"].setdefault("volumes", []).append(
            {
                "name": "kube-api-access-x",
                "projected": {
                    "sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}]
                },
            }
        )
        for c in pod["spec"]["containers"]:
            c.setdefault("volumeMounts", []).append(
                {
                    "name": "kube-api-access-x",
                    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                    "readOnly": True,
                }
            )
    return pod


def namespaced_templates(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    """(namespace, pod template) of every workload in the plan."""
    out = []
    for r in plan.of_provider("kubernetes"):
        kind, namespace = r.properties["kind"], r.properties["metadata"].get("namespace", "")
        if kind == "Pod":
            out.append((namespace, {"metadata": r.properties["metadata"], "spec": r.properties["spec"]}))
        elif kind == "CronJob":
            out.append((namespace, r.properties["spec"]["jobTemplate"]["spec"]["template"]))
        elif kind in ("Deployment", "StatefulSet", "Job"):
            out.append((namespace, r.properties["spec"]["template"]))
    return out


def templates(plan: Plan) -> list[dict[str, Any]]:
    return [t for _, t in namespaced_templates(plan)]


def at_version(spec: Spec, version: str) -> Spec:
    return spec.model_copy(update={"kubernetes": spec.kubernetes.model_copy(update={"version": version})})


# ----------------------------------------------------------------------------- every example


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A LabelSelector as the API server applies it (the operators secureai emits)."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for e in selector.get("matchExpressions", []):
        if e["operator"] == "In" and labels.get(e["key"]) not in e["values"]:
            return False
        if e["operator"] == "NotIn" and labels.get(e["key"]) in e["values"]:
            return False
    return True


def admission(plan: Plan, pod: Pod, namespace: str) -> list[str]:
    """What the API server's admission policies say about `pod` created in `namespace`:
    every binding whose selectors match, its policy's failing messages (empty: admitted)."""
    policies = {
        r.properties["metadata"]["name"]: r.properties
        for r in plan.resources
        if r.properties.get("kind") == "ValidatingAdmissionPolicy"
    }
    failed: list[str] = []
    for r in plan.resources:
        if r.properties.get("kind") != "ValidatingAdmissionPolicyBinding":
            continue
        match = r.properties["spec"]["matchResources"]
        if not _selects(match.get("namespaceSelector", {}), {"kubernetes.io/metadata.name": namespace}):
            continue
        if not _selects(match.get("objectSelector", {}), pod["metadata"].get("labels", {})):
            continue
        policy = policies[r.properties["spec"]["policyName"]]
        failed += [
            v["message"]
            for v in policy["spec"]["validations"]
            if not evaluate(v["expression"], pod, namespace)
        ]
    return failed


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_example_pods_pass_their_profile_policies(path: Path) -> None:
    result = compile_path(path, {})
    assert result.value is not None
    result_130 = compile_spec(at_version(result.value.spec, "1.30"))
    assert result_130.value is not None
    plan = result_130.value
    for namespace, template in namespaced_templates(plan):
        assert admission(plan, as_admitted(template), namespace) == []


# ----------------------------------------------------------------------------- one profile, every rule


PROFILE = SecurityProfile(
    volumes=["configMap", "emptyDir", "projected", "secret", "hostPath"],
    allowed_host_paths=[
        {"path_prefix": "/data/ai", "read_only": True},
        {"path_prefix": "/scratch/", "read_only": False},
    ],
    allowed_capabilities=["NET_BIND_SERVICE"],
)


def _spec() -> Spec:
    return Spec(
        version=1,
        project="demo",
        kubernetes={"version": "1.30"},
        namespaces={"ml": {"pod_security": "privileged"}},
        security_profiles={"p": PROFILE},
        workloads={
            "w": {
                "namespace": "ml",
                "image": "ghcr.io/acme/x:1.0",
                "security_profile": "p",
                "run_as_user": 10001,
                "volumes": {
                    "data": {"mount_path": "/data", "host_path": "/data/ai/sets"},
                    "work": {"mount_path": "/work", "host_path": "/scratch/w", "read_only": False},
                },
            }
        },
    )


@pytest.fixture(scope="module")
def compliant() -> tuple[list[dict[str, Any]], Pod]:
    plan = compile_spec(_spec()).value
    assert plan is not None
    (policy,) = [
        r.properties
        for r in plan.resources
        if r.properties["kind"] == "ValidatingAdmissionPolicy"
        and r.properties["metadata"]["name"] == "demo-p"
    ]
    (template,) = templates(plan)
    pod = as_admitted(template)
    # An init container as hardened as the main one, so init rules are exercised.
    init = copy.deepcopy(pod["spec"]["containers"][0]) | {"name": "init"}
    pod["spec"]["initContainers"] = [init]
    return policy["spec"]["validations"], pod


def test_rule_ids_match_validations(compliant: tuple[list[dict[str, Any]], Pod]) -> None:
    validations, _ = compliant
    rules = profile_rules(PROFILE, "p")
    assert [r.expression for r in rules] == [v["expression"] for v in validations]


def test_compliant_pod_is_admitted(compliant: tuple[list[dict[str, Any]], Pod]) -> None:
    validations, pod = compliant
    assert failing(validations, pod) == []
    assert pod["metadata"]["labels"] == pod_labels("w", _spec().workloads["w"])


def _main(pod: Pod) -> dict[str, Any]:
    return pod["spec"]["containers"][0]  # type: ignore[no-any-return]


def _init(pod: Pod) -> dict[str, Any]:
    return pod["spec"]["initContainers"][0]  # type: ignore[no-any-return]


def _add_volume(
    volume: dict[str, Any], read_only: bool = True, where: Callable[[Pod], dict[str, Any]] = _main
) -> Callable[[Pod], None]:
    def mutate(pod: Pod) -> None:
        pod["spec"]["volumes"].append(volume)
        where(pod).setdefault("volumeMounts", []).append(
            {"name": volume["name"], "mountPath": "/v", "readOnly": read_only}
        )

    return mutate


def _set(getter: Callable[[Pod], dict[str, Any]], *path: str, value: Any) -> Callable[[Pod], None]:
    def mutate(pod: Pod) -> None:
        target = getter(pod)
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value

    return mutate


def _drop(getter: Callable[[Pod], dict[str, Any]], *path: str) -> Callable[[Pod], None]:
    def mutate(pod: Pod) -> None:
        target = getter(pod)
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return mutate


def _spec_of(pod: Pod) -> dict[str, Any]:
    return pod["spec"]  # type: ignore[no-any-return]


VIOLATIONS: dict[str, tuple[str, Callable[[Pod], None]]] = {
    "nfs volume": ("volumes", _add_volume({"name": "n", "nfs": {"server": "nfs", "path": "/x"}})),
    "hostPath outside prefixes": ("hostPathPrefix", _add_volume({"name": "h", "hostPath": {"path": "/etc"}})),
    "hostPath prefix look-alike": (
        "hostPathPrefix",
        _add_volume({"name": "h", "hostPath": {"path": "/data/aix"}}),
    ),
    "hostPath climbing out": (
        "hostPathPrefix",
        _add_volume({"name": "h", "hostPath": {"path": "/data/ai/../../etc"}}),
    ),
    "hostPath writable": (
        "hostPathReadOnly",
        _add_volume({"name": "h", "hostPath": {"path": "/data/ai"}}, read_only=False),
    ),
    "hostPath writable in init": (
        "hostPathReadOnly",
        _add_volume({"name": "h", "hostPath": {"path": "/data/ai/x"}}, False, _init),
    ),
    "existing hostPath made writable": (
        "hostPathReadOnly",
        _set(lambda p: _main(p)["volumeMounts"][0], "readOnly", value=False),
    ),
    "writable root": (
        "readOnlyRootFilesystem",
        _set(_main, "securityContext", "readOnlyRootFilesystem", value=False),
    ),
    "writable root in init": (
        "readOnlyRootFilesystem",
        _drop(_init, "securityContext", "readOnlyRootFilesystem"),
    ),
    "ephemeral container without context": (
        "readOnlyRootFilesystem",
        _set(
            _spec_of,
            "ephemeralContainers",
            value=[
                {
                    "name": "debug",
                    "image": "busybox:1.36",
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                        "runAsNonRoot": True,
                    },
                }
            ],
        ),
    ),
    "privileged": ("privileged", _set(_main, "securityContext", "privileged", value=True)),
    "escalation": (
        "allowPrivilegeEscalation",
        _set(_main, "securityContext", "allowPrivilegeEscalation", value=True),
    ),
    "escalation unset in init": (
        "allowPrivilegeEscalation",
        _drop(_init, "securityContext", "allowPrivilegeEscalation"),
    ),
    "host network": ("hostNamespaces", _set(_spec_of, "hostNetwork", value=True)),
    "host PID": ("hostNamespaces", _set(_spec_of, "hostPID", value=True)),
    "no drop ALL": ("dropAll", _set(_main, "securityContext", "capabilities", "drop", value=["NET_RAW"])),
    "extra capability": (
        "capabilities",
        _set(_init, "securityContext", "capabilities", "add", value=["SYS_ADMIN"]),
    ),
    "root allowed by container": (
        "runAsNonRoot",
        _set(_main, "securityContext", "runAsNonRoot", value=False),
    ),
    "root allowed by pod": (
        "runAsNonRoot",
        lambda pod: (
            _spec_of(pod)["securityContext"].pop("runAsNonRoot"),
            _init(pod)["securityContext"].pop("runAsNonRoot"),
        ),
    ),
    "unconfined seccomp": (
        "seccomp",
        _set(_spec_of, "securityContext", "seccompProfile", value={"type": "Unconfined"}),
    ),
    "unconfined container": (
        "seccomp",
        _set(_main, "securityContext", "seccompProfile", value={"type": "Unconfined"}),
    ),
}


@pytest.mark.parametrize("case", sorted(VIOLATIONS))
def test_each_violation_fails_exactly_its_rule(
    case: str, compliant: tuple[list[dict[str, Any]], Pod]
) -> None:
    validations, pod = compliant
    rule_id, mutate = VIOLATIONS[case]
    bad = copy.deepcopy(pod)
    mutate(bad)
    ids = [r.id for r in profile_rules(PROFILE, "p")]
    failed = [ids[i] for i, v in enumerate(validations) if not evaluate(v["expression"], bad)]
    assert failed == [rule_id]


def test_every_rule_has_a_violation_case() -> None:
    assert {r.id for r in profile_rules(PROFILE, "p")} == {rule for rule, _ in VIOLATIONS.values()}


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (_add_volume({"name": "s", "hostPath": {"path": "/scratch/x"}}, read_only=False), "writable prefix"),
        (
            _add_volume({"name": "s", "hostPath": {"path": "/data/ai"}}, read_only=True),
            "the prefix itself, read-only",
        ),
        (
            _set(_main, "securityContext", "capabilities", "add", value=["NET_BIND_SERVICE"]),
            "an allowed capability",
        ),
        (_drop(_main, "securityContext", "runAsNonRoot"), "pod-level runAsNonRoot covers the container"),
    ],
)
def test_allowed_variations_are_admitted(
    mutate: Callable[[Pod], None], why: str, compliant: tuple[list[dict[str, Any]], Pod]
) -> None:
    validations, pod = compliant
    ok = copy.deepcopy(pod)
    mutate(ok)
    assert failing(validations, ok) == [], why


def test_profile_without_host_paths_denies_every_host_path() -> None:
    rules = {r.id: r for r in profile_rules(SecurityProfile(volumes=["hostPath"]), "p")}
    pod: Pod = {
        "spec": {"containers": [{"name": "c"}], "volumes": [{"name": "h", "hostPath": {"path": "/data"}}]}
    }
    assert evaluate(rules["volumes"].expression, pod)
    assert not evaluate(rules["hostPathPrefix"].expression, pod)
    assert "hostPathReadOnly" not in rules


def test_quotes_in_prefixes_stay_literal() -> None:
    rules = {
        r.id: r
        for r in profile_rules(
            SecurityProfile(
                volumes=["hostPath"], allowed_host_paths=[{"path_prefix": "/it's", "read_only": False}]
            ),
            "p",
        )
    }
    inside: Pod = {
        "spec": {"containers": [{"name": "c"}], "volumes": [{"name": "h", "hostPath": {"path": "/it's/x"}}]}
    }
    assert evaluate(rules["hostPathPrefix"].expression, inside)


# ----------------------------------------------------------------------------- no way around a profile


def _gated_spec() -> Spec:
    """Profile p in namespace ml, profile q in namespace other; `plain` uses no profile."""
    image = "ghcr.io/acme/x:1.0"
    return Spec(
        version=1,
        project="demo",
        kubernetes={"version": "1.30"},
        namespaces={n: {"pod_security": "privileged"} for n in ("ml", "other", "plain")},
        security_profiles={"p": PROFILE, "q": SecurityProfile(privileged=True, host_network=True)},
        workloads={
            "w": {"namespace": "ml", "image": image, "security_profile": "p", "run_as_user": 10001},
            "v": {"namespace": "other", "image": image, "security_profile": "q", "run_as_user": 10001},
            "u": {"namespace": "ml", "image": image, "run_as_user": 10001},
            "x": {"namespace": "plain", "image": image, "run_as_user": 10001},
        },
    )


@pytest.fixture(scope="module")
def gated() -> tuple[Plan, dict[str, Pod]]:
    plan = compile_spec(_gated_spec()).value
    assert plan is not None
    pods = {t["metadata"]["labels"]["app.kubernetes.io/name"]: as_admitted(t) for t in templates(plan)}
    return plan, pods


GATE_MESSAGE = (
    "pods must carry the label secureai.dev/profile naming a security profile allowed in their "
    "namespace (ml: secureai-default, p; other: q)"
)


def _privileged(pod: Pod) -> Pod:
    pod = copy.deepcopy(pod)
    pod["spec"]["hostNetwork"] = True
    pod["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    pod["spec"]["volumes"] = [{"name": "root", "hostPath": {"path": "/"}}]
    return pod


@pytest.mark.parametrize(
    ("case", "labels"),
    [
        ("no label", {"app": "mine"}),
        ("no labels at all", None),
        ("another namespace's profile", {"secureai.dev/profile": "q"}),
        ("a profile the spec does not have", {"secureai.dev/profile": "anything"}),
        ("an empty profile label", {"secureai.dev/profile": ""}),
    ],
)
def test_pod_without_an_allowed_profile_is_denied(
    case: str, labels: dict[str, str] | None, gated: tuple[Plan, dict[str, Pod]]
) -> None:
    """A pod secureai did not render, created straight into a namespace that uses profiles."""
    plan, pods = gated
    pod = _privileged(pods["w"])
    if labels is None:
        del pod["metadata"]["labels"]
    else:
        pod["metadata"]["labels"] = labels
    assert admission(plan, pod, "ml") == [GATE_MESSAGE], case


def test_profile_label_brings_the_profile_rules(gated: tuple[Plan, dict[str, Pod]]) -> None:
    plan, pods = gated
    failed = admission(plan, _privileged(pods["w"]), "ml")
    assert GATE_MESSAGE not in failed
    assert "security profile 'p': privileged containers are not allowed" in failed
    assert "security profile 'p': hostNetwork, hostPID, hostIPC must not be true" in failed


@pytest.mark.parametrize(("workload", "namespace"), [("w", "ml"), ("u", "ml"), ("v", "other")])
def test_compliant_pods_are_admitted(
    workload: str, namespace: str, gated: tuple[Plan, dict[str, Pod]]
) -> None:
    plan, pods = gated
    assert admission(plan, pods[workload], namespace) == []


def test_profile_of_its_own_namespace_is_admitted_there(gated: tuple[Plan, dict[str, Pod]]) -> None:
    plan, pods = gated
    pod = pods["v"]  # labelled q, and privileged as q allows
    assert pod["metadata"]["labels"]["secureai.dev/profile"] == "q"
    assert pod["spec"]["containers"][0]["securityContext"]["privileged"] is True
    assert admission(plan, pod, "other") == []
    assert admission(plan, pod, "ml") == [GATE_MESSAGE]


def test_unprofiled_workload_in_a_profile_namespace_runs_under_the_default(
    gated: tuple[Plan, dict[str, Pod]],
) -> None:
    _, pods = gated
    assert pods["u"]["metadata"]["labels"]["secureai.dev/profile"] == "secureai-default"
    assert "secureai.dev/profile" not in pods["x"]["metadata"]["labels"]


def test_namespace_without_profiles_is_left_to_pod_security_admission(
    gated: tuple[Plan, dict[str, Pod]],
) -> None:
    plan, pods = gated
    assert admission(plan, _privileged(pods["x"]), "plain") == []


def test_gate_is_bound_to_every_pod_of_the_profile_namespaces(gated: tuple[Plan, dict[str, Pod]]) -> None:
    plan, _ = gated
    (binding,) = [
        r.properties
        for r in plan.resources
        if r.properties["kind"] == "ValidatingAdmissionPolicyBinding"
        and r.properties["metadata"]["name"] == "demo.profile-gate"
    ]
    assert binding["spec"]["matchResources"] == {
        "namespaceSelector": {
            "matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["ml", "other"]}
            ]
        }
    }
    assert binding["spec"]["validationActions"] == ["Deny"]


# ----------------------------------------------------------------------------- Localhost seccomp


def _seccomp_rule(profile: SecurityProfile) -> Rule:
    (rule,) = [r for r in profile_rules(profile, "lh") if r.id == "seccomp"]
    return rule


def _seccomp_pod(pod_level: dict[str, Any] | None, container: dict[str, Any] | None) -> Pod:
    c: dict[str, Any] = {"name": "c", "securityContext": {}}
    if container is not None:
        c["securityContext"]["seccompProfile"] = container
    spec: dict[str, Any] = {"containers": [c], "securityContext": {}}
    if pod_level is not None:
        spec["securityContext"]["seccompProfile"] = pod_level
    return {"metadata": {}, "spec": spec}


LOCALHOST = SecurityProfile(seccomp_profile="Localhost", seccomp_localhost_profile="profiles/ml.json")
OURS = {"type": "Localhost", "localhostProfile": "profiles/ml.json"}


@pytest.mark.parametrize(
    ("pod_level", "container", "admitted"),
    [
        (OURS, None, True),
        (None, OURS, True),
        (OURS, OURS, True),
        ({"type": "Localhost", "localhostProfile": "profiles/other.json"}, None, False),
        ({"type": "Localhost", "localhostProfile": "../unconfined.json"}, None, False),
        ({"type": "Localhost"}, None, False),
        (OURS, {"type": "Localhost", "localhostProfile": "permissive.json"}, False),
        (OURS, {"type": "RuntimeDefault"}, False),
        ({"type": "RuntimeDefault"}, None, False),
    ],
)
def test_localhost_seccomp_file_is_pinned(
    pod_level: dict[str, Any] | None, container: dict[str, Any] | None, admitted: bool
) -> None:
    rule = _seccomp_rule(LOCALHOST)
    assert evaluate(rule.expression, _seccomp_pod(pod_level, container)) is admitted
    assert rule.message == "the seccomp profile must be Localhost with localhostProfile profiles/ml.json"


def test_localhost_default_file_is_named_after_the_profile() -> None:
    rule = _seccomp_rule(SecurityProfile(seccomp_profile="Localhost"))
    ours = {"type": "Localhost", "localhostProfile": "secureai/lh.json"}
    assert evaluate(rule.expression, _seccomp_pod(ours, None))
    assert not evaluate(rule.expression, _seccomp_pod(OURS, None))
