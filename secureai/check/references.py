"""References between spec entries resolve: namespaces, secrets and keys, profiles, accounts."""

from __future__ import annotations

from collections.abc import Iterable

from secureai.diagnostics import Diagnostic, SpecPath, did_you_mean, error, warning
from secureai.model.spec import Spec


def _unknown(
    code: str,
    what: str,
    name: str,
    choices: Iterable[str],
    path: SpecPath,
    owner: str,
    hint: str | None = None,
) -> Diagnostic:
    message = f"{owner} {what} '{name}' which is not declared{did_you_mean(name, choices)}"
    return error(code, message, path, hint=hint)


def check_references(spec: Spec) -> list[Diagnostic]:
    return [
        *_namespaces(spec),
        *_workload_refs(spec),
        *_access_secret_names(spec),
    ]


def _namespaces(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    entries: list[tuple[str, str, str]] = [
        *(("secrets", n, s.namespace) for n, s in spec.secrets.items()),
        *(("configMaps", n, c.namespace) for n, c in spec.config_maps.items()),
        *(("workloads", n, w.namespace) for n, w in spec.workloads.items()),
        *(("network", n, r.namespace) for n, r in spec.network.items() if r.namespace is not None),
        *(("access", n, a.namespace) for n, a in spec.access.items()),
    ]
    singular = {
        "secrets": "secret",
        "configMaps": "config map",
        "workloads": "workload",
        "network": "network rule",
        "access": "service account",
    }
    for section, name, namespace in entries:
        if namespace not in spec.namespaces:
            out.append(
                _unknown(
                    "SA110",
                    "is in namespace",
                    namespace,
                    spec.namespaces,
                    (section, name, "namespace"),
                    f"{singular[section]} '{name}'",
                )
            )
    return out


def _workload_refs(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name, w in spec.workloads.items():
        owner = f"workload '{name}'"
        base: SpecPath = ("workloads", name)
        containers = [
            (owner, base, w),
            *(
                (f"init container '{n}' of {owner}", (*base, "initContainers", n), c)
                for n, c in w.init_containers.items()
            ),
            *((f"sidecar '{n}' of {owner}", (*base, "sidecars", n), c) for n, c in w.sidecars.items()),
        ]
        for who, where, c in containers:
            for var, env in c.env.items():
                if env.secret is not None and env.key is not None:
                    out.extend(_secret_key(spec, who, w.namespace, env.secret, env.key, (*where, "env", var)))
                if env.config_map is not None:
                    out.extend(
                        _config_map(spec, who, w.namespace, env.config_map, env.key, (*where, "env", var))
                    )
            for i, entry in enumerate(c.env_from):
                path = (*where, "envFrom", i)
                if entry.secret is not None:
                    out.extend(_secret_key(spec, who, w.namespace, entry.secret, None, (*path, "secret")))
                if entry.config_map is not None:
                    out.extend(
                        _config_map(spec, who, w.namespace, entry.config_map, None, (*path, "configMap"))
                    )
        for key, kind, group in (
            ("initContainers", "init container", w.init_containers),
            ("sidecars", "sidecar", w.sidecars),
        ):
            for n, c in group.items():
                for i, mount in enumerate(c.volume_mounts):
                    if mount.name not in w.volumes:
                        out.append(
                            _unknown(
                                "SA175",
                                "mounts volume",
                                mount.name,
                                w.volumes,
                                (*base, key, n, "volumeMounts", i, "name"),
                                f"{kind} '{n}' of {owner}",
                                hint="mount one of the workload's 'volumes'",
                            )
                        )
        for i, pull in enumerate(w.image_pull_secrets):
            out.extend(_pull_secret(spec, owner, w.namespace, pull, (*base, "imagePullSecrets", i)))
        for vol_name, vol in w.volumes.items():
            if vol.config_map is not None:
                out.extend(
                    _config_map(
                        spec,
                        owner,
                        w.namespace,
                        vol.config_map,
                        None,
                        (*base, "volumes", vol_name, "configMap"),
                    )
                )
            if vol.secret is not None:
                out.extend(
                    _secret_key(
                        spec, owner, w.namespace, vol.secret, None, (*base, "volumes", vol_name, "secret")
                    )
                )
        if w.security_profile is not None and w.security_profile not in spec.security_profiles:
            out.append(
                _unknown(
                    "SA113",
                    "uses security profile",
                    w.security_profile,
                    spec.security_profiles,
                    (*base, "securityProfile"),
                    owner,
                )
            )
        # A chart's account needs no `access` entry unless the spec grants it something.
        if w.service_account is not None and (not w.external or w.service_account in spec.access):
            out.extend(
                _service_account(spec, owner, w.namespace, w.service_account, (*base, "serviceAccount"))
            )
    return out


def _secret_key(
    spec: Spec, owner: str, namespace: str, secret: str, key: str | None, path: SpecPath
) -> list[Diagnostic]:
    declared = spec.secrets.get(secret)
    if declared is None:
        return [
            _unknown("SA111", "reads secret", secret, spec.secrets, (*path, "secret") if key else path, owner)
        ]
    if declared.namespace != namespace:
        return [
            error(
                "SA115",
                f"{owner} in namespace '{namespace}' reads secret '{secret}' from namespace "
                f"'{declared.namespace}'; pods can only read secrets of their own namespace",
                (*path, "secret") if key else path,
                hint="declare the secret in the workload's namespace",
            )
        ]
    if key is not None and key not in declared.data:
        return [
            error(
                "SA112",
                f"{owner} reads key '{key}' of secret '{secret}', which has no such key"
                f"{did_you_mean(key, declared.data)}",
                (*path, "key"),
            )
        ]
    return []


def _config_map(
    spec: Spec, owner: str, namespace: str, name: str, key: str | None, path: SpecPath
) -> list[Diagnostic]:
    declared = spec.config_maps.get(name)
    where = (*path, "configMap") if key else path
    if declared is None:
        hint = "declare it under 'configMaps' (with 'external: true' if another tool manages it)"
        return [_unknown("SA173", "reads config map", name, spec.config_maps, where, owner, hint)]
    if declared.namespace != namespace:
        return [
            error(
                "SA115",
                f"{owner} in namespace '{namespace}' reads config map '{name}' from namespace "
                f"'{declared.namespace}'; pods can only read config maps of their own namespace",
                where,
            )
        ]
    if key is not None and not declared.external and key not in declared.data:
        return [
            error(
                "SA173",
                f"{owner} reads key '{key}' of config map '{name}', which has no such key"
                f"{did_you_mean(key, declared.data)}",
                (*path, "key"),
            )
        ]
    return []


_PULL_SECRET_TYPES = ("kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg")


def _pull_secret(spec: Spec, owner: str, namespace: str, name: str, path: SpecPath) -> list[Diagnostic]:
    declared = spec.secrets.get(name)
    if declared is None:
        return [_unknown("SA111", "pulls images with secret", name, spec.secrets, path, owner)]
    if declared.namespace != namespace:
        return [
            error(
                "SA115",
                f"{owner} in namespace '{namespace}' pulls images with secret '{name}' from namespace "
                f"'{declared.namespace}'; pods can only use secrets of their own namespace",
                path,
            )
        ]
    key = ".dockerconfigjson" if declared.type == _PULL_SECRET_TYPES[0] else ".dockercfg"
    if declared.type not in _PULL_SECRET_TYPES or key not in declared.data:
        return [
            error(
                "SA174",
                f"{owner} pulls images with secret '{name}', which is not a registry credential "
                f"(type '{declared.type}'"
                + (f", key '{key}')" if declared.type in _PULL_SECRET_TYPES else ")"),
                path,
                hint="give the secret 'type: kubernetes.io/dockerconfigjson' and its JSON in the key "
                "'.dockerconfigjson'",
            )
        ]
    return []


def _service_account(
    spec: Spec, owner: str, namespace: str, account: str, path: SpecPath
) -> list[Diagnostic]:
    declared = spec.access.get(account)
    if declared is None:
        hint = "declare it under 'access', or leave 'serviceAccount' out to get one per workload"
        return [_unknown("SA114", "runs as service account", account, spec.access, path, owner, hint)]
    if declared.namespace != namespace:
        return [
            error(
                "SA115",
                f"{owner} in namespace '{namespace}' runs as service account '{account}' "
                f"of namespace '{declared.namespace}'",
                path,
            )
        ]
    return []


def _access_secret_names(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name, access in spec.access.items():
        for index, rule in enumerate(access.can):
            if "secrets" not in rule.resources or "" not in rule.api_groups:
                continue
            for n_index, secret in enumerate(rule.names):
                declared = spec.secrets.get(secret)
                if declared is None or (not access.cluster_wide and declared.namespace != access.namespace):
                    out.append(
                        warning(
                            "SA116",
                            f"service account '{name}' is granted secret '{secret}', which this spec "
                            f"does not declare in namespace '{access.namespace}'"
                            + did_you_mean(secret, spec.secrets),
                            ("access", name, "can", index, "names", n_index),
                            hint="fine if the secret is managed elsewhere; otherwise fix the name",
                        )
                    )
    return out
