"""ValidatingAdmissionPolicies that enforce security profiles (Kubernetes 1.28 and later).

Pod Security Admission enforces a fixed level per namespace; it cannot say "only these volume
types", "host paths only under /data/ai and read-only" or "read-only root filesystem". The
policies say all of that and repeat the profile's PSA-like rules too: namespace labels can be
changed by whoever may edit the namespace, a cluster-scoped policy cannot.

Two layers, so that leaving a label out is no way around a profile:
- the *gate* (one policy, bound to every namespace that uses profiles, selecting every pod in
  it) admits a pod only if its `secureai.dev/profile` label names a profile allowed in its
  namespace, whoever created the pod;
- one policy per profile, bound in the namespaces that use it to the pods carrying its label,
  enforces the profile's rules. Since the gate guarantees the label, every pod in those
  namespaces meets the rules of exactly the profile it names.
"""

from __future__ import annotations

from secureai.compile.kubernetes.cel import cel_list, profile_rules
from secureai.compile.kubernetes.common import Manifest, key_of, resource
from secureai.compile.kubernetes.scope import cluster_name, profile_accounts
from secureai.compile.plan import Resource
from secureai.model.labels import NAMESPACE_NAME, PROFILE_LABEL
from secureai.model.spec import SecurityProfile, Spec
from secureai.model.versions import VAP_GA

GATE = "profile-gate"
# Plan identity of the gate: the dot keeps it apart from every profile (DNS labels have none).
_GATE_LOGICAL = f"secureai.{GATE}"

_PODS = {
    "apiGroups": [""],
    "apiVersions": ["v1"],
    "operations": ["CREATE", "UPDATE"],
    # Ephemeral (debug) containers arrive through their own subresource.
    "resources": ["pods", "pods/ephemeralcontainers"],
}


def admission_api(spec: Spec) -> str:
    version = "v1" if spec.minor >= VAP_GA else "v1beta1"
    return f"admissionregistration.k8s.io/{version}"


def gate_name(spec: Spec) -> str:
    """Profile and project names are DNS labels, so the dot keeps this apart from any profile's."""
    return f"{spec.project}.{GATE}"


def allowed_profiles(spec: Spec) -> dict[str, list[str]]:
    """namespace -> the profiles its pods may carry (every namespace that uses one)."""
    out: dict[str, list[str]] = {}
    for name in spec.security_profiles:
        for namespace in profile_accounts(spec, name):
            out.setdefault(namespace, []).append(name)
    return {ns: out[ns] for ns in sorted(out)}


def gate_expression(allowed: dict[str, list[str]]) -> str:
    """The pod's label names a profile allowed in the request's namespace.

    `namespace/profile` pairs: a namespace name has no '/', so a pair names one of each.
    """
    pairs = cel_list(f"{ns}/{p}" for ns, profiles in allowed.items() for p in profiles)
    labels = "object.metadata.labels"
    return (
        f"has({labels}) && {_quoted(PROFILE_LABEL)} in {labels} && "
        f"(request.namespace + '/' + {labels}[{_quoted(PROFILE_LABEL)}]) in {pairs}"
    )


def _quoted(text: str) -> str:
    return cel_list([text])[1:-1]


def compile_admission(spec: Spec) -> list[Resource]:
    out: list[Resource] = []
    allowed = allowed_profiles(spec)
    if allowed:
        out.extend(_gate(spec, allowed))
    for name, profile in spec.security_profiles.items():
        out.append(_policy(spec, name, profile))
        namespaces = list(profile_accounts(spec, name))
        if namespaces:
            out.append(_binding(spec, name, namespaces))
    return out


def _gate(spec: Spec, allowed: dict[str, list[str]]) -> list[Resource]:
    api = admission_api(spec)
    shown = "; ".join(f"{ns}: {', '.join(p)}" for ns, p in allowed.items())
    body: Manifest = {
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [_PODS]},
            "validations": [
                {
                    "expression": gate_expression(allowed),
                    "message": f"pods must carry the label {PROFILE_LABEL} naming a security profile "
                    f"allowed in their namespace ({shown})",
                    "reason": "Forbidden",
                }
            ],
        }
    }
    policy = resource(
        api,
        "ValidatingAdmissionPolicy",
        gate_name(spec),
        None,
        body,
        ("securityProfiles",),
        logical=_GATE_LOGICAL,
    )
    binding = resource(
        api,
        "ValidatingAdmissionPolicyBinding",
        gate_name(spec),
        None,
        {
            "spec": {
                "policyName": gate_name(spec),
                "validationActions": ["Deny"],
                # No objectSelector: every pod in these namespaces, labelled or not.
                "matchResources": {"namespaceSelector": _namespaces(list(allowed))},
            }
        },
        ("securityProfiles",),
        logical=_GATE_LOGICAL,
        depends_on=(key_of(api, "ValidatingAdmissionPolicy", None, _GATE_LOGICAL),),
    )
    return [policy, binding]


def _namespaces(namespaces: list[str]) -> Manifest:
    return {"matchExpressions": [{"key": NAMESPACE_NAME, "operator": "In", "values": sorted(namespaces)}]}


def _policy(spec: Spec, name: str, profile: SecurityProfile) -> Resource:
    validations = [
        {
            "expression": r.expression,
            "message": f"security profile '{name}': {r.message}",
            "reason": "Forbidden",
        }
        for r in profile_rules(profile, name)
    ]
    body: Manifest = {
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [_PODS]},
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
        "namespaceSelector": _namespaces(namespaces),
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
