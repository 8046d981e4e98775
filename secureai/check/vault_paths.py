"""Vault settings, grants and references that Vault itself would reject or silently widen.

- SA304 a mount name Vault reserves (the KV mount cannot be `sys`, `auth`, ...; the Kubernetes
  auth mount cannot be `token`);
- SA305 token TTLs Vault would misread: `0` means "the system default" (32 days), and a TTL
  above the max TTL is silently capped;
- SA306 a workload reads Vault but its security profile forbids the projected volume that
  carries its service-account token, so it could never log in;
- SA307 workloads sharing a service account but not their grants: each can log in with the
  other's role, so neither is limited to its own paths;
- SA308 a grant with `+*`, which Vault refuses in a policy;
- SA309/SA310 a `fromVault` value naming a declared path without that key, or a path this
  spec does not declare.
"""

from __future__ import annotations

from collections import defaultdict

from secureai.check.values import value_sources
from secureai.check.vault import UNDECLARED_HINT
from secureai.diagnostics import Diagnostic, SpecPath, did_you_mean, error, quoted_list, warning
from secureai.model.names import duration_seconds
from secureai.model.spec import SecurityProfile, Spec, VaultSettings

RESERVED_SECRET_MOUNTS = frozenset({"audit", "auth", "cubbyhole", "identity", "sys"})
RESERVED_AUTH_MOUNTS = frozenset({"token"})


def check_vault_paths(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if spec.vault is not None:
        out.extend(_mounts(spec.vault))
        out.extend(_ttls(spec.vault))
    out.extend(_token_volumes(spec))
    out.extend(_shared_accounts(spec))
    out.extend(_forbidden_globs(spec))
    out.extend(_vault_references(spec))
    return out


def _mounts(vault: VaultSettings) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if vault.kv_mount in RESERVED_SECRET_MOUNTS:
        out.append(
            error(
                "SA304",
                f"Vault reserves the mount path '{vault.kv_mount}/'; the KV v2 "
                "secrets engine cannot be mounted there",
                ("vault", "kvMount"),
                hint="use the default 'secret', or another name",
            )
        )
    if vault.kubernetes_auth_mount in RESERVED_AUTH_MOUNTS:
        out.append(
            error(
                "SA304",
                f"Vault reserves the auth mount 'auth/{vault.kubernetes_auth_mount}/' for its token method",
                ("vault", "kubernetesAuthMount"),
                hint="use the default 'kubernetes', or another name",
            )
        )
    return out


def _ttls(vault: VaultSettings) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for field, value in (("tokenTtl", vault.token_ttl), ("tokenMaxTtl", vault.token_max_ttl)):
        if duration_seconds(value) == 0:
            out.append(
                error(
                    "SA305",
                    f"vault.{field} '{value}' is zero, which Vault reads as 'use the "
                    "system default' (32 days)",
                    ("vault", field),
                    hint="give a real duration such as 15m",
                )
            )
    ttl, max_ttl = duration_seconds(vault.token_ttl), duration_seconds(vault.token_max_ttl)
    if max_ttl and ttl > max_ttl:
        out.append(
            error(
                "SA305",
                f"vault.tokenTtl '{vault.token_ttl}' is longer than vault.tokenMaxTtl "
                f"'{vault.token_max_ttl}'; Vault would cap it silently",
                ("vault", "tokenTtl"),
            )
        )
    return out


def _token_volumes(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name, w in spec.workloads.items():
        profile: SecurityProfile | None = spec.security_profiles.get(w.security_profile or "")
        if w.vault is None or profile is None or "projected" in profile.volumes:
            continue
        if w.vault.deliver == "externalSecrets":
            continue  # the operator logs in for the pod: no token volume in it
        out.append(
            error(
                "SA306",
                f"workload '{name}' reads Vault, which needs a projected service-account token volume, "
                f"but its security profile '{w.security_profile}' does not allow 'projected' volumes",
                ("workloads", name, "vault"),
                hint=f"add 'projected' to securityProfiles.{w.security_profile}.volumes",
            )
        )
    return out


def _shared_accounts(spec: Spec) -> list[Diagnostic]:
    """Vault tells readers apart by service account only; sharing one shares every grant."""
    readers: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, w in spec.workloads.items():
        if w.vault is not None:
            # As compile.naming.service_account_of, which checks may not import.
            readers[(w.namespace, w.service_account or name)].append(name)
    out: list[Diagnostic] = []
    for (namespace, account), names in readers.items():
        first = names[0]
        for other in names[1:]:
            if _grants(spec, other) == _grants(spec, first):
                continue
            out.append(
                warning(
                    "SA307",
                    f"workloads '{first}' and '{other}' both run as service account '{account}' in "
                    f"namespace '{namespace}' but read different Vault paths; each can log in with the "
                    "other's role and read its paths too",
                    ("workloads", other, "serviceAccount"),
                    hint="give each workload its own service account, or the same 'vault.read'",
                )
            )
    return out


def _grants(spec: Spec, workload: str) -> frozenset[str]:
    vault = spec.workloads[workload].vault
    return frozenset(vault.read if vault else ())


def _forbidden_globs(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name, w in spec.workloads.items():
        for index, grant in enumerate(w.vault.read if w.vault else ()):
            if "+*" in grant:
                out.append(
                    error(
                        "SA308",
                        f"workload '{name}' reads Vault paths '{grant}': Vault rejects '+*' in a policy",
                        ("workloads", name, "vault", "read", index),
                        hint="'+' stands for one whole segment; use 'a/+/b' or a trailing 'a/b*'",
                    )
                )
    return out


def _vault_references(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    keys_of: dict[str, str] = {}  # a declared path's keys, as listed in SA309 (sorted once)
    for path, source in value_sources(spec):
        ref = source.from_vault
        if ref is None:
            continue
        where: SpecPath = (*path, "fromVault")
        declared = spec.vault_secrets.get(ref.path)
        if declared is None:
            out.append(
                warning(
                    "SA310",
                    f"{'.'.join(map(str, path))} comes from Vault path '{ref.path}', which this spec does "
                    f"not declare in vaultSecrets{did_you_mean(ref.path, spec.vault_secrets)}",
                    (*where, "path"),
                    hint=UNDECLARED_HINT,
                )
            )
        elif ref.key not in declared.data:
            if ref.path not in keys_of:
                keys_of[ref.path] = quoted_list(sorted(declared.data))
            keys = keys_of[ref.path]
            out.append(
                error(
                    "SA309",
                    f"{'.'.join(map(str, path))} comes from key '{ref.key}' of Vault path '{ref.path}', "
                    f"which has no such key{did_you_mean(ref.key, declared.data)}; it has {keys}",
                    (*where, "key"),
                )
            )
    return out
