"""A real local Kubernetes control plane for the engine tests, in the shape of envtest.

`ControlPlane.start()` runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
kwok on free 127.0.0.1 ports, with a fresh CA, serving certificate, service-account signing key
and admin token (token auth file), writes a kubeconfig (context `secureai-engine`), and
registers one fake kwok Node with cpu, memory, pods and `nvidia.com/gpu`, so pods become
Ready, rollouts and Jobs complete. `stop()` stops each process by its PID, and a killed test
run takes them with it (children.py). Every process logs to `<workdir>/logs/<name>.log`; a
start-up failure raises with the tails of those logs.

By hand (from the repository root):

    bash scripts/engine/cluster.sh up [DIR]     # prints `export KUBECONFIG=...`
    bash scripts/engine/cluster.sh down [DIR]

No secret is ever put in a child's argv or environment: the token is in files only.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from children import Child, free_port, spawn, stop_pid

from .kubeapi import KubeClient
from .toolchain import KubeToolchain, kube_toolchain, minor_of

CONTEXT = "secureai-engine"
NODE = "kwok-node-0"
NODE_SELECTOR = "kwok.x-k8s.io/node=fake"
SERVICE_CIDR = "10.0.0.0/24"
ISSUER = "https://kubernetes.default.svc.cluster.local"
START_TIMEOUT = 90.0
# kwok stage files used: node initialise + lease heartbeat, pods ready / complete / delete.
STAGES = (
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/fast/pod-ready.yaml",
    "pod/fast/pod-complete.yaml",
    "pod/fast/pod-delete.yaml",
)
NODE_RESOURCES = {
    "cpu": "64",
    "memory": "256Gi",
    "pods": "250",
    "nvidia.com/gpu": "8",
    "ephemeral-storage": "1Ti",
}


class HarnessError(RuntimeError):
    """The control plane did not come up; the message carries the process logs."""


@dataclass
class Process:
    name: str
    argv: list[str]
    log: Path
    child: Child | None = None

    @property
    def pid(self) -> int:
        assert self.child is not None
        return self.child.pid

    @property
    def popen(self) -> subprocess.Popen[bytes] | None:
        return self.child.popen if self.child else None

    def start(self, env: dict[str, str], tied: bool = True) -> None:
        # A session of its own: Ctrl-C in the test run reaches pytest, which stops us in order.
        self.child = spawn(self.argv, log=self.log, env=env, tied=tied, new_session=True)

    def alive(self) -> bool:
        return self.child is not None and self.child.alive()

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()

    def tail(self, lines: int = 40) -> str:
        if not self.log.is_file():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class ControlPlane:
    """etcd + kube-apiserver + controller-manager + scheduler + kwok, on 127.0.0.1."""

    toolchain: KubeToolchain = field(default_factory=kube_toolchain)
    workdir: Path | None = None
    processes: list[Process] = field(default_factory=list)
    server: str = ""
    etcd_url: str = ""
    etcd_dir: Path | None = None
    token: str = ""
    # False: the processes outlive this Python process (`cluster.sh up`, `example --keep`).
    tied: bool = True
    _owns_workdir: bool = False

    # ------------------------------------------------------------------ paths

    @property
    def dir(self) -> Path:
        assert self.workdir is not None, "start() first"
        return self.workdir

    @property
    def kubeconfig(self) -> Path:
        return self.dir / "kubeconfig"

    @property
    def ca_file(self) -> Path:
        return self.dir / "pki" / "ca.crt"

    @property
    def logs(self) -> Path:
        return self.dir / "logs"

    @property
    def context(self) -> str:
        return CONTEXT

    @property
    def version(self) -> str:
        return self.toolchain.version

    @property
    def minor(self) -> str:
        return minor_of(self.version)

    def client(self) -> KubeClient:
        return KubeClient(self.server, self.token, self.ca_file)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        missing = self.toolchain.missing_reason()
        if missing:
            raise HarnessError(missing)
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="secureai-kube-"))
            self._owns_workdir = True
        for sub in ("pki", "logs"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        try:
            self._pki()
            self._start_etcd()
            self._start_apiserver()
            self._write_kubeconfig()
            self._start_controllers()
            self._add_node()
        except BaseException as failed:
            report = self.report()
            self.stop()
            if isinstance(failed, HarnessError | TimeoutError | OSError | subprocess.SubprocessError):
                raise HarnessError(f"control plane did not start: {failed}\n{report}") from failed
            raise

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        if self.etcd_dir is not None:
            shutil.rmtree(self.etcd_dir, ignore_errors=True)
            self.etcd_dir = None

    def cleanup(self) -> None:
        """stop() and remove a workdir this object created."""
        self.stop()
        if self._owns_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def report(self, lines: int = 40) -> str:
        """The last lines of every process log (for failures)."""
        parts = []
        for process in self.processes:
            state = (
                "running"
                if process.alive()
                else f"exited {process.popen.returncode if process.popen else '-'}"
            )
            parts.append(
                f"--- {process.name} (pid {process.popen.pid if process.popen else '-'}, {state}, {process.log})"
            )
            parts.append(process.tail(lines))
        return "\n".join(parts)

    def dead(self) -> list[str]:
        return [p.name for p in self.processes if not p.alive()]

    # ------------------------------------------------------------------ pieces

    def _env(self) -> dict[str, str]:
        # Nothing from the caller's environment (no tokens, no proxies, no KUBECONFIG).
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.dir),
            # Debian's etcd 3.4.23 lacks progress notifications, so the API server refuses
            # streaming list-watch; newer client-go (kwok's) would retry it with backoff
            # before falling back, stalling pods for up to a minute.
            "KUBE_FEATURE_WatchListClient": "false",
        }

    def _spawn(self, name: str, argv: list[str]) -> Process:
        process = Process(name, argv, self.logs / f"{name}.log")
        process.start(self._env(), self.tied)
        self.processes.append(process)
        return process

    def _openssl(self, *args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=self.dir / "pki", timeout=60)

    def _pki(self) -> None:
        pki = self.dir / "pki"
        self._openssl(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=secureai-engine-ca",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        )
        (pki / "serving.ext").write_text(
            "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
            "DNS:kubernetes.default.svc,IP:10.0.0.1\n"
            "extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        )
        self._openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=kube-apiserver",
            "-keyout",
            "apiserver.key",
            "-out",
            "apiserver.csr",
        )
        self._openssl(
            "x509",
            "-req",
            "-in",
            "apiserver.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "serving.ext",
            "-out",
            "apiserver.crt",
        )
        self._openssl("genrsa", "-out", "sa.key", "2048")
        self._openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub")
        self.token = secrets.token_hex(24)
        tokens = pki / "tokens.csv"
        tokens.write_text(f"{self.token},secureai-admin,secureai-admin-uid,system:masters\n")
        for secret_file in ("ca.key", "apiserver.key", "sa.key", "tokens.csv"):
            (pki / secret_file).chmod(0o600)

    def _start_etcd(self) -> None:
        client, peer = free_port(), free_port()
        # tmpfs where there is one: etcd fsyncs every write, and these clusters are throwaway.
        shm = Path("/dev/shm")
        on_shm = shm.is_dir() and os.access(shm, os.W_OK)
        self.etcd_dir = Path(tempfile.mkdtemp(prefix="secureai-etcd-", dir=shm if on_shm else self.dir))
        self.etcd_url = f"http://127.0.0.1:{client}"
        etcd = self._spawn(
            "etcd",
            [
                str(self.toolchain.etcd.path),
                f"--data-dir={self.etcd_dir}",
                f"--listen-client-urls={self.etcd_url}",
                f"--advertise-client-urls={self.etcd_url}",
                f"--listen-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-cluster=default=http://127.0.0.1:{peer}",
                "--unsafe-no-fsync=true",
                "--logger=zap",
                "--log-level=warn",
            ],
        )
        self._wait(etcd, "etcd /health", lambda: _http_ok(f"{self.etcd_url}/health"))

    def _start_apiserver(self) -> None:
        port = free_port()
        pki = self.dir / "pki"
        self.server = f"https://127.0.0.1:{port}"
        apiserver = self._spawn(
            "kube-apiserver",
            [
                str(self.toolchain.apiserver.path),
                f"--etcd-servers={self.etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={port}",
                f"--cert-dir={pki}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--token-auth-file={pki / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                f"--service-account-issuer={ISSUER}",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--allow-privileged=true",
                "--endpoint-reconciler-type=none",
                "--profiling=false",
                "--v=1",
            ],
        )
        client = self.client()
        self._wait(
            apiserver, "kube-apiserver /readyz", lambda: client.request("GET", "/readyz", timeout=2).ok
        )

    def _write_kubeconfig(self) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": CONTEXT,
                    "cluster": {"server": self.server, "certificate-authority": str(self.ca_file)},
                }
            ],
            "users": [{"name": "secureai-admin", "user": {"token": self.token}}],
            "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": "secureai-admin"}}],
            "current-context": CONTEXT,
        }
        self.kubeconfig.write_text(yaml.safe_dump(config, sort_keys=False))
        self.kubeconfig.chmod(0o600)

    def _start_controllers(self) -> None:
        pki = self.dir / "pki"
        self._spawn(
            "kube-controller-manager",
            [
                str(self.toolchain.controller_manager.path),
                f"--kubeconfig={self.kubeconfig}",
                "--leader-elect=false",
                "--secure-port=0",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                # kwok renews the fake node's lease; on a loaded 2-core machine a renewal can
                # come late, and after the default 50 s the node goes NotReady and every pod
                # with it: a clean preview right after apply then shows updates.
                "--node-monitor-grace-period=10m",
                "--v=1",
            ],
        )
        self._spawn(
            "kube-scheduler",
            [
                str(self.toolchain.scheduler.path),
                f"--kubeconfig={self.kubeconfig}",
                "--leader-elect=false",
                "--secure-port=0",
                "--v=1",
            ],
        )
        stages = self.dir / "kwok-stages.yaml"
        stages.write_text(
            "\n---\n".join((self.toolchain.kwok_stages / stage).read_text() for stage in STAGES)
        )
        kwok_port = free_port()
        self._spawn(
            "kwok",
            [
                str(self.toolchain.kwok.path),
                f"--kubeconfig={self.kubeconfig}",
                f"--config={stages}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={NODE_SELECTOR}",
                "--node-lease-duration-seconds=40",
                f"--server-address=127.0.0.1:{kwok_port}",
                f"--node-port={kwok_port}",
                "--node-ip=127.0.0.1",
            ],
        )

    def _add_node(self) -> None:
        client = self.client()
        key, _, value = NODE_SELECTOR.partition("=")
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": NODE,
                "annotations": {key: value, "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {
                    "kubernetes.io/hostname": NODE,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "type": "kwok",
                },
            },
            "status": {"allocatable": dict(NODE_RESOURCES), "capacity": dict(NODE_RESOURCES)},
        }
        reply = client.create(node)
        if not reply.ok:
            raise HarnessError(f"creating Node {NODE}: HTTP {reply.status}: {reply.message}")

        def ready() -> bool:
            got = client.get("v1", "Node", NODE).body
            conditions = got.get("status", {}).get("conditions", [])
            untainted = not any(
                t.get("key", "").startswith("node.kubernetes.io/")
                for t in got.get("spec", {}).get("taints", [])
            )
            return untainted and any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

        self._wait(None, f"Node {NODE} Ready (kwok)", ready)

        def default_account() -> bool:  # the controller-manager is working
            return client.get("v1", "ServiceAccount", "default", "default").ok

        self._wait(None, "ServiceAccount default/default (controller-manager)", default_account)

    def _wait(self, process: Process | None, what: str, probe: Any) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process is not None and not process.alive():
                raise HarnessError(f"{process.name} exited while waiting for {what}")
            dead = self.dead()
            if dead:
                raise HarnessError(f"{', '.join(dead)} exited while waiting for {what}")
            try:
                if probe():
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise HarnessError(f"timed out after {START_TIMEOUT:.0f}s waiting for {what}")

    # ------------------------------------------------------------------ by hand

    def save_state(self) -> Path:
        state = {
            "server": self.server,
            "kubeconfig": str(self.kubeconfig),
            "context": CONTEXT,
            "etcd_dir": str(self.etcd_dir),
            "processes": [
                {"name": p.name, "pid": p.pid, "started": p.child.started if p.child else -1}
                for p in self.processes
            ],
        }
        path = self.dir / "state.json"
        path.write_text(json.dumps(state, indent=2))
        return path


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def down(workdir: Path) -> None:
    state = json.loads((workdir / "state.json").read_text())
    for process in reversed(state["processes"]):
        stop_pid(process["pid"], process.get("started", -1))
        print(f"stopped {process['name']} (pid {process['pid']})")
    shutil.rmtree(state["etcd_dir"], ignore_errors=True)
    (workdir / "state.json").unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cluster.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["up", "down", "check"])
    parser.add_argument("dir", nargs="?", default=str(Path(tempfile.gettempdir()) / "secureai-kube"))
    args = parser.parse_args(argv)
    workdir = Path(args.dir)
    if args.action == "check":
        reason = kube_toolchain().missing_reason()
        print(reason or "engine toolchain complete")
        return 1 if reason else 0
    if args.action == "down":
        if not (workdir / "state.json").is_file():
            print(f"no control plane recorded in {workdir}", file=sys.stderr)
            return 1
        down(workdir)
        return 0
    if (workdir / "state.json").is_file():
        print(
            f"a control plane is already recorded in {workdir}: `cluster.sh down {workdir}` first",
            file=sys.stderr,
        )
        return 1
    plane = ControlPlane(workdir=workdir, tied=False)
    started = time.monotonic()
    try:
        plane.start()
    except HarnessError as failed:
        print(failed, file=sys.stderr)
        return 2
    plane.save_state()
    print(f"# control plane {plane.version} up in {time.monotonic() - started:.1f}s; logs in {plane.logs}")
    for line in _operator_apis(plane):
        print(f"# {line}")
    print(f"export KUBECONFIG={plane.kubeconfig}")
    return 0


def _operator_apis(plane: ControlPlane) -> list[str]:
    """What the examples apply beyond core Kubernetes, served as `engine.example` serves it, so
    that `secureai apply` of any example works on a cluster started by hand too."""
    from .operator_apis import STAND_INS, serve_real_crds, serve_stand_ins  # imports this module
    from .toolchain import external_secrets_crds

    kube = plane.client()
    said = []
    missing = external_secrets_crds().missing_reason()
    if missing:
        said.append(f"External Secrets CRDs not installed: {missing}")
    else:
        crds = serve_real_crds(kube)
        said.append(f"the {crds.name} operator's CRDs {crds.version} (no operator runs)")
    serve_stand_ins(kube)
    said.append(f"schemaless stand-in CRDs for {', '.join(STAND_INS)} (no real schema to install)")
    return said


if __name__ == "__main__":
    sys.exit(main())
