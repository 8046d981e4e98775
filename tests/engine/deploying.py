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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .harness import ControlPlane
from .pulumi_engine import pulumi_engine

PASSPHRASE = "engine-tests-passphrase"
CANARY = "canary-db-password-7f3c9e1a"  # DB_PASSWORD: must reach the cluster, never the state
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
        self, verb: str, spec: Path, *extra: str, env: Mapping[str, str] | None = None, timeout: float = 900
    ) -> Run:
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
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        return Run(["secureai", verb, spec.name, *extra], done.returncode, done.stdout, done.stderr)

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


def deployer_for(control_plane: ControlPlane, pulumi_home: Path, where: Path) -> Deployer:
    """A Deployer with its own local state and workspace under `where`."""
    env = pulumi_engine().env(pulumi_home)
    env.update(
        KUBECONFIG=str(control_plane.kubeconfig),
        PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
        DB_PASSWORD=CANARY,
    )
    env.pop("VAULT_TOKEN", None)
    (where / "state").mkdir(parents=True, exist_ok=True)
    return Deployer(env, where / "workspace", f"file://{where / 'state'}")
