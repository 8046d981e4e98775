"""Generate a composed organisation: a platform root spec and one file per team.

Each team owns one namespace (`team-NNN`) and declares its namespace, a generated secret, a
Vault path, an access grant, network rules between its tiers and its share of the workloads
(the same workloads as gen_spec.py, all five kinds). The root holds the target, Vault, the
security profiles and one `include` entry per team. The organisation validates with no errors.
Run as a script to write one: `python benchmarks/gen_org.py DIR 10000 100`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml
from gen_spec import _rule, _workload


def write_org(folder: Path, n_workloads: int, n_files: int) -> Path:
    """Write the root (returned) and `n_files` team files with `n_workloads` in all."""
    teams = [f"team-{i:03d}" for i in range(n_files)]
    (folder / "teams").mkdir(parents=True, exist_ok=True)
    root: dict[str, Any] = {
        "version": 1,
        "project": "bench-org",
        "kubernetes": {"version": "1.30", "networkPlugin": "calico"},
        "vault": {"address": "http://vault.vault.svc:8200"},
        "include": [{"files": f"teams/{t}.yaml", "owns": [t], "vaultPaths": [f"models/{t}"]} for t in teams],
        "securityProfiles": {
            "standard": {},
            "scratch": {
                "readOnlyRootFilesystem": True,
                "volumes": ["configMap", "emptyDir", "projected", "secret"],
            },
        },
    }
    parts: dict[str, dict[str, Any]] = {t: _team(t) for t in teams}
    for i in range(n_workloads):
        name, workload = _workload(i, teams)
        parts[workload["namespace"]]["workloads"][name] = workload
    for team, part in parts.items():
        _dump(folder / "teams" / f"{team}.yaml", part)
    _dump(folder / "secureai.yaml", root)
    return folder / "secureai.yaml"


def _team(ns: str) -> dict[str, Any]:
    return {
        "namespaces": {ns: {}},  # restricted, default-deny: the defaults a team file keeps
        "secrets": {f"db-{ns}": {"namespace": ns, "data": {"password": {"generate": {"length": 32}}}}},
        "vaultSecrets": {f"models/{ns}": {"data": {"learning_rate": 0.01, "epochs": 10}}},
        "access": {
            f"reader-{ns}": {
                "namespace": ns,
                "can": [{"verbs": ["get", "list", "watch"], "resources": ["pods"]}],
            }
        },
        "workloads": {},
        "network": {
            f"{ns}-web-to-api": _rule(ns, "web", "api", "http:8080/TCP"),
            f"{ns}-api-to-db": _rule(ns, "api", "db", "postgres:5432/TCP"),
        },
    }


def _dump(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, default_flow_style=False), encoding="utf-8")


if __name__ == "__main__":
    print(write_org(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
