"""Generate a large, valid secureai spec: N workloads over about ten namespaces.

Every section is exercised: namespaces, generated secrets read by workloads, security profiles,
access grants (workloads with API tokens), Vault readers, network rules between tiers, and all
five workload kinds. The spec validates with no errors (values are generated, so no variable or
file needs to exist). Run as a script to print one: `python benchmarks/gen_spec.py 1000`.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

KINDS = ("Deployment", "StatefulSet", "Job", "CronJob", "Pod")
TIERS = ("web", "api", "db")
RESOURCES = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"cpu": "500m", "memory": "512Mi"},
}


def generate(n_workloads: int) -> str:
    """The YAML text of a valid spec with `n_workloads` workloads."""
    n_ns = max(1, min(10, n_workloads))
    namespaces = [f"team-{i:02d}" for i in range(n_ns)]
    spec: dict[str, Any] = {
        "version": 1,
        "project": "bench",
        "kubernetes": {"version": "1.30", "networkPlugin": "calico"},
        "vault": {"address": "http://vault.vault.svc:8200"},
        "namespaces": {ns: {"podSecurity": "restricted", "network": "default-deny"} for ns in namespaces},
        "secrets": {
            f"db-{ns}": {"namespace": ns, "data": {"password": {"generate": {"length": 32}}}}
            for ns in namespaces
        },
        "vaultSecrets": {
            f"models/{ns}": {"data": {"learning_rate": 0.01, "epochs": 10}} for ns in namespaces
        },
        "securityProfiles": {
            "standard": {},
            "scratch": {
                "readOnlyRootFilesystem": True,
                "volumes": ["configMap", "emptyDir", "projected", "secret"],
            },
        },
        "access": {
            f"reader-{ns}": {
                "namespace": ns,
                "can": [{"verbs": ["get", "list", "watch"], "resources": ["pods"]}],
            }
            for ns in namespaces
        },
        "workloads": {},
        "network": {},
    }
    for i in range(n_workloads):
        name, workload = _workload(i, namespaces)
        spec["workloads"][name] = workload
    for ns in namespaces:
        spec["network"][f"{ns}-web-to-api"] = _rule(ns, "web", "api", "http:8080/TCP")
        spec["network"][f"{ns}-api-to-db"] = _rule(ns, "api", "db", "postgres:5432/TCP")
    return yaml.safe_dump(spec, sort_keys=False, default_flow_style=False)


def _workload(i: int, namespaces: list[str]) -> tuple[str, dict[str, Any]]:
    ns = namespaces[i % len(namespaces)]
    kind = KINDS[i % len(KINDS)]
    tier = TIERS[i % len(TIERS)]
    w: dict[str, Any] = {
        "namespace": ns,
        "kind": kind,
        "image": f"ghcr.io/acme/app-{i % 17}:1.{i % 7}.0",
        "labels": {"tier": tier, "app": f"w-{i}"},
        "securityProfile": "standard" if i % 2 else "scratch",
        "runAsUser": 10001,
        "env": {"DB_PASSWORD": {"secret": f"db-{ns}", "key": "password"}, "MODE": {"value": tier}},
        "volumes": {"cache": {"mountPath": "/cache", "emptyDir": {"sizeLimit": "256Mi"}, "readOnly": False}},
        "resources": RESOURCES,
    }
    if kind == "CronJob":
        w["schedule"] = f"{i % 60} * * * *"
    if kind in ("Deployment", "StatefulSet"):
        w["replicas"] = 1 + i % 3
    if tier != "web":
        w["ports"] = ["http:8080/TCP"] if tier == "api" else ["postgres:5432/TCP"]
    if i % 10 == 0:
        w["serviceAccount"] = f"reader-{ns}"
    elif i % 10 == 5:
        w["vault"] = {"read": [f"models/{ns}"]}
    return f"w-{i}", w


def _rule(ns: str, source: str, target: str, port: str) -> dict[str, Any]:
    return {
        "namespace": ns,
        "from": [{"pods": {"tier": source}}],
        "to": [{"pods": {"tier": target}}],
        "ports": [port],
    }


if __name__ == "__main__":
    sys.stdout.write(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
