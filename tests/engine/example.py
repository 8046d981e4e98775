"""The README's main job on a local cluster: `secureai apply` an example spec through the real
Pulumi engine, show the result, then stop everything (used by scripts/example.sh).

    cd tests && ../.venv/bin/python -m engine.example ../specs/ai-platform.yaml

Starts the harness control plane (plus, when the spec has Calico objects, a stand-in for
Calico's API), installs the built provider plugins into a private PULUMI_HOME, and runs
`secureai apply --yes`, then `secureai preview --expect-no-changes` (the proof that the
cluster holds what the spec says), then `secureai destroy --yes`. What the local cluster
cannot take is changed in a temporary copy, and said: the target version is set to the
cluster's minor, and without the pulumi-vault plugin (pulumi_engine.VAULT_PLUGIN_MISSING)
the spec's Vault parts are left out.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from .harness import ControlPlane, HarnessError
from .pulumi_engine import VAULT_PLUGIN_MISSING, pulumi_engine
from .specs import retarget

CALICO_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "globalnetworkpolicies.projectcalico.org"},
    "spec": {
        "group": "projectcalico.org",
        "scope": "Cluster",
        "names": {
            "kind": "GlobalNetworkPolicy",
            "plural": "globalnetworkpolicies",
            "singular": "globalnetworkpolicy",
            "listKind": "GlobalNetworkPolicyList",
        },
        "versions": [
            {
                "name": "v3",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                },
            }
        ],
    },
}
VAULT_KEYS = ("vault", "vaultSecrets")


def say(text: str) -> None:
    print(f"[example] {text}", flush=True)


def without_vault(data: dict[str, Any]) -> list[str]:
    """Drop the spec's Vault parts in place; return what was dropped."""
    dropped = [key for key in VAULT_KEYS if data.pop(key, None) is not None]
    for name, workload in (data.get("workloads") or {}).items():
        if workload.pop("vault", None) is not None:
            dropped.append(f"workloads.{name}.vault")
    for name, secret in (data.get("secrets") or {}).items():
        for key, value in list((secret.get("data") or {}).items()):
            if isinstance(value, dict) and "fromVault" in value:
                del secret["data"][key]
                dropped.append(f"secrets.{name}.data.{key}")
    for name, expectation in list((data.get("expect") or {}).items()):
        if "vault" in repr(expectation):  # an assertion about what was left out
            del data["expect"][name]
            dropped.append(f"expect.{name}")
    return dropped


def local_copy(spec: Path, minor: str, into: Path, vault_plugin: bool) -> Path:
    declared = yaml.safe_load(spec.read_text(encoding="utf-8"))["kubernetes"].get("version")
    copy = retarget(spec, minor, into)
    data = yaml.safe_load(copy.read_text(encoding="utf-8"))
    say(f"target version set to the local cluster's {minor} in a copy (the spec says {declared})")
    data["kubernetes"]["context"] = "secureai-engine"
    if not vault_plugin:
        dropped = without_vault(data)
        if dropped:
            say(f"left out of the copy: {', '.join(dropped)}, because {VAULT_PLUGIN_MISSING}")
    copy.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return copy


def secureai(verb: str, spec: Path, env: dict[str, str], work: Path, *extra: str) -> int:
    argv = [
        sys.executable,
        "-m",
        "secureai",
        verb,
        str(spec),
        "--backend",
        f"file://{work / 'state'}",
        "--work-dir",
        str(work / "workspace"),
        *extra,
    ]
    say(f"$ secureai {verb} {spec.name} {' '.join(extra)}".rstrip())
    started = time.monotonic()
    code = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, check=False).returncode
    say(f"exit {code} after {time.monotonic() - started:.0f}s")
    return code


def run(spec: Path, keep: bool) -> int:
    engine = pulumi_engine()
    missing = engine.missing_reason()
    if missing:
        say(missing)
        return 2
    work = Path(tempfile.mkdtemp(prefix="secureai-example-"))
    (work / "state").mkdir()
    plane = ControlPlane(workdir=work / "kube")
    started = time.monotonic()
    try:
        plane.start()
    except HarnessError as failed:
        say(str(failed))
        return 2
    try:
        say(f"control plane {plane.version} up in {time.monotonic() - started:.0f}s (logs: {plane.logs})")
        kube = plane.client()
        minor = ".".join(plane.version.removeprefix("v").split(".")[:2])
        copy = local_copy(spec, minor, work / "spec", vault_plugin="vault" in engine.providers)
        if "networkPlugin: calico" in copy.read_text(encoding="utf-8"):
            kube.apply_ok(CALICO_CRD)
            kube.wait_for("projectcalico.org/v3", lambda: kube.served("projectcalico.org/v3"))
            say("Calico's projectcalico.org/v3 API stood in for by a CRD (no Calico on this cluster)")
        engine.prepare(work / "pulumi-home")
        env = engine.env(work / "pulumi-home")
        env.update(KUBECONFIG=str(plane.kubeconfig), PULUMI_CONFIG_PASSPHRASE="example-passphrase")
        env.setdefault("DB_PASSWORD", "example-db-password")
        code = secureai("apply", copy, env, work, "--yes")
        if code == 0:
            code = secureai("preview", copy, env, work, "--expect-no-changes")
        if code == 0 and not keep:
            code = secureai("destroy", copy, env, work, "--yes")
        return code
    finally:
        if keep:
            plane.save_state()
            say(
                f"left running: KUBECONFIG={plane.kubeconfig}; stop with `bash scripts/engine/cluster.sh down {plane.dir}`"
            )
        else:
            plane.stop()
            say("control plane stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="engine.example", description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", type=Path)
    parser.add_argument("--keep", action="store_true", help="leave the cluster and the stack up")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    return run(args.spec.resolve(), args.keep)


if __name__ == "__main__":
    sys.exit(main())
