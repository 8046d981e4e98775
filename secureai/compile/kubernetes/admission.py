"""ValidatingAdmissionPolicy + binding per security profile (Kubernetes 1.28 and later).

Pod Security Admission enforces a fixed level per namespace; it cannot say "only these volume
types", "host paths only under /data/ai and read-only" or "read-only root filesystem". The
policy says all of that and repeats the profile's PSA-like rules too: namespace labels can be
changed by whoever may edit the namespace, a cluster-scoped policy cannot.

The binding selects the namespaces whose workloads use the profile, and within them the pods
labelled `secureai.dev/profile: <profile>` (secureai puts that label on the pod templates).
Pods without the label are governed by Pod Security Admission only.
"""

from __future__ import annotations

from secureai.compile.kubernetes.cel import profile_rules
from secureai.compile.kubernetes.common import Manifest, key_of, resource
from secureai.compile.kubernetes.scope import cluster_name, profile_accounts
from secureai.compile.plan import Resource
from secureai.model.labels import NAMESPACE_NAME, PROFILE_LABEL
from secureai.model.spec import SecurityProfile, Spec
from secureai.model.versions import VAP_GA


def admission_api(spec: Spec) -> str:
    version = "v1" if spec.minor >= VAP_GA else "v1beta1"
    return f"admissionregistration.k8s.io/{version}"


def compile_admission(spec: Spec) -> list[Resource]:
    out: list[Resource] = []
    for name, profile in spec.security_profiles.items():
        out.append(_policy(spec, name, profile))
        namespaces = list(profile_accounts(spec, name))
        if namespaces:
            out.append(_binding(spec, name, namespaces))
    return out


def _policy(spec: Spec, name: str, profile: SecurityProfile) -> Resource:
    pods = {
        "apiGroups": [""],
        "apiVersions": ["v1"],
        "operations": ["CREATE", "UPDATE"],
        # Ephemeral (debug) containers arrive through their own subresource.
        "resources": ["pods", "pods/ephemeralcontainers"],
    }
    validations = [
        {
            "expression": r.expression,
            "message": f"security profile '{name}': {r.message}",
            "reason": "Forbidden",
        }
        for r in profile_rules(profile)
    ]
    body: Manifest = {
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [pods]},
            "validations": validations,
        }
    }
    return resource(
        admission_api(spec),
        "ValidatingAdmissionPolicy",
        cluster_name(spec, name),
        None,
        body,
        ("securityProfiles", name),
        logical=name,
    )


def _binding(spec: Spec, name: str, namespaces: list[str]) -> Resource:
    api = admission_api(spec)
    match = {
        "namespaceSelector": {
            "matchExpressions": [{"key": NAMESPACE_NAME, "operator": "In", "values": sorted(namespaces)}]
        },
        "objectSelector": {"matchLabels": {PROFILE_LABEL: name}},
    }
    body = {
        "spec": {
            "policyName": cluster_name(spec, name),
            "validationActions": ["Deny"],
            "matchResources": match,
        }
    }
    return resource(
        api,
        "ValidatingAdmissionPolicyBinding",
        cluster_name(spec, name),
        None,
        body,
        ("securityProfiles", name),
        logical=name,
        depends_on=(key_of(api, "ValidatingAdmissionPolicy", None, name),),
    )
