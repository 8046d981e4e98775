"""The type-token table: which Pulumi class registers which Plan resource, with which kwargs."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from secureai.compile.plan import Resource
from secureai.pulumi.mapping import MappingError, camel_to_snake, kwargs_for, target_for

TYPED = [
    ("kubernetes:core/v1:Namespace", "pulumi_kubernetes.core.v1", "Namespace"),
    ("kubernetes:core/v1:Secret", "pulumi_kubernetes.core.v1", "Secret"),
    ("kubernetes:core/v1:ConfigMap", "pulumi_kubernetes.core.v1", "ConfigMap"),
    ("kubernetes:core/v1:ServiceAccount", "pulumi_kubernetes.core.v1", "ServiceAccount"),
    ("kubernetes:core/v1:Service", "pulumi_kubernetes.core.v1", "Service"),
    ("kubernetes:core/v1:ConfigMap", "pulumi_kubernetes.core.v1", "ConfigMap"),
    ("kubernetes:core/v1:PersistentVolumeClaim", "pulumi_kubernetes.core.v1", "PersistentVolumeClaim"),
    ("kubernetes:core/v1:ResourceQuota", "pulumi_kubernetes.core.v1", "ResourceQuota"),
    ("kubernetes:core/v1:LimitRange", "pulumi_kubernetes.core.v1", "LimitRange"),
    (
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
        "pulumi_kubernetes.rbac.v1",
        "ClusterRoleBinding",
    ),
    ("kubernetes:core/v1:Pod", "pulumi_kubernetes.core.v1", "Pod"),
    ("kubernetes:batch/v1:Job", "pulumi_kubernetes.batch.v1", "Job"),
    ("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole", "pulumi_kubernetes.rbac.v1", "ClusterRole"),
    ("kubernetes:apps/v1:Deployment", "pulumi_kubernetes.apps.v1", "Deployment"),
    ("kubernetes:apps/v1:StatefulSet", "pulumi_kubernetes.apps.v1", "StatefulSet"),
    ("kubernetes:batch/v1:CronJob", "pulumi_kubernetes.batch.v1", "CronJob"),
    ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "pulumi_kubernetes.networking.v1", "NetworkPolicy"),
    ("kubernetes:rbac.authorization.k8s.io/v1:Role", "pulumi_kubernetes.rbac.v1", "Role"),
    ("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "pulumi_kubernetes.rbac.v1", "RoleBinding"),
    ("kubernetes:policy/v1beta1:PodSecurityPolicy", "pulumi_kubernetes.policy.v1beta1", "PodSecurityPolicy"),
    (
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
        "pulumi_kubernetes.admissionregistration.v1",
        "ValidatingAdmissionPolicy",
    ),
    (
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
        "pulumi_kubernetes.admissionregistration.v1",
        "ValidatingAdmissionPolicyBinding",
    ),
    (
        "kubernetes:admissionregistration.k8s.io/v1beta1:ValidatingAdmissionPolicy",
        "pulumi_kubernetes.admissionregistration.v1beta1",
        "ValidatingAdmissionPolicy",
    ),
    (
        "kubernetes:admissionregistration.k8s.io/v1beta1:ValidatingAdmissionPolicyBinding",
        "pulumi_kubernetes.admissionregistration.v1beta1",
        "ValidatingAdmissionPolicyBinding",
    ),
    ("vault:kv/secretV2:SecretV2", "pulumi_vault.kv", "SecretV2"),
    ("vault:index/policy:Policy", "pulumi_vault", "Policy"),
    ("vault:kubernetes/authBackendRole:AuthBackendRole", "pulumi_vault.kubernetes", "AuthBackendRole"),
]


@pytest.mark.parametrize(("token", "module", "name"), TYPED)
def test_typed_classes(token: str, module: str, name: str) -> None:
    target = target_for(token)
    assert target.cls.__module__.startswith(module)
    assert target.cls.__name__ == name
    assert target.cls.pulumi_type == token


@pytest.mark.parametrize(
    "token",
    [
        "kubernetes:projectcalico.org/v3:GlobalNetworkPolicy",
        "kubernetes:projectcalico.org/v3:NetworkPolicy",
        "kubernetes:crd.projectcalico.org/v1:GlobalNetworkPolicy",
        "kubernetes:cilium.io/v2:CiliumNetworkPolicy",
        "kubernetes:cilium.io/v2:CiliumClusterwideNetworkPolicy",
        "kubernetes:policy.sigstore.dev/v1beta1:ClusterImagePolicy",
    ],
)
def test_crds_use_custom_resource(token: str) -> None:
    target = target_for(token)
    assert target.cls.__name__ == "CustomResource"
    assert target.style == "crd"
    group_version, kind = token.split(":", 1)[1].rsplit(":", 1)
    args = kwargs_for(
        target,
        {"apiVersion": group_version, "kind": kind, "metadata": {"name": "x"}, "spec": {"selector": "all()"}},
    )
    assert args == {
        "api_version": group_version,
        "kind": kind,
        "metadata": {"name": "x"},
        "spec": {"selector": "all()"},
    }


@pytest.mark.parametrize(
    ("token", "fragment"),
    [
        ("aws:s3/bucket:Bucket", "no Pulumi mapping"),
        ("kubernetes:app/v1:Deployment", "unsupported Kubernetes API group"),
        ("kubernetes:apps/v1:Deploymnt", "no Pulumi class"),
        ("kubernetes:Deployment", "malformed"),
        ("vault:kv/secretV9:SecretV9", "no Pulumi class"),
        ("vault:nosuchmodule/thing:Thing", "no Pulumi module"),
    ],
)
def test_unknown_types_are_clear_errors(token: str, fragment: str) -> None:
    with pytest.raises(MappingError, match=fragment) as caught:
        target_for(token)
    assert token in str(caught.value)


def test_manifest_keys_become_snake_case_kwargs_nested_stay() -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "sa", "ownerReferences": []},
        "automountServiceAccountToken": False,
        "imagePullSecrets": [{"name": "reg"}],
    }
    args = kwargs_for(target_for("kubernetes:core/v1:ServiceAccount"), manifest)
    assert args == {
        "metadata": {"name": "sa", "ownerReferences": []},
        "automount_service_account_token": False,
        "image_pull_secrets": [{"name": "reg"}],
    }


def test_role_binding_keys() -> None:
    manifest = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "b"},
        "roleRef": {"kind": "Role", "name": "r", "apiGroup": "x"},
        "subjects": [],
    }
    args = kwargs_for(target_for("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"), manifest)
    assert set(args) == {"metadata", "role_ref", "subjects"}


def test_unknown_manifest_key_is_an_error() -> None:
    with pytest.raises(MappingError, match="does not accept status"):
        kwargs_for(target_for("kubernetes:core/v1:Namespace"), {"metadata": {}, "status": {}})


def test_manifest_identity_must_match_token() -> None:
    with pytest.raises(MappingError, match="type token"):
        kwargs_for(
            target_for("kubernetes:apps/v1:Deployment"), {"apiVersion": "apps/v1", "kind": "StatefulSet"}
        )


def test_vault_args_checked_against_the_class() -> None:
    target = target_for("vault:index/policy:Policy")
    assert kwargs_for(target, {"name": "p", "policy": "x"}) == {"name": "p", "policy": "x"}
    with pytest.raises(MappingError, match="does not accept rules"):
        kwargs_for(target, {"name": "p", "rules": "x"})


def test_camel_to_snake() -> None:
    assert camel_to_snake("stringData") == "string_data"
    assert camel_to_snake("automountServiceAccountToken") == "automount_service_account_token"
    assert camel_to_snake("spec") == "spec"


def test_imports_stay_lazy() -> None:
    """Importing the package pulls in no provider SDK; a lookup imports only its submodule."""
    code = textwrap.dedent(
        """
        import sys
        import secureai.pulumi
        assert "pulumi_kubernetes" not in sys.modules, "package import"
        assert "pulumi" not in sys.modules, "package import pulls pulumi"
        from secureai.pulumi.mapping import target_for
        assert "pulumi_kubernetes" not in sys.modules, "mapping import"
        target_for("kubernetes:apps/v1:Deployment")
        assert "pulumi_kubernetes.apps.v1" in sys.modules
        assert "pulumi_kubernetes.batch.v1" not in sys.modules
        assert "pulumi_kubernetes.rbac.v1" not in sys.modules
        assert "pulumi_vault" not in sys.modules
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "ok", done.stderr


