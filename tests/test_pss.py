"""Pod Security Standards: compiled pods against their namespace's level, positioned in the spec."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from secureai.compile.build import compile_spec
from secureai.compile.plan import Plan, Resource
from secureai.compile.pss import check_pod_security
from secureai.diagnostics import Diagnostic
from secureai.model.spec import Spec
from secureai.pipeline import compile_path

ROOT = Path(__file__).resolve().parent.parent


def spec_with(level: str, profile: dict[str, Any] | None = None, **workload: Any) -> Spec:
    w: dict[str, Any] = {"namespace": "ml", "image": "ghcr.io/acme/x:1.0", "run_as_user": 10001, **workload}
    profiles = {}
    if profile is not None:
        profiles["p"] = profile
        w["security_profile"] = "p"
    return Spec(
        version=1,
        project="demo",
        kubernetes={"version": "1.30"},
        namespaces={"ml": {"pod_security": level}},
        security_profiles=profiles,
        workloads={"w": w},
    )


def findings(spec: Spec) -> list[tuple[str, tuple[Any, ...]]]:
    plan = compile_spec(spec).value
    assert plan is not None
    return [(d.code, d.path) for d in check_pod_security(spec, plan)]


PROFILE_PATH = ("workloads", "w", "securityProfile")


def test_defaults_satisfy_restricted() -> None:
    assert findings(spec_with("restricted")) == []


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ({"privileged": True}, {"SA201", "SA205"}),
        ({"host_network": True}, {"SA202"}),
        ({"host_pid": True, "host_ipc": True}, {"SA202"}),
        ({"allowed_capabilities": ["SYS_ADMIN"]}, {"SA204", "SA205"}),
        ({"allowed_capabilities": ["CHOWN"]}, {"SA204"}),
        ({"allowed_capabilities": ["NET_BIND_SERVICE"]}, set()),
        ({"allow_privilege_escalation": True}, {"SA205"}),
        ({"run_as_non_root": False}, {"SA206"}),
    ],
)
def test_restricted_profile_rules(profile: dict[str, Any], expected: set[str]) -> None:
    found = findings(spec_with("restricted", profile))
    assert {code for code, _ in found} == expected
    assert all(path == PROFILE_PATH for _, path in found)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ({"privileged": True}, {"SA201"}),
        ({"host_network": True}, {"SA202"}),
        ({"allowed_capabilities": ["CHOWN", "NET_RAW"]}, {"SA204"}),  # NET_RAW is not in baseline's list
        ({"allowed_capabilities": ["CHOWN"]}, set()),
        ({"allow_privilege_escalation": True, "run_as_non_root": False}, set()),
    ],
)
def test_baseline_profile_rules(profile: dict[str, Any], expected: set[str]) -> None:
    assert {code for code, _ in findings(spec_with("baseline", profile))} == expected


def test_privileged_namespace_allows_anything() -> None:
    loose = {
        "privileged": True,
        "host_network": True,
        "volumes": ["hostPath"],
        "allowed_host_paths": [{"path_prefix": "/"}],
    }
    spec = spec_with("privileged", loose, volumes={"h": {"mount_path": "/h", "host_path": "/var"}})
    assert findings(spec) == []


def test_host_path_and_volume_types_point_at_the_volume() -> None:
    spec = spec_with(
        "restricted",
        volumes={"h": {"mount_path": "/h", "host_path": "/data"}, "n": {"mount_path": "/n", "secret": "s"}},
    )
    assert findings(spec) == [("SA203", ("workloads", "w", "volumes", "h"))]
    baseline = spec_with("baseline", volumes={"h": {"mount_path": "/h", "host_path": "/data"}})
    assert findings(baseline) == [("SA203", ("workloads", "w", "volumes", "h"))]


def test_run_as_root_points_at_run_as_user() -> None:
    assert findings(spec_with("restricted", run_as_user=0)) == [("SA207", ("workloads", "w", "runAsUser"))]
    assert findings(spec_with("baseline", run_as_user=0)) == []


# ------------------------------------------------------------------ rules secureai never breaks itself


def _plan_with_pod(spec: dict[str, Any], annotations: dict[str, str] | None = None) -> Plan:
    metadata: dict[str, Any] = {"name": "w", "namespace": "ml"}
    if annotations:
        metadata["annotations"] = annotations
    pod = Resource(
        "kubernetes:core/v1:Pod",
        "ml/w",
        {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec},
        source=("workloads", "w"),
    )
    return Plan("demo", "dev", "1.30", (pod,))


HARDENED = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "w",
            "image": "x",
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        }
    ],
}


def _container(**context: Any) -> dict[str, Any]:
    return {
        "name": "w",
        "image": "x",
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, **context},
    }


@pytest.mark.parametrize(
    ("pod", "annotations", "code"),
    [
        (
            {**HARDENED, "containers": [{**_container(), "ports": [{"containerPort": 80, "hostPort": 80}]}]},
            None,
            "SA211",
        ),
        (HARDENED, {"container.apparmor.security.beta.kubernetes.io/w": "unconfined"}, "SA212"),
        ({**HARDENED, "containers": [_container(appArmorProfile={"type": "Unconfined"})]}, None, "SA212"),
        ({**HARDENED, "containers": [_container(seLinuxOptions={"type": "spc_t"})]}, None, "SA213"),
        ({**HARDENED, "containers": [_container(seLinuxOptions={"user": "root"})]}, None, "SA213"),
        ({**HARDENED, "containers": [_container(procMount="Unmasked")]}, None, "SA214"),
        (
            {
                **HARDENED,
                "securityContext": {
                    **HARDENED["securityContext"],
                    "sysctls": [{"name": "kernel.msgmax", "value": "1"}],
                },
            },
            None,
            "SA215",
        ),
        ({**HARDENED, "containers": [_container(windowsOptions={"hostProcess": True})]}, None, "SA216"),
        (
            {**HARDENED, "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "Unconfined"}}},
            None,
            "SA208",
        ),
        (
            {
                **HARDENED,
                "containers": [
                    {"name": "w", "image": "x", "securityContext": {"allowPrivilegeEscalation": False}}
                ],
            },
            None,
            "SA210",
        ),
        ({**HARDENED, "volumes": [{"name": "n", "nfs": {"server": "s", "path": "/"}}]}, None, "SA209"),
        ({**HARDENED, "initContainers": [_container(privileged=True)]}, None, "SA201"),
        ({**HARDENED, "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}, None, "SA206"),
    ],
)
def test_restricted_rules_on_manifests(
    pod: dict[str, Any], annotations: dict[str, str] | None, code: str
) -> None:
    spec = spec_with("restricted")
    assert check_pod_security(spec, _plan_with_pod(HARDENED)) == []
    assert [d.code for d in check_pod_security(spec, _plan_with_pod(pod, annotations))] == [code]


def test_baseline_allows_what_only_restricted_forbids() -> None:
    spec = spec_with("baseline")
    lax = {
        "volumes": [{"name": "n", "nfs": {"server": "s", "path": "/"}}],
        "containers": [{"name": "w", "image": "x", "securityContext": {"runAsUser": 0}}],
    }
    assert check_pod_security(spec, _plan_with_pod(lax)) == []
    unconfined = {**lax, "securityContext": {"seccompProfile": {"type": "Unconfined"}}}
    assert [d.code for d in check_pod_security(spec, _plan_with_pod(unconfined))] == ["SA208"]


# ------------------------------------------------------------------ through the pipeline, positioned


BAD_SPEC = """\
version: 1
project: demo
kubernetes:
  version: "1.30"
