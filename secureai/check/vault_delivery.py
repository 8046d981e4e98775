"""Vault delivery (`workloads.<w>.vault.deliver`, `files`, `agent`) can work as written.

- SA320 a delivery that runs in the cluster needs the address pods reach Vault at;
- SA321 the security profile must allow the volume types the delivery adds;
- SA322 two files of one workload with one name (defaults, or the injector's lowercased ids);
- SA323 a file's format prints the whole path where one key was asked (or `raw` without a key);
- SA324 a file reads a path the workload is not granted; SA325 a key the declared path lacks;
- SA326 files delivered to a container the workload does not have;
- SA327/SA328 `injector`/`externalSecrets` on a cluster the spec says lacks them;
- SA329 a sidecar on a target without native sidecars; SA330 a sidecar for a Job or CronJob;
- SA331 nothing to deliver; SA332 a format External Secrets cannot produce; SA333 delivery
  options under `deliver: none`; SA334 the files' mount path already taken; SA335 a file name
  the injector cannot carry in an annotation; SA336 an unpinned agent image.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from secureai.check.vault import grant_regex
from secureai.check.workloads import image_pinned
from secureai.diagnostics import Diagnostic, SpecPath, did_you_mean, error, quoted_list, warning
from secureai.model.labels import VAULT_TOKEN_DIR
from secureai.model.names import LABEL_NAME
from secureai.model.security import SecurityProfile, VolumeType
from secureai.model.spec import Spec
from secureai.model.vault_delivery import WorkloadVault
from secureai.model.versions import NATIVE_SIDECARS
from secureai.model.workloads import Workload

# What each delivery adds to the pod (the injector adds its memory emptyDir itself).
NEEDED_VOLUMES: dict[str, tuple[VolumeType, ...]] = {
    "agent": ("emptyDir", "configMap", "projected"),
    "injector": ("emptyDir", "projected"),
    "externalSecrets": ("secret",),
    "none": ("projected",),
}
# `agent-inject-template-<id>` is the longest per-file annotation: its name part is at most 63.
_INJECTOR_ID_MAX = 63 - len("agent-inject-template-")
_LABEL_NAME = re.compile(LABEL_NAME)


def check_vault_delivery(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name, w in spec.workloads.items():
        # A managed-elsewhere pod takes no agent or injector (SA195): nothing to check of them.
        if w.vault is not None and not (w.external and w.vault.deliver in ("agent", "injector")):
            out += _workload(spec, name, w, w.vault, ("workloads", name, "vault"))
    return out


def _workload(spec: Spec, name: str, w: Workload, v: WorkloadVault, base: SpecPath) -> list[Diagnostic]:
    if v.deliver == "none":
        return [*_none_options(name, v, base), *_volumes(spec, name, w, v, base)]
    out = [
        *_address(spec, name, v, base),
        *_cluster_has(spec, name, v, base),
        *_volumes(spec, name, w, v, base),
        *_files(spec, name, v, base),
        *_containers(name, w, v, base),
        *_mount_path(name, w, v, base),
    ]
    if v.deliver == "agent":
        out += _sidecar(spec, name, w, v, base)
        out += _agent_image(name, v, base)
    return out


def _none_options(name: str, v: WorkloadVault, base: SpecPath) -> list[Diagnostic]:
    given = [f for f in ("files", "containers", "agent", "mount_path") if f in v.model_fields_set]
    return [
        error(
            "SA333",
            f"workload '{name}' sets '{_camel(f)}', which 'deliver: none' does not use (the "
            "application reads Vault itself)",
            (*base, _camel(f)),
            hint="remove it, or choose a delivery: agent, injector or externalSecrets",
        )
        for f in given
    ]


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(p.title() for p in rest)


def _address(spec: Spec, name: str, v: WorkloadVault, base: SpecPath) -> list[Diagnostic]:
    if spec.vault is None or spec.vault.address_for_pods:
        return []  # no vault section at all is SA300's
    return [
        error(
            "SA320",
            f"workload '{name}' gets its Vault values by '{v.deliver}', which needs the address "
            "pods reach Vault at, but the spec has neither vault.podAddress nor vault.address",
            (*base, "deliver") if "deliver" in v.model_fields_set else base,
            hint="set vault.podAddress, e.g. http://vault.vault.svc:8200 (VAULT_ADDR is the "
            "deployer's address, which pods may not share)",
        )
    ]


# deliver -> (code, what the cluster runs, the vault field saying so, an example of it)
_ADD_ONS = {
    "injector": ("SA327", "the Vault Agent Injector", "injector", "vault.injector: {}"),
    "externalSecrets": (
        "SA328",
        "the External Secrets Operator",
        "external_secrets",
        "vault.externalSecrets: { namespace: ..., pods: {...} }",
    ),
}


def _cluster_has(spec: Spec, name: str, v: WorkloadVault, base: SpecPath) -> list[Diagnostic]:
    if spec.vault is None or v.deliver not in _ADD_ONS:
        return []
    code, what, field, example = _ADD_ONS[v.deliver]
    if getattr(spec.vault, field) is not None:
        return []
    return [
        error(
            code,
            f"workload '{name}' uses 'deliver: {v.deliver}', but the spec does not say the cluster "
            f"runs {what}",
            (*base, "deliver"),
            hint=f"add '{example}' if it does, or use 'deliver: agent', which needs nothing installed",
        )
    ]


def _volumes(spec: Spec, name: str, w: Workload, v: WorkloadVault, base: SpecPath) -> list[Diagnostic]:
    profile: SecurityProfile | None = spec.security_profiles.get(w.security_profile or "")
    if profile is None:
        return []
    needed = list(NEEDED_VOLUMES[v.deliver])
    if spec.vault is not None and spec.vault.ca_cert is not None and v.deliver in ("agent", "none"):
        needed.append("configMap")  # Vault's CA
    # `projected` alone is SA306's, reported for every reader.
    missing = [t for t in dict.fromkeys(needed) if t not in profile.volumes and t != "projected"]
    if not missing:
        return []
    return [
        error(
            "SA321",
            f"workload '{name}' gets its Vault values by '{v.deliver}', which needs "
            f"{quoted_list(missing)} volumes, but its security profile '{w.security_profile}' "
            "does not allow them",
            base,
            hint=f"add {quoted_list(missing)} to securityProfiles.{w.security_profile}.volumes",
        )
    ]


def _files(spec: Spec, name: str, v: WorkloadVault, base: SpecPath) -> list[Diagnostic]:
    files = v.delivered_files()
    explicit = bool(v.files)
    if not files:
        return [
            error(
                "SA331",
                f"workload '{name}' has nothing to deliver: its grants are all wildcards, and "
                "'files' names no path",
                (*base, "read"),
                hint="list the files, e.g. files: { params.json: { path: ai/params } }, or use "
                "'deliver: none' if the application reads Vault itself",
            )
        ]
    out: list[Diagnostic] = []
    out += _twice(name, v, files, explicit, base)
    granted = _Grants(v.read)
    keys_of: dict[str, str] = {}  # a declared path's keys, as listed in SA325 (sorted once)
    for file_name, f in files:
        where: SpecPath = (*base, "files", file_name) if explicit else (*base, "read")
        fmt = f.file_format
        if f.key is not None and fmt != "raw":
            out.append(
                error(
                    "SA323",
                    f"workload '{name}' file '{file_name}' asks for key '{f.key}', but format "
                    f"'{fmt}' prints the whole path '{f.path}'",
                    (*where, "format"),
                    hint="drop 'format' (a key is written raw), or drop 'key' for the whole path",
                )
            )
        if f.key is None and fmt == "raw":
            out.append(
                error(
                    "SA323",
                    f"workload '{name}' file '{file_name}' has format 'raw', which prints one key, "
                    "but names no 'key'",
                    (*where, "format"),
                    hint="add 'key', or use format 'json' for the whole path",
                )
            )
        if fmt == "env" and v.deliver == "externalSecrets":
            out.append(
                error(
                    "SA332",
                    f"workload '{name}' file '{file_name}': External Secrets writes a path as JSON "
                    "or one key raw, not as an env file",
                    (*where, "format"),
                    hint="use format 'json', or 'deliver: agent'",
                )
            )
        if not granted.cover(f.path):
            out.append(
                error(
                    "SA324",
                    f"workload '{name}' file '{file_name}' reads Vault path '{f.path}', which its "
                    f"grants ({quoted_list(v.read)}) do not cover, so Vault would refuse it",
                    (*where, "path"),
                    hint=f"add '{f.path}' to vault.read, or read a granted path",
                )
            )
        declared = spec.vault_secrets.get(f.path)
        if f.key is not None and declared is not None and f.key not in declared.data:
            if f.path not in keys_of:
                keys_of[f.path] = quoted_list(sorted(declared.data))
            out.append(
                error(
                    "SA325",
                    f"workload '{name}' file '{file_name}' reads key '{f.key}' of Vault path "
                    f"'{f.path}', which has no such key{did_you_mean(f.key, declared.data)}; it has "
                    f"{keys_of[f.path]}",
                    (*where, "key"),
                )
            )
        if v.deliver == "injector":
            out += _injector_id(name, file_name, where)
    return out


class _Grants:
    """A workload's `vault.read`, to ask of each delivered file whether a grant covers its path:
    exact grants in a set, and each wildcard's pattern compiled once (not once per file)."""

    def __init__(self, grants: Sequence[str]) -> None:
        self.exact = {g for g in grants if "*" not in g and "+" not in g}
        self.patterns = [grant_regex(g) for g in dict.fromkeys(grants) if g not in self.exact]

    def cover(self, path: str) -> bool:
        if path in self.exact:
            return True
        return any(pattern.match(path) for pattern in self.patterns)


