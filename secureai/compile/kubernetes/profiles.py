"""Security profiles as cluster enforcement: PodSecurityPolicy before 1.25, admission policy after.

Which object enforces a profile depends on the target:
- below 1.25: a `policy/v1beta1` PodSecurityPolicy, a ClusterRole granting `use` on it, and in
  each namespace a RoleBinding of that role to the accounts of the workloads using the profile
  (PSP admits a pod only if its service account may `use` a policy that allows it);
- 1.25 to 1.27: nothing beyond Pod Security Admission (check SA141 warns);
- from 1.28: ValidatingAdmissionPolicies and their bindings (see `admission`).
"""

from __future__ import annotations

from secureai.compile.kubernetes.admission import compile_admission
from secureai.compile.kubernetes.common import Manifest, key_of, resource
from secureai.compile.kubernetes.containers import container_security_context
from secureai.compile.kubernetes.rbac import account_keys
from secureai.compile.kubernetes.scope import cluster_name, profile_accounts
from secureai.compile.plan import Resource
from secureai.model.profile_scope import IMPLICIT_PROFILE, effective_profile, profile_namespaces
from secureai.model.spec import SecurityProfile, Spec
from secureai.model.versions import PSP_REMOVED, VAP_BETA

RBAC = "rbac.authorization.k8s.io/v1"
_NON_ROOT_IDS = {"min": 1, "max": 65535}
_SECCOMP = "seccomp.security.alpha.kubernetes.io"


def with_implicit_profile(spec: Spec) -> Spec:
    """Workloads that must run under a profile and name none get the implicit restricted one.

    See `secureai.model.profile_scope`: below 1.25 every namespace, from 1.28 the namespaces
    that use profiles. Other targets are returned unchanged.
    """
    namespaces = profile_namespaces(spec)
    bare = [
        name
        for name, w in spec.workloads.items()
        if w.security_profile is None and effective_profile(spec, name, namespaces) == IMPLICIT_PROFILE
    ]
    if not bare:
        return spec
    profiles = {IMPLICIT_PROFILE: SecurityProfile(), **spec.security_profiles}
    workloads = {
        name: w.model_copy(update={"security_profile": IMPLICIT_PROFILE}) if name in bare else w
        for name, w in spec.workloads.items()
    }
    return spec.model_copy(update={"security_profiles": profiles, "workloads": workloads})


def psp_role_name(spec: Spec, profile: str) -> str:
    return f"psp:{cluster_name(spec, profile)}"


def psp_binding_key(namespace: str, profile: str) -> str:
    return key_of(RBAC, "RoleBinding", namespace, f"psp:{profile}")


def compile_profile_policies(spec: Spec) -> list[Resource]:
    """The cluster-scoped enforcement objects (PSP, or admission policy and binding)."""
    if spec.minor < PSP_REMOVED:
        return [_psp(spec, name, p) for name, p in spec.security_profiles.items()]
    if spec.minor >= VAP_BETA:
        return compile_admission(spec)
    return []


def compile_profile_rbac(spec: Spec) -> list[Resource]:
    """Below 1.25: who may `use` each PodSecurityPolicy."""
    if spec.minor >= PSP_REMOVED:
        return []
    out: list[Resource] = []
    for name in spec.security_profiles:
        out.append(_psp_role(spec, name))
        for namespace, accounts in profile_accounts(spec, name).items():
            out.append(_psp_binding(spec, name, namespace, accounts))
    return out


def _psp(spec: Spec, name: str, p: SecurityProfile) -> Resource:
    container = container_security_context(p)
    seccomp = (
        "runtime/default"
        if p.seccomp_profile == "RuntimeDefault"
        else f"localhost/{p.localhost_profile_path(name)}"
    )
    body: Manifest = {
        "privileged": p.privileged,
        "allowPrivilegeEscalation": container["allowPrivilegeEscalation"],
        "defaultAllowPrivilegeEscalation": False,
        "requiredDropCapabilities": ["ALL"],
        "volumes": _psp_volumes(p),
        "hostNetwork": p.host_network,
        "hostPID": p.host_pid,
        "hostIPC": p.host_ipc,
        "runAsUser": {"rule": "MustRunAsNonRoot" if p.run_as_non_root else "RunAsAny"},
        "seLinux": {"rule": "RunAsAny"},
        # Any group but 0 (root's): RunAsAny would let a pod run with, or add, group 0.
        "runAsGroup": {"rule": "MustRunAs", "ranges": [dict(_NON_ROOT_IDS)]},
        "supplementalGroups": {"rule": "MustRunAs", "ranges": [dict(_NON_ROOT_IDS)]},
        "fsGroup": {"rule": "MustRunAs", "ranges": [dict(_NON_ROOT_IDS)]},
        "readOnlyRootFilesystem": p.read_only_root_filesystem,
    }
    if p.allowed_capabilities:
        body["allowedCapabilities"] = list(p.allowed_capabilities)
    if p.allowed_host_paths:
        body["allowedHostPaths"] = [
            {"pathPrefix": h.path_prefix, "readOnly": h.read_only} for h in p.allowed_host_paths
        ]
    # A PSP without allowed seccomp profiles rejects every pod that sets one, and ours all do.
    annotations = {
        f"{_SECCOMP}/allowedProfileNames": seccomp,
        f"{_SECCOMP}/defaultProfileName": seccomp,
    }
    return resource(
        "policy/v1beta1",
        "PodSecurityPolicy",
        cluster_name(spec, name),
        None,
        {"spec": body},
        ("securityProfiles", name),
        annotations=annotations,
        logical=name,
    )


def _psp_volumes(p: SecurityProfile) -> list[str]:
    # In a PSP an empty allowedHostPaths means *any* host path; in the spec it means none.
    if not p.allowed_host_paths:
        return [v for v in p.volumes if v != "hostPath"]
    return list(p.volumes)


def _psp_role(spec: Spec, name: str) -> Resource:
    rule = {
        "apiGroups": ["policy"],
        "resources": ["podsecuritypolicies"],
        "resourceNames": [cluster_name(spec, name)],
        "verbs": ["use"],
    }
    return resource(
        RBAC,
        "ClusterRole",
        psp_role_name(spec, name),
        None,
        {"rules": [rule]},
        ("securityProfiles", name),
        logical=f"psp:{name}",
        depends_on=(key_of("policy/v1beta1", "PodSecurityPolicy", None, name),),
    )


def _psp_binding(spec: Spec, name: str, namespace: str, accounts: list[str]) -> Resource:
    role = psp_role_name(spec, name)
    body = {
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": a, "namespace": namespace} for a in accounts],
    }
    accounts_keys = account_keys(spec, namespace, accounts)
    return resource(
        RBAC,
        "RoleBinding",
        f"psp:{name}",
        namespace,
        body,
        ("securityProfiles", name),
        depends_on=(key_of(RBAC, "ClusterRole", None, f"psp:{name}"), *accounts_keys),
    )
