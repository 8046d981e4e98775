"""Driving `secureai preview/apply/destroy` as a user does, against the engine tests' cluster.

A `Deployer` runs the real CLI (`python -m secureai`) in a child process with the built pulumi
CLI and plugins (pulumi_engine.py), the harness kubeconfig, a passphrase and a state backend
of its own; `compare` checks an object read back from the API server against the manifest
`render` wrote for it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from vault_server import BaoServer

from .harness import CONTEXT, NODE, ControlPlane
from .kubeapi import KubeClient
from .pulumi_engine import pulumi_engine
from .specs import bring_parts, retarget

PASSPHRASE = "engine-tests-passphrase"
CANARY = "canary-db-password-7f3c9e1a"  # DB_PASSWORD: must reach the cluster, never the state
# A value for every `fromEnv` the example specs name.
STAND_IN_ENV = {
    "DB_PASSWORD": CANARY,
    "SERVING_API_KEY": "engine-tests-serving-api-key",
    "HF_TOKEN": "engine-tests-hf-token",
    "WANDB_API_KEY": "engine-tests-wandb-api-key",
    "REGISTRY_AUTH_JSON": json.dumps({"auths": {"registry.example.com": {"auth": "ZW5naW5lOnRlc3Rz"}}}),
}
# Where the Kubernetes API keeps what Secret.stringData wrote (stringData is write-only).
WRITE_ONLY = {("Secret", "stringData")}


@dataclass
class Run:
    argv: list[str]
    code: int
    out: str
    err: str

    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.out)
        return value

    def __str__(self) -> str:
        return f"$ {' '.join(self.argv)}\nexit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


@dataclass
class Deployer:
    env: dict[str, str] = field(repr=False)
    work_dir: Path
    backend: str

    def run(
        self,
        verb: str,
        spec: Path,
        *extra: str,
        env: Mapping[str, str] | None = None,
        timeout: float = 900,
        capture: bool = True,
    ) -> Run:
        """`secureai <verb> <spec> --backend ... --work-dir ... <extra>` in a child process;
        `capture=False` lets its output through (scripts), and `out`/`err` are then empty."""
        argv = [
            sys.executable,
            "-m",
            "secureai",
            verb,
            str(spec),
            "--backend",
            self.backend,
            "--work-dir",
            str(self.work_dir),
            *extra,
        ]
        done = subprocess.run(
            argv,
            env=dict(env or self.env),
            capture_output=capture,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        return Run(
            ["secureai", verb, spec.name, *extra], done.returncode, done.stdout or "", done.stderr or ""
        )

    def ok(self, verb: str, spec: Path, *extra: str, env: Mapping[str, str] | None = None) -> Run:
        run = self.run(verb, spec, *extra, env=env)
        assert run.code == 0, str(run)
        return run

    def changes(self, spec: Path, *extra: str) -> list[dict[str, Any]]:
        """The resources a preview would change (op other than same), from `preview --json`."""
        run = self.run("preview", spec, "--json", *extra)
        assert run.code in (0, 1), str(run)
        return [r for r in run.json()["preview"]["resources"] if r["op"] not in ("same", "read", "refresh")]


def edit_spec(spec: Path, edit: Any, into: Path) -> Path:
    """A copy of `spec` with `edit(data)` applied to its parsed YAML."""
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    edit(data)
    into.mkdir(parents=True, exist_ok=True)
    out = into / spec.name
    out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    files = spec.parent / "files"
    if files.exists() and not (into / "files").exists():
        (into / "files").symlink_to(files.resolve())
    bring_parts(spec, into)
    return out


def compare(rendered: Any, live: Any, path: str = "") -> list[str]:
    """Where `live` differs from `rendered`: every rendered field must be live with the same
    value; fields the server added (defaults, status, managed fields) are ignored."""
    if isinstance(rendered, Mapping):
        if not isinstance(live, Mapping):
            return [f"{path or '.'}: rendered a mapping, live has {live!r}"]
        problems = []
        for key, value in rendered.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in live:
                if value in ({}, [], None, False):
                    continue  # the server drops empty values and false (`omitempty`)
                problems.append(f"{where}: missing on the server")
                continue
            problems += compare(value, live[key], where)
        return problems
    if isinstance(rendered, list):
        if not isinstance(live, list) or len(live) != len(rendered):
            return [f"{path}: rendered {rendered!r}, live {live!r}"]
        return [
            p
            for i, (r, v) in enumerate(zip(rendered, live, strict=True))
            for p in compare(r, v, f"{path}[{i}]")
        ]
    if rendered != live and str(rendered) != str(live):
        return [f"{path}: rendered {rendered!r}, live {live!r}"]
    return []


def comparable(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The rendered manifest without write-only fields."""
    return {k: v for k, v in manifest.items() if (manifest["kind"], k) not in WRITE_ONLY}


