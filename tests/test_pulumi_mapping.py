"""The type-token table: which Pulumi class registers which Plan resource, with which kwargs."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from secureai.pulumi.mapping import MappingError, camel_to_snake, kwargs_for, target_for

TYPED = [
    ("kubernetes:core/v1:Namespace", "pulumi_kubernetes.core.v1", "Namespace"),
    ("kubernetes:core/v1:Secret", "pulumi_kubernetes.core.v1", "Secret"),
    ("kubernetes:core/v1:ServiceAccount", "pulumi_kubernetes.core.v1", "ServiceAccount"),
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
