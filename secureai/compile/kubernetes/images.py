"""Image policies as cluster enforcement: one ValidatingAdmissionPolicy per namespace that
declares `images`, bound to every pod created there and every controller's pod template
(Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob), from Kubernetes 1.28.

No objectSelector: pods secureai did not render (Helm charts, operators, `kubectl run`) are
held to the policy too. Containers, init containers and ephemeral (debug) containers are all
checked; an exception is an exact image reference.
"""

from __future__ import annotations

from secureai.compile.kubernetes.admission import admission_api
from secureai.compile.kubernetes.cel import Rule, cel_list, quote
from secureai.compile.kubernetes.common import Manifest, key_of, resource
from secureai.compile.plan import Resource
from secureai.model.images import (
    DIGEST,
    DOCKER_HUB,
    HUB_OFFICIAL,
    NOT_HUB,
    ImagePolicy,
    ImageTest,
    image_tests,
)
from secureai.model.labels import NAMESPACE_NAME
from secureai.model.spec import Spec
from secureai.model.versions import VAP_BETA

_PODS = {
    "apiGroups": [""],
    "apiVersions": ["v1"],
    "operations": ["CREATE", "UPDATE"],
    "resources": ["pods", "pods/ephemeralcontainers"],
}
# Controllers too, so that a Deployment (a chart's, an operator's) with a refused image is
# refused when it is applied, rather than accepted with pods that then fail to be created.
_CONTROLLERS = [
    {
        "apiGroups": ["apps"],
        "apiVersions": ["v1"],
        "operations": ["CREATE", "UPDATE"],
        "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"],
    },
    {
        "apiGroups": ["batch"],
        "apiVersions": ["v1"],
        "operations": ["CREATE", "UPDATE"],
        "resources": ["jobs", "cronjobs"],
    },
]
_LISTS = ("containers", "initContainers", "ephemeralContainers")


def _every_container(root: str, predicate: str) -> str:
    parts = [f"{root}.containers.all(c, {predicate})"]
    parts += [f"(!has({root}.{f}) || {root}.{f}.all(c, {predicate}))" for f in _LISTS[1:]]
    return " && ".join(parts)


def every_pod_container(predicate: str) -> str:
    """`predicate` (over `c`) holds for every container of the pod, or of the controller's pod
    template (a CronJob's in its job template)."""
    pod = _every_container("object.spec", predicate)
    cron = _every_container("object.spec.jobTemplate.spec.template.spec", predicate)
    template = _every_container("object.spec.template.spec", predicate)
    return f"object.kind == 'Pod' ? ({pod}) : object.kind == 'CronJob' ? ({cron}) : ({template})"


def image_policy_name(spec: Spec, namespace: str) -> str:
    """Namespace names are DNS labels: the dots keep this apart from every profile's policy."""
    return f"{spec.project}.images.{namespace}"


def cel_test(test: ImageTest, var: str = "c.image") -> str:
    """One `ImageTest` as CEL, with the meaning `secureai.model.images.passes` gives it."""
    t = test.text
    if test.kind == "prefix":
        return f"{var}.startsWith({quote(t)})"
    repo = (
        f"({var} == {quote(t)} || {var}.startsWith({quote(t + ':')}) || {var}.startsWith({quote(t + '@')}))"
    )
    if test.kind == "repo":
        return repo
    if test.kind == "bare":
        return f"(!{var}.contains('/') && {repo})"
    if test.kind == "library":
        return f"(!{var}.contains('/') || {var}.matches({quote(HUB_OFFICIAL.pattern)}))"
    hub = " || ".join(f"{var}.startsWith({quote(h + '/')})" for h in DOCKER_HUB)
    return f"(!{var}.matches({quote(NOT_HUB.pattern)}) || {hub})"


def _exempt(policy: ImagePolicy) -> str:
    return f"c.image in {cel_list(policy.exempt)} || " if policy.exempt else ""


def image_rules(policy: ImagePolicy) -> list[Rule]:
    rules: list[Rule] = []
    if policy.require_digest:
        rules.append(
            Rule(
                "requireDigest",
                every_pod_container(f"{_exempt(policy)}c.image.contains({quote(DIGEST)})"),
                "every image must be pinned by digest (name@sha256:...)",
            )
        )
    if policy.allowed_registries is not None:
        tests = [cel_test(t) for p in policy.allowed_registries for t in image_tests(p)]
        shown = ", ".join(policy.allowed_registries) or "none"
        rules.append(
            Rule(
                "allowedRegistries",
                every_pod_container(f"{_exempt(policy)}{' || '.join(tests) or 'false'}"),
                f"every image must come from an allowed registry: {shown}",
            )
        )
    return rules


def compile_images(spec: Spec) -> list[Resource]:
    if spec.minor < VAP_BETA:
        return []  # nothing to enforce with (check SA144 warns)
    out: list[Resource] = []
    for namespace, ns in spec.namespaces.items():
        if ns.images is not None and image_rules(ns.images):
            out += _policy(spec, namespace, ns.images)
    return out


def _policy(spec: Spec, namespace: str, policy: ImagePolicy) -> list[Resource]:
    api = admission_api(spec)
    name = image_policy_name(spec, namespace)
    logical = f"secureai.images.{namespace}"
    validations = [
        {
            "expression": r.expression,
            "message": f"namespace '{namespace}' image policy: {r.message}",
            "reason": "Forbidden",
        }
        for r in image_rules(policy)
    ]
    body: Manifest = {
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {"resourceRules": [_PODS, *_CONTROLLERS]},
            "validations": validations,
        }
    }
    source = ("namespaces", namespace, "images")
    binding_body = {
        "spec": {
            "policyName": name,
            "validationActions": ["Deny"],
            # No objectSelector: every pod in the namespace, whoever creates it.
            "matchResources": {
                "namespaceSelector": {
                    "matchExpressions": [{"key": NAMESPACE_NAME, "operator": "In", "values": [namespace]}]
                }
            },
        }
    }
    return [
        resource(api, "ValidatingAdmissionPolicy", name, None, body, source, logical=logical),
        resource(
            api,
            "ValidatingAdmissionPolicyBinding",
            name,
            None,
            binding_body,
            source,
            logical=logical,
            depends_on=(key_of(api, "ValidatingAdmissionPolicy", None, logical),),
        ),
    ]


def image_dependencies(spec: Spec, namespace: str) -> list[str]:
    """A workload's pods are created once its namespace's image policy is bound."""
    ns = spec.namespaces.get(namespace)
    if spec.minor < VAP_BETA or ns is None or ns.images is None or not image_rules(ns.images):
        return []
    logical = f"secureai.images.{namespace}"
    return [key_of(admission_api(spec), "ValidatingAdmissionPolicyBinding", None, logical)]