namespaces:
  ai-data:
    podSecurity: restricted
securityProfiles:
  wide-open:
    privileged: true
    volumes: [hostPath, emptyDir, projected]
    allowedHostPaths: [{ pathPrefix: /data/ai }]
workloads:
  reader:
    namespace: ai-data
    image: ghcr.io/acme/reader:1.0.0
    securityProfile: wide-open
    runAsUser: 10001
    volumes:
      datasets: { mountPath: /datasets, hostPath: /data/ai/sets }
    resources: { limits: { cpu: "1", memory: 1Gi } }
"""


def _texts(diagnostics: list[Diagnostic], tmp_path: Path) -> list[str]:
    return [d.text().replace(str(tmp_path) + "/", "") for d in diagnostics]


def test_non_compliant_spec_fails_with_positioned_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_SPEC, encoding="utf-8")
    result = compile_path(path, {})
    assert result.value is None
    hint_profile = "  hint: the cluster would reject its pods; change security profile 'wide-open', or lower the namespace's podSecurity level"
    prefix = "workload 'reader' violates the restricted Pod Security Standard of namespace 'ai-data'"
    assert _texts(result.diagnostics, tmp_path) == [
        f"bad.yaml:17:22: error[SA201]: {prefix}: privileged containers are not allowed ('reader')\n{hint_profile}",
        f"bad.yaml:17:22: error[SA205]: {prefix}: containers must set allowPrivilegeEscalation: false ('reader')\n{hint_profile}",
        f"bad.yaml:20:17: error[SA203]: {prefix}: hostPath volume 'datasets' is not allowed\n"
        "  hint: the cluster would reject its pods; mount another volume type, or lower the namespace's podSecurity level",
    ]


def test_the_same_spec_passes_in_a_privileged_namespace(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(BAD_SPEC.replace("podSecurity: restricted", "podSecurity: privileged"), encoding="utf-8")
    result = compile_path(path, {})
    assert result.value is not None and [d for d in result.diagnostics if d.is_error] == []


def test_examples_satisfy_their_namespaces() -> None:
    for path in sorted((ROOT / "specs").glob("*.yaml")):
        result = compile_path(path, {})
        assert result.value is not None, [d.text() for d in result.diagnostics]
        assert check_pod_security(result.value.spec, result.value.plan) == []


def test_positions_point_at_the_cause(tmp_path: Path) -> None:
    text = (
        textwrap.dedent(BAD_SPEC)
        .replace("runAsUser: 10001", "runAsUser: 0")
        .replace("privileged: true", "privileged: false")
    )
    path = tmp_path / "root.yaml"
    path.write_text(text, encoding="utf-8")
    codes = [(d.code, d.position.line if d.position else None) for d in compile_path(path, {}).diagnostics]
    assert ("SA207", 18) in codes and ("SA203", 20) in codes


# ------------------------------------------------------------------ as Pod Security Admission decides


def _pod(context: dict[str, Any], *containers: dict[str, Any]) -> dict[str, Any]:
    return {"securityContext": context, "containers": list(containers or (_container(),))}


RUNTIME = {"type": "RuntimeDefault"}


@pytest.mark.parametrize(
    ("pod", "code"),
    [
        # An explicit Unconfined is rejected at either level, whatever the other level says.
        (
            _pod(
                {"runAsNonRoot": True, "seccompProfile": {"type": "Unconfined"}},
                _container(seccompProfile=RUNTIME),
            ),
            "SA208",
        ),
        (
            _pod(
                {"runAsNonRoot": True, "seccompProfile": RUNTIME},
                _container(seccompProfile={"type": "Unconfined"}),
            ),
            "SA208",
        ),
        (
            {
                **_pod({"runAsNonRoot": True, "seccompProfile": RUNTIME}),
                "initContainers": [_container(seccompProfile={"type": "Unconfined"})],
            },
            "SA208",
        ),
        # A pod-level runAsNonRoot: false is rejected even when every container says true.
        (_pod({"runAsNonRoot": False, "seccompProfile": RUNTIME}, _container(runAsNonRoot=True)), "SA206"),
        (_pod({"runAsNonRoot": True, "seccompProfile": RUNTIME}, _container(runAsNonRoot=False)), "SA206"),
    ],
)
def test_explicit_bad_values_at_either_level_are_rejected(pod: dict[str, Any], code: str) -> None:
    spec = spec_with("restricted")
    assert [d.code for d in check_pod_security(spec, _plan_with_pod(pod))] == [code]


@pytest.mark.parametrize(
    "pod",
    [
        # Containers may carry what the pod leaves out, and override the pod with allowed values.
        _pod({}, _container(runAsNonRoot=True, seccompProfile=RUNTIME)),
        _pod(
            {"runAsNonRoot": True, "seccompProfile": RUNTIME},
            _container(seccompProfile={"type": "Localhost", "localhostProfile": "p.json"}),
        ),
        # Empty values mean "unset" to Pod Security Admission.
        _pod({**HARDENED["securityContext"], "seLinuxOptions": {"user": "", "role": "", "type": ""}}),
        {**HARDENED, "volumes": [{"name": "i", "image": {"reference": "ghcr.io/acme/model:1"}}]},
    ],
)
def test_allowed_values_are_not_flagged(pod: dict[str, Any]) -> None:
    assert check_pod_security(spec_with("restricted"), _plan_with_pod(pod)) == []


def test_empty_app_armor_annotation_is_the_default() -> None:
    plan = _plan_with_pod(HARDENED, {"container.apparmor.security.beta.kubernetes.io/w": ""})
    assert check_pod_security(spec_with("restricted"), plan) == []


def _at(version: str, level: str = "baseline") -> Spec:
    spec = spec_with(level)
    return spec.model_copy(update={"kubernetes": spec.kubernetes.model_copy(update={"version": version})})


@pytest.mark.parametrize(
    ("sysctl", "allowed_from"),
    [
        ("kernel.shm_rmid_forced", 19),
        ("net.ipv4.ip_local_reserved_ports", 27),
        ("net.ipv4.tcp_keepalive_time", 29),
        ("net.ipv4.tcp_rmem", 32),
        ("net.ipv4.tcp_wmem", 32),
    ],
)
def test_safe_sysctls_follow_the_pinned_version(sysctl: str, allowed_from: int) -> None:
    pod = {
        **HARDENED,
        "securityContext": {**HARDENED["securityContext"], "sysctls": [{"name": sysctl, "value": "1"}]},
    }
    for minor in (19, 26, 27, 28, 29, 31, 32, 37):
        codes = [d.code for d in check_pod_security(_at(f"1.{minor}"), _plan_with_pod(pod))]
        assert codes == ([] if minor >= allowed_from else ["SA215"]), minor


def test_container_engine_selinux_type_from_1_31() -> None:
    pod = {**HARDENED, "containers": [_container(seLinuxOptions={"type": "container_engine_t"})]}
    assert [d.code for d in check_pod_security(_at("1.30"), _plan_with_pod(pod))] == ["SA213"]
    assert check_pod_security(_at("1.31"), _plan_with_pod(pod)) == []