def deployer_for(
    control_plane: ControlPlane, pulumi_home: Path, where: Path, vault: BaoServer | None = None
) -> Deployer:
    """A Deployer with its own local state and workspace under `where`; with `vault`, the
    built-in Vault provider reaches that server (VAULT_ADDR, VAULT_TOKEN), else no Vault."""
    env = pulumi_engine().env(pulumi_home)
    env.update(
        KUBECONFIG=str(control_plane.kubeconfig),
        PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
        **STAND_IN_ENV,
    )
    env.pop("VAULT_ADDR", None)
    env.pop("VAULT_TOKEN", None)
    if vault is not None:
        env.update(VAULT_ADDR=vault.address, VAULT_TOKEN=vault.token)
    (where / "state").mkdir(parents=True, exist_ok=True)
    return Deployer(env, where / "workspace", f"file://{where / 'state'}")


def for_this_cluster(spec: Path, minor: str, into: Path, vault: BaoServer | None = None) -> Path:
    """A copy of `spec` the test cluster (and OpenBao) can take: the target version set to the
    cluster's `minor`, the harness's kube context, and a `vault.address` set to `vault`'s (the
    token goes only where the spec and VAULT_ADDR agree)."""

    def local(data: dict[str, Any]) -> None:
        # The provider is configured from this context of KUBECONFIG (not the ambient default).
        data["kubernetes"]["context"] = CONTEXT
        if vault is not None and "address" in (data.get("vault") or {}):
            data["vault"]["address"] = vault.address

    return edit_spec(retarget(spec, minor, into / "retargeted"), local, into)


MERGE = "application/merge-patch+json"


def _pod_specs(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    spec = manifest.get("spec") or {}
    if manifest["kind"] == "CronJob":
        spec = spec.get("jobTemplate", {}).get("spec", {})
    template = spec.get("template", {}).get("spec")
    return [template] if template else []


def _claims(objects: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every PersistentVolumeClaim the objects make: their own, and a StatefulSet's per replica."""
    claims = [m["spec"] for m in objects if m["kind"] == "PersistentVolumeClaim"]
    for m in objects:
        if m["kind"] == "StatefulSet":
            for template in m["spec"].get("volumeClaimTemplates", []):
                claims += [template["spec"]] * int(m["spec"].get("replicas", 1))
    return claims


@contextmanager
def room_for(
    kube: KubeClient, objects: list[Mapping[str, Any]], tag: str, keep: bool = False
) -> Iterator[None]:
    """While the objects run, what a real cluster has for their pods and this one lacks: the
    node labels their nodeSelectors ask for (GPU nodes), the PriorityClasses and RuntimeClasses
    they name, and for every volume claim a StorageClass of its class (no provisioner, binding
    at once) with a PersistentVolume that fits it, so that pods are created, schedule and become
    Ready instead of failing the apply's readiness wait. `tag` names the PVs; `keep` leaves it
    all in place."""
    pods = [pod for m in objects for pod in _pod_specs(m)]
    labels = {k: v for pod in pods for k, v in (pod.get("nodeSelector") or {}).items()}
    claims = _claims(objects)
    added: list[dict[str, Any]] = []
    for name in sorted({c["storageClassName"] for c in claims if c.get("storageClassName")}):
        added.append(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {"name": name},
                "provisioner": "kubernetes.io/no-provisioner",
                "volumeBindingMode": "Immediate",
            }
        )
    for name in sorted({p["runtimeClassName"] for p in pods if p.get("runtimeClassName")}):
        added.append({**_meta("node.k8s.io/v1", "RuntimeClass", name), "handler": name})
    for name in sorted({p["priorityClassName"] for p in pods if p.get("priorityClassName")}):
        if not name.startswith("system-"):
            added.append({**_meta("scheduling.k8s.io/v1", "PriorityClass", name), "value": 1000})
    for i, claim in enumerate(claims):
        volume = _meta("v1", "PersistentVolume", f"{tag}-{i}")
        volume["spec"] = {
            "capacity": {"storage": claim["resources"]["requests"]["storage"]},
            "accessModes": claim.get("accessModes", ["ReadWriteOnce"]),
            "storageClassName": claim.get("storageClassName", ""),
            "persistentVolumeReclaimPolicy": "Retain",
            "hostPath": {"path": f"/var/lib/stand-in/{tag}-{i}"},
        }
        added.append(volume)
    node = kube.url_of(_meta("v1", "Node", NODE))
    for manifest in added:
        kube.apply_ok(manifest)
    if labels:
        assert kube.request("PATCH", node, {"metadata": {"labels": labels}}, content_type=MERGE).ok
    try:
        yield
    finally:
        if not keep:
            if labels:
                unset = {"metadata": {"labels": dict.fromkeys(labels)}}
                kube.request("PATCH", node, unset, content_type=MERGE)
            # A bound volume goes when its claim does (the destroy, or its namespace's deletion).
            for manifest in reversed(added):
                kube.delete(manifest["apiVersion"], manifest["kind"], manifest["metadata"]["name"])


def _meta(api_version: str, kind: str, name: str) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "metadata": {"name": name}}
