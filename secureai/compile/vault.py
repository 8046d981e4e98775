"""Compile Vault content: KV v2 secrets, and a read-only policy plus an auth role per reader.

What each workload may read is exactly what its spec grants: one `path` block per grant on the
KV v2 `data/` path with `capabilities = ["read"]` and nothing else (no `list`, no `metadata/`,
no wildcard the grant does not spell). The auth role binds that policy to the workload's own
service account in its own namespace, for a token audience of `vault.audience`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from secureai.compile.naming import logical_name, service_account_of, vault_policy_name
from secureai.compile.plan import Resource, SecretValue
from secureai.diagnostics import Result, SpecPath
from secureai.model.names import duration_seconds
from secureai.model.spec import Spec, ValueSource, VaultSecret, VaultSettings

KV_SECRET = "vault:kv/secretV2:SecretV2"
POLICY = "vault:index/policy:Policy"
AUTH_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole"

# Role properties that address the role (`auth/<backend>/role/<role_name>`) rather than
# configure it: everything else is the body Vault's API takes.
ROLE_ADDRESS_FIELDS = ("backend", "role_name")


def compile_vault(spec: Spec) -> Result[list[Resource]]:
    settings = spec.vault or VaultSettings()
    resources = [_kv_secret(settings.kv_mount, path, secret) for path, secret in spec.vault_secrets.items()]
    for name, workload in spec.workloads.items():
        if workload.vault is not None:
            resources.extend(_reader(spec, settings, name, workload.vault.read))
    return Result(resources, [])


def vault_role_name(spec: Spec, workload: str) -> str:
    """The auth role shares the policy's name: one reader, one identity, one name to search."""
    return vault_policy_name(spec, workload)


def kv_data_path(mount: str, path: str) -> str:
    """The API path of a KV v2 secret's data, which is what a policy must name."""
    return f"{mount}/data/{path}"


def policy_text(mount: str, grants: Iterable[str], header: str = "") -> str:
    """HCL granting `read` on each grant's data path, in grant order, duplicates dropped."""
    blocks = [
        f'path "{kv_data_path(mount, grant)}" {{\n  capabilities = ["read"]\n}}\n'
        for grant in dict.fromkeys(grants)
    ]
    lead = f"# {header}\n" if header else ""
    return lead + "\n".join(blocks)


def _kv_secret(mount: str, path: str, secret: VaultSecret) -> Resource:
    base: SpecPath = ("vaultSecrets", path)
    data = {
        key: _secret_value(path, key, value, (*base, "data", key))
        if isinstance(value, ValueSource)
        else value
        for key, value in secret.data.items()
    }
    return Resource(
        type=KV_SECRET,
        name=logical_name(mount, path),
        properties={"mount": mount, "name": path, "data_json": data},
        source=base,
    )


def _secret_value(path: str, key: str, source: ValueSource, spec_path: SpecPath) -> SecretValue:
    if source.from_env is not None:
        return SecretValue("env", source.from_env, spec_path)
    if source.from_file is not None:
        return SecretValue("file", source.from_file, spec_path)
    if source.generate is not None:
        # Keyed by where it lands, so a stored generated value survives spec reordering.
        return SecretValue(
            "generate",
            f"vault/{path}/{key}",
            spec_path,
            length=source.generate.length,
            charset=source.generate.charset,
        )
    if source.from_vault is not None:
        return SecretValue("vault", f"{source.from_vault.path}#{source.from_vault.key}", spec_path)
    assert source.literal is not None  # ValueSource validates exactly one source
    where = ".".join(str(p) for p in spec_path)
    return SecretValue("literal", where, spec_path, literal=source.literal)


def _reader(spec: Spec, settings: VaultSettings, name: str, grants: list[str]) -> list[Resource]:
    workload = spec.workloads[name]
    source: SpecPath = ("workloads", name, "vault")
    policy_name = vault_policy_name(spec, name)
    header = f"secureai: workload '{name}' in namespace '{workload.namespace}' reads these paths"
    policy = Resource(
        type=POLICY,
        name=logical_name(workload.namespace, name),
        properties={"name": policy_name, "policy": policy_text(settings.kv_mount, grants, header)},
        source=source,
    )
    role = Resource(
        type=AUTH_ROLE,
        name=logical_name(workload.namespace, name),
        properties=_role_properties(spec, settings, name, policy_name),
        # The role names the policy; creating it first keeps logins from ever getting nothing.
        depends_on=(policy.key,),
        source=source,
    )
    return [policy, role]


def _role_properties(spec: Spec, settings: VaultSettings, name: str, policy_name: str) -> dict[str, Any]:
    return {
        "backend": settings.kubernetes_auth_mount,
        "role_name": vault_role_name(spec, name),
        "bound_service_account_names": [service_account_of(spec, name)],
        "bound_service_account_namespaces": [spec.workloads[name].namespace],
        "token_policies": [policy_name],
        # Vault's `default` policy lets a token look itself up, manage its own leases and use
        # cubbyhole: nothing a reader needs, so its tokens carry only their own policy.
        "token_no_default_policy": True,
        "token_ttl": duration_seconds(settings.token_ttl),
        "token_max_ttl": duration_seconds(settings.token_max_ttl),
        "audience": settings.audience,
    }