def _twice(
    name: str, v: WorkloadVault, files: Sequence[tuple[str, object]], explicit: bool, base: SpecPath
) -> list[Diagnostic]:
    # The injector lowercases its per-file ids, so `A.json` and `a.json` would be one file there.
    key = str.lower if v.deliver == "injector" else str
    counts = Counter(key(n) for n, _ in files)
    repeated = sorted({n for n, _ in files if counts[key(n)] > 1})
    if not repeated:
        return []
    how = "the injector's file ids (lowercased)" if explicit else "the default file names"
    return [
        error(
            "SA322",
            f"workload '{name}' delivers two files named {quoted_list(repeated)} ({how}); one "
            "would overwrite the other",
            (*base, "files") if explicit else (*base, "read"),
            hint="name the files yourself: files: { a.json: { path: ... }, b.json: { path: ... } }",
        )
    ]


def _injector_id(name: str, file_name: str, where: SpecPath) -> list[Diagnostic]:
    ident = file_name.lower()
    if len(ident) <= _INJECTOR_ID_MAX and _LABEL_NAME.match(ident):
        return []
    return [
        error(
            "SA335",
            f"workload '{name}' file '{file_name}' cannot name an injector annotation "
            f"(agent-inject-template-<name> allows {_INJECTOR_ID_MAX} characters, starting and "
            "ending with a letter or digit)",
            where,
            hint="use a shorter file name, or 'deliver: agent'",
        )
    ]