# ---- every type the compiler produces, against the real classes ------------------------------

SPECS = Path(__file__).resolve().parents[1] / "specs"
# Below 1.25 the compiler adds PodSecurityPolicy; 1.28-1.29 take the v1beta1 admission
# policies, 1.30 and later v1: each version band produces other types.
VERSIONS = ("1.24", "1.25", "1.28", "1.29", "1.30", "1.32")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Resource]]:
    """(spec@version, resource) for every spec in specs/, retargeted to each version."""
    from secureai.pipeline import compile_path

    found = []
    for version in VERSIONS:
        work = tmp_path_factory.mktemp(f"k8s-{version}")
        shutil.copytree(SPECS, work, dirs_exist_ok=True)
        for spec in sorted(work.glob("*.yaml")):
            data = yaml.safe_load(spec.read_text(encoding="utf-8"))
            data["kubernetes"]["version"] = version
            spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
            result = compile_path(spec, {"DB_PASSWORD": "x"})
            assert result.value is not None, (spec.name, version, [d.text() for d in result.diagnostics])
            found += [(f"{spec.name}@{version}", r) for r in result.value.plan.resources]
    return found


def test_the_retargeted_specs_cover_every_version_band(compiled: list[tuple[str, Resource]]) -> None:
    types = {r.type for _, r in compiled}
    assert "kubernetes:policy/v1beta1:PodSecurityPolicy" in types
    assert "kubernetes:admissionregistration.k8s.io/v1beta1:ValidatingAdmissionPolicy" in types
    assert "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding" in types
    assert "kubernetes:projectcalico.org/v3:GlobalNetworkPolicy" in types
    assert {t for t in types if t.startswith("vault:")} == {
        "vault:index/policy:Policy",
        "vault:kubernetes/authBackendRole:AuthBackendRole",
        "vault:kv/secretV2:SecretV2",
    }
    custom = {
        "kubernetes:projectcalico.org/v3:GlobalNetworkPolicy",
        "kubernetes:external-secrets.io/v1:SecretStore",
        "kubernetes:external-secrets.io/v1:ExternalSecret",
        "kubernetes:cilium.io/v2:CiliumNetworkPolicy",
        "kubernetes:cilium.io/v2:CiliumClusterwideNetworkPolicy",
        "kubernetes:policy.sigstore.dev/v1beta1:ClusterImagePolicy",
    }
    assert types <= {t for t, _, _ in TYPED} | custom


def test_every_compiled_resource_binds_to_the_real_constructor(compiled: list[tuple[str, Resource]]) -> None:
    """kwargs_for checks kwargs against a list it derives itself; this binds them to the real
    constructor signature instead, so neither a typo nor a wrong derivation can hide."""
    from pulumi_kubernetes.apiextensions import CustomResource

    for where, resource in compiled:
        target = target_for(resource.type)
        kwargs = kwargs_for(target, resource.properties)
        if target.cls is CustomResource:
            bound = inspect.signature(CustomResource.__init__).bind(None, resource.name, **kwargs)
            group_version, kind = resource.type.split(":", 1)[1].rsplit(":", 1)
            assert (bound.arguments["api_version"], bound.arguments["kind"]) == (group_version, kind)
            assert set(kwargs) <= {"api_version", "kind", "metadata", "spec"}, where
            continue
        assert target.cls.pulumi_type == resource.type, where
        # The generated classes' __init__ is `(resource_name, *args, **kwargs)` and forwards to
        # _internal_init, whose keyword parameters are the real inputs.
        try:
            inspect.signature(target.cls._internal_init).bind(None, resource.name, **kwargs)
        except TypeError as exc:
            raise AssertionError(f"{where}: {resource.key}: {exc}") from None
