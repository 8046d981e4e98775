"""What the target Kubernetes version can and cannot do for this spec."""

from __future__ import annotations

from secureai.diagnostics import Diagnostic, warning
from secureai.model.spec import Spec
from secureai.model.versions import PSA_ENABLED, PSP_REMOVED, VAP_BETA, VAP_GA


def check_target(spec: Spec) -> list[Diagnostic]:
    return [*_pod_security_admission(spec), *_profile_enforcement(spec)]


def _pod_security_admission(spec: Spec) -> list[Diagnostic]:
    if spec.minor >= PSA_ENABLED:
        return []
    return [
        warning(
            "SA143",
            f"namespace '{name}' asks for the {ns.pod_security} Pod Security Standard, but Kubernetes "
            f"{spec.kubernetes.version} has no Pod Security Admission to enforce its labels",
            ("namespaces", name, "podSecurity"),
            hint="the generated PodSecurityPolicies still enforce the security profiles; "
            "target 1.23 or later for namespace levels",
        )
        for name, ns in spec.namespaces.items()
        if ns.pod_security != "privileged"
    ]


def _profile_enforcement(spec: Spec) -> list[Diagnostic]:
    minor = spec.minor
    if not spec.security_profiles:
        return []
    if PSP_REMOVED <= minor < VAP_BETA:
        return [
            warning(
                "SA141",
                f"Kubernetes {spec.kubernetes.version} has neither PodSecurityPolicy nor "
                "ValidatingAdmissionPolicy: profile rules beyond Pod Security Admission (volume "
                "allow-list, host path prefixes) are applied to the generated pods but not enforced "
                "by the cluster",
                ("kubernetes", "version"),
                hint="target 1.28 or later for enforcement",
            )
        ]
    if VAP_BETA <= minor < VAP_GA:
        return [
            warning(
                "SA142",
                f"Kubernetes {spec.kubernetes.version} serves ValidatingAdmissionPolicy as "
                "v1beta1 only when the cluster enables it",
                ("kubernetes", "version"),
                hint="enable the admissionregistration.k8s.io/v1beta1 API and the "
                "ValidatingAdmissionPolicy feature gate, or target 1.30+",
            )
        ]
    return []
