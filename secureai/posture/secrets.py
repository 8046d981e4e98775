"""Who can read each Kubernetes Secret key and each Vault path, and through what.

Read from the compiled manifests and Vault arguments: env `secretKeyRef`/`envFrom`, secret and
projected volumes that a container mounts, RBAC rules reaching `secrets` through (Cluster)Role
bindings (a ClusterRoleBinding reaches every namespace), and Vault policies through the auth
roles that hand them to a service account. A grant to an account is a reader whether or not a
pod runs as it; `credential` says whether the pod actually holds the token the grant needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from secureai.diagnostics import SpecPath
from secureai.posture.inventory import Inventory, Workload

READ_VERBS = {"get", "list", "watch", "*"}
_PATH_BLOCK = re.compile(r'path\s+"([^"]+)"\s*\{[^}]*?capabilities\s*=\s*\[([^\]]*)\]', re.S)


@dataclass(frozen=True)
class Reader:
    workload: str | None  # workload id (namespace/name); None: an account acting without a pod of ours
    account: str  # namespace/name of the service account
    how: str  # env | volume | rbac | vault
    detail: str
    grant: str  # the manifest or Vault object that grants it, for messages
    credential: bool = True
    origin: SpecPath = field(default=(), compare=False)  # the spec entry that grants it


@dataclass(frozen=True)
class SecretItem:
    kind: str  # kubernetes | vault
    id: str  # namespace/secret/key, or the Vault KV path
    readers: tuple[Reader, ...]

    @property
    def reading_workloads(self) -> list[str]:
        return sorted({r.workload for r in self.readers if r.workload is not None})


def secret_items(inv: Inventory) -> list[SecretItem]:
    return [*_kubernetes(inv), *_vault(inv)]


# ------------------------------------------------------------------------- Kubernetes


def _keys(secret: Mapping[str, Any]) -> list[str]:
    return sorted({*secret.get("data", {}), *secret.get("stringData", {})})


def _kubernetes(inv: Inventory) -> list[SecretItem]:
    readers: dict[tuple[str, str, str], list[Reader]] = {}
    keys_of: dict[tuple[str, str], list[str]] = {}
    for r in inv.secrets:
        meta = r.properties["metadata"]
        keys_of[(meta["namespace"], meta["name"])] = _keys(r.properties)
        for key in keys_of[(meta["namespace"], meta["name"])]:
            readers[(meta["namespace"], meta["name"], key)] = []

    for r in inv.external_secrets:
        # The operator creates the target Secret: its keys are the ExternalSecret's, and pods
        # read it like any other Secret.
        m = r.properties
        ns, spec = m["metadata"]["namespace"], m.get("spec", {})
        target = spec.get("target", {}).get("name") or m["metadata"]["name"]
        synced = [str(d["secretKey"]) for d in spec.get("data", [])] or ["*"]
        keys_of.setdefault((ns, target), [])
        for key in synced:
            if key not in keys_of[(ns, target)]:
                keys_of[(ns, target)].append(key)
            readers.setdefault((ns, target, key), [])

    def add(ns: str, secret: str, keys: list[str] | None, reader: Reader) -> None:
        for key in keys if keys is not None else keys_of.get((ns, secret), []):
            bucket = readers.get((ns, secret, key))
            if bucket is not None and reader not in bucket:
                bucket.append(reader)

    for w in inv.workloads:
        for ns, secret, keys, reader in _pod_reads(w):
            add(ns, secret, keys, reader)
    for ns, secret, reader in _rbac_reads(inv, list(keys_of)):
        add(ns, secret, None, reader)
    return [
        SecretItem("kubernetes", f"{ns}/{secret}/{key}", tuple(found))
        for (ns, secret, key), found in readers.items()
    ]


def _pod_reads(w: Workload) -> Iterator[tuple[str, str, list[str] | None, Reader]]:
    account = f"{w.namespace}/{w.account}"
    grant = f"{w.kind} {w.id}"
    for c in w.containers():
        for env in c.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                reader = Reader(
                    w.id, account, "env", f"env {env['name']} ({c['name']})", grant, origin=w.resource.source
                )
                yield w.namespace, ref["name"], [ref["key"]], reader
        for env in c.get("envFrom", []):
            ref = env.get("secretRef")
            if ref:
                yield (
                    w.namespace,
                    ref["name"],
                    None,
                    Reader(w.id, account, "env", f"envFrom ({c['name']})", grant, origin=w.resource.source),
                )
    for ref in w.pod.get("imagePullSecrets", []):
        detail = "imagePullSecrets: the kubelet pulls the pod's images with it"
        yield (
            w.namespace,
            ref["name"],
            None,
            Reader(w.id, account, "pull", detail, grant, origin=w.resource.source),
        )
    mounts = {m["name"]: m["mountPath"] for c in w.containers() for m in c.get("volumeMounts", [])}
    for vol in w.pod.get("volumes", []):
        if vol["name"] not in mounts:
            continue
        where = f"volume {vol['name']} at {mounts[vol['name']]}"
        sources = [vol["secret"]] if "secret" in vol else []
        sources += [s["secret"] for s in vol.get("projected", {}).get("sources", []) if "secret" in s]
        for src in sources:
            name = src.get("secretName") or src.get("name")
            keys = [i["key"] for i in src["items"]] if src.get("items") else None
            yield (
                w.namespace,
                name,
                keys,
                Reader(w.id, account, "volume", where, grant, origin=w.resource.source),
            )


def _rbac_reads(inv: Inventory, secrets: list[tuple[str, str]]) -> Iterator[tuple[str, str, Reader]]:
    for binding in inv.bindings:
        m = binding.properties
        ref = m["roleRef"]
        bns = m["metadata"].get("namespace")
        role = inv.roles.get((bns if ref["kind"] == "Role" else None, ref["name"]))
        if role is None:
            continue
        named: set[str] = set()
        every = False
        for rule in role.properties.get("rules", []):
            if not (
                {"", "*"} & set(rule.get("apiGroups", []))
                and {"secrets", "*"} & set(rule.get("resources", []))
            ):
                continue
            if not READ_VERBS & set(rule.get("verbs", [])):
                continue
            if not rule.get("resourceNames"):
                every = True
                break
            named |= set(rule["resourceNames"])
        if not every and not named:
            continue
        names = None if every else named
        scope = "every namespace" if bns is None else f"namespace {bns}"
        grant = (
            f"{ref['kind']} {ref['name']} via {m['kind']} {bns + '/' if bns else ''}{m['metadata']['name']}"
        )
        which = "every secret" if names is None else ", ".join(sorted(names))
        detail = f"RBAC read of {which} in {scope}"
        for subject in m.get("subjects", []):
            for ns, secret in secrets:
                if (bns is None or ns == bns) and (names is None or secret in names):
                    for reader in _subject_readers(inv, subject, detail, grant, binding.source):
                        yield ns, secret, reader


def _subject_readers(
    inv: Inventory, subject: Mapping[str, Any], detail: str, grant: str, origin: SpecPath
) -> list[Reader]:
    if subject.get("kind") != "ServiceAccount":
        who = f"{subject.get('kind')} {subject.get('name')}"
        return [Reader(None, who, "rbac", detail, grant, False, origin)]
    ns, name = subject.get("namespace", ""), subject["name"]
    running = [w for w in inv.workloads if w.namespace == ns and w.account == name]
    account = f"{ns}/{name}"
    if not running:
        return [Reader(None, account, "rbac", detail, grant, False, origin)]
    return [Reader(w.id, account, "rbac", detail, grant, inv.token_mounted(w), origin) for w in running]


# ------------------------------------------------------------------------------ Vault


def vault_glob_matches(pattern: str, path: str) -> bool:
    """Vault policy paths: `+` is one segment, a trailing `*` any suffix."""
    if pattern.endswith("*"):
        prefix = pattern[:-1]
        return _segments_match(prefix, path[: len(prefix)]) if len(path) >= len(prefix) else False
    return _segments_match(pattern, path)


def _segments_match(pattern: str, path: str) -> bool:
    ps, xs = pattern.split("/"), path.split("/")
    if len(ps) != len(xs):
        return False
    return all(p == "+" or p == x for p, x in zip(ps, xs, strict=True))


def policy_reads(text: str, api_path: str) -> bool:
    for pattern, caps in _PATH_BLOCK.findall(text):
        capabilities = {c.strip().strip('"') for c in caps.split(",")}
        if "deny" in capabilities and vault_glob_matches(pattern, api_path):
            return False
    return any(
        vault_glob_matches(pattern, api_path)
        and {"read", "sudo"} & {c.strip().strip('"') for c in caps.split(",")}
        for pattern, caps in _PATH_BLOCK.findall(text)
    )


def _vault_token(w: Workload, audience: str | None) -> bool:
    for vol in w.pod.get("volumes", []):
        for src in vol.get("projected", {}).get("sources", []):
            token = src.get("serviceAccountToken")
            if token and (audience is None or token.get("audience") == audience):
                return True
    return False


def _vault(inv: Inventory) -> list[SecretItem]:
    out = []
    delivered = _delivered(inv)
    by_account: dict[tuple[str, str], list[Workload]] = {}
    for w in inv.workloads:
        by_account.setdefault((w.namespace, w.account), []).append(w)
    for kv in inv.vault_secrets:
        mount, path = kv.properties["mount"], kv.properties["name"]
        api_path = f"{mount}/data/{path}"
        readers: list[Reader] = []
        for role in inv.vault_roles:
            p = role.properties
            policies = [x for x in p.get("token_policies", []) if x in inv.vault_policies]
            granting = [
                x for x in policies if policy_reads(str(inv.vault_policies[x].properties["policy"]), api_path)
            ]
            if not granting:
                continue
            grant = (
                f"Vault policy {', '.join(granting)} via auth role {p.get('backend')}/{p.get('role_name')}"
            )
            names, spaces = (
                p.get("bound_service_account_names", []),
                p.get("bound_service_account_namespaces", []),
            )
            if "*" in names or "*" in spaces:
                running = [
                    w
                    for w in inv.workloads
                    if ("*" in names or w.account in names) and ("*" in spaces or w.namespace in spaces)
                ]
            else:
                running = [w for ns in spaces for n in names for w in by_account.get((ns, n), [])]
            detail = f"Vault read of {api_path}"
            for w in running:
                credential = _vault_token(w, p.get("audience")) or (
                    p.get("audience") is None and inv.token_mounted(w)
                )
                account = f"{w.namespace}/{w.account}"
                readers.append(Reader(w.id, account, "vault", detail, grant, credential, role.source))
            if not running:
                for ns in spaces:
                    for name in names:
                        readers.append(
                            Reader(None, f"{ns}/{name}", "vault", detail, grant, False, role.source)
                        )
        readers += [r for where, r in delivered if where == api_path and r not in readers]
        out.append(SecretItem("vault", f"{mount}/{path}", tuple(readers)))
    return out


_TEMPLATE = re.compile(
    r'template\s*\{[^}]*?destination\s*=\s*"([^"]+)"[^}]*?contents\s*=\s*"((?:[^"\\]|\\.)*)"', re.S
)
_SECRET_IN_TEMPLATE = re.compile(r'secret \\?"([^"\\]+)\\?"')


def _delivered(inv: Inventory) -> list[tuple[str, Reader]]:
    """Files a Vault agent (sidecar or init, from its ConfigMap), the injector (from pod
    annotations) or External Secrets (into a Secret) delivers, as (KV API path, reader)."""
    out: list[tuple[str, Reader]] = []
    for w in inv.workloads:
        account = f"{w.namespace}/{w.account}"
        for vol in w.pod.get("volumes", []):
            name = vol.get("configMap", {}).get("name")
            config = inv.config_maps.get((w.namespace, name)) if name else None
            if not config:
                continue
            grant = f"Vault agent configuration ConfigMap {w.namespace}/{name}"
            for text in config.get("data", {}).values():
                for destination, contents in _TEMPLATE.findall(str(text)):
                    for api_path in _SECRET_IN_TEMPLATE.findall(contents):
                        detail = f"delivered file {destination} (Vault agent)"
                        reader = Reader(w.id, account, "file", detail, grant, origin=w.resource.source)
                        if (api_path, reader) not in out:
                            out.append((api_path, reader))
        prefixes = [
            k[: -len("/agent-inject")] for k, v in w.annotations.items() if k.endswith("/agent-inject")
        ]
        for prefix in prefixes:
            if str(w.annotations[f"{prefix}/agent-inject"]).lower() != "true":
                continue
            folder = w.annotations.get(f"{prefix}/secret-volume-path", "/vault/secrets")
            lead = f"{prefix}/agent-inject-secret-"
            for key, api_path in w.annotations.items():
                if key.startswith(lead):
                    file = w.annotations.get(
                        f"{prefix}/agent-inject-file-{key[len(lead) :]}", key[len(lead) :]
                    )
                    detail = f"delivered file {folder.rstrip('/')}/{file} (Vault agent injector)"
                    grant = f"pod annotations {prefix}/agent-inject-* of {w.kind} {w.id}"
                    out.append(
                        (
                            str(api_path),
                            Reader(w.id, account, "file", detail, grant, origin=w.resource.source),
                        )
                    )
    for r in inv.external_secrets:
        m = r.properties
        ns, spec = m["metadata"]["namespace"], m.get("spec", {})
        target = spec.get("target", {}).get("name") or m["metadata"]["name"]
        store = spec.get("secretStoreRef", {}).get("name", "")
        config = inv.secret_stores.get((ns, store), {})
        vault = config.get("spec", {}).get("provider", {}).get("vault", {})
        mount = vault.get("path", "secret")
        auth = vault.get("auth", {}).get("kubernetes", {})
        account = f"{ns}/{auth.get('serviceAccountRef', {}).get('name', 'default')}"
        grant = (
            f"ExternalSecret {ns}/{m['metadata']['name']} via SecretStore {ns}/{store} "
            f"(auth role {auth.get('role')})"
        )
        for item in spec.get("data", []):
            api_path = f"{mount}/data/{item['remoteRef']['key']}"
            detail = f"synced into Secret {ns}/{target} by the External Secrets operator"
            reader = Reader(None, account, "vault", detail, grant, True, r.source)
            if (api_path, reader) not in out:
                out.append((api_path, reader))
    return out