def container_names(name: str, w: Workload) -> list[str]:
    """The workload's own containers: the main one (named after it), init containers, sidecars."""
    return [name, *w.init_containers, *w.sidecars]


def _containers(name: str, w: Workload, v: WorkloadVault, base: SpecPath) -> list[Diagnostic]:
    if v.containers is None:
        return []
    have = container_names(name, w)
    known = set(have)
    return [
        error(
            "SA326",
            f"workload '{name}' delivers its Vault files to container '{c}', which it does not "
            f"have{did_you_mean(c, have)}; it has {quoted_list(have)}",
            (*base, "containers", i),
        )
        for i, c in enumerate(v.containers)
        if c not in known
    ]


def _mount_path(name: str, w: Workload, v: WorkloadVault, base: SpecPath) -> list[Diagnostic]:
    where = v.mount_path.rstrip("/") or "/"
    clash = [n for n, vol in w.volumes.items() if (vol.mount_path.rstrip("/") or "/") == where]
    reserved = where in (VAULT_TOKEN_DIR, "/tmp")
    if not clash and not reserved:
        return []
    what = f"volume '{clash[0]}'" if clash else "a volume secureai adds"
    at = (*base, "mountPath")
    if clash and "mount_path" not in v.model_fields_set:
        at = ("workloads", name, "volumes", clash[0], "mountPath")
    return [
        error(
            "SA334",
            f"workload '{name}' gets its Vault files at {where}, where {what} is mounted already",
            at,
            hint="choose another vault.mountPath (default /vault/secrets)",
        )
    ]


def _sidecar(spec: Spec, name: str, w: Workload, v: WorkloadVault, base: SpecPath) -> list[Diagnostic]:
    if not v.agent.sidecar:
        return []
    where = (*base, "agent", "sidecar")
    if w.kind in ("Job", "CronJob"):
        return [
            error(
                "SA330",
                f"workload '{name}' is a {w.kind}: it reads its Vault files once, and secureai gives "
                "Jobs the init container only, so that they complete",
                where,
                hint="remove 'sidecar: true'",
            )
        ]
    if spec.minor < NATIVE_SIDECARS:
        return [
            warning(
                "SA329",
                f"workload '{name}' asks for an agent sidecar, but Kubernetes "
                f"{spec.kubernetes.version} has no native sidecars (on by default from "
                f"1.{NATIVE_SIDECARS}): the init container writes the files once, and they are "
                "not refreshed",
                where,
                hint="remove 'sidecar: true', or target a newer version",
            )
        ]
    return []


def _agent_image(name: str, v: WorkloadVault, base: SpecPath) -> list[Diagnostic]:
    image = v.agent.image
    if image_pinned(image):
        return []
    return [
        warning(
            "SA336",
            f"workload '{name}' runs Vault agent image '{image}' without a pinned tag",
            (*base, "agent", "image"),
            hint="pin a version tag or a digest (@sha256:...); the default is pinned",
        )
    ]
