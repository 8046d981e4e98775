"""The real engine's state and its failures: secrets kept out of state, generated secrets kept
across applies, a team backend (S3 on loopback, served by moto), and the failures a user meets
(cluster down, stack locked, plugin missing), each one line and a hint, exit 2, no traceback,
with the next apply finishing the job."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from children import free_port, spawn

from .conftest import need
from .deploying import CANARY, Deployer, Run, deployer_for
from .harness import ControlPlane
from .kubeapi import KubeClient

pytestmark = pytest.mark.engine

NAMESPACE = "secureai-engine-state"
SPEC = f"""\
version: 1
project: engine-state
environment: ci
kubernetes: {{ version: "1.34", context: secureai-engine }}
namespaces:
  {NAMESPACE}: {{ podSecurity: restricted, network: default-deny }}
secrets:
  app-secret:
    namespace: {NAMESPACE}
    data:
      db_password: {{ fromEnv: DB_PASSWORD }}
      api_token: {{ generate: {{ length: 40 }} }}
workloads:
  app:
    namespace: {NAMESPACE}
    kind: Deployment
    image: ghcr.io/acme/app:1.0.0
    runAsUser: 10001
    env:
      API_TOKEN: {{ secret: app-secret, key: api_token }}
    resources: {{ requests: {{ cpu: 100m, memory: 128Mi }}, limits: {{ cpu: 200m, memory: 256Mi }} }}
"""


def _spec(tmp_path: Path, minor: str, replicas: int = 1) -> Path:
    path = tmp_path / f"state-{replicas}.yaml"
    text = SPEC.replace('version: "1.34"', f'version: "{minor}"')
    text = text.replace("    kind: Deployment\n", f"    kind: Deployment\n    replicas: {replicas}\n")
    path.write_text(text, encoding="utf-8")
    return path


def _api_token(kube: KubeClient) -> str:
    reply = kube.get("v1", "Secret", "app-secret", NAMESPACE)
    assert reply.ok, reply.message
    return base64.b64decode(reply.body["data"]["api_token"]).decode()


def _files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def _one_line_error(run: Run) -> str:
    """The error text: exit 2, no traceback, one `error:` line and a hint."""
    assert run.code == 2, str(run)
    assert "Traceback" not in run.err + run.out, str(run)
    errors = [line for line in run.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, str(run)
    assert "\n  hint: " in run.err, str(run)
    return run.err


@pytest.fixture
def deployer(control_plane: ControlPlane, pulumi_home: Path, tmp_path: Path) -> Iterator[Deployer]:
    deployer = deployer_for(control_plane, pulumi_home, tmp_path)
    yield deployer
    # Leave the shared cluster clean even when the test failed half-way.
    deployer.run("destroy", _spec(tmp_path, control_plane.minor), "--yes")


def test_state_holds_no_secret_and_generated_secrets_survive(
    control_plane: ControlPlane, kube: KubeClient, deployer: Deployer, tmp_path: Path
) -> None:
    spec = _spec(tmp_path, control_plane.minor)
    deployer.ok("apply", spec, "--yes")
    token = _api_token(kube)
    assert len(token) == 40
    scaled = _spec(tmp_path, control_plane.minor, replicas=2)
    deployer.ok("apply", scaled, "--yes")
    assert _api_token(kube) == token, "the generated secret changed between two applies"

    state_root = Path(deployer.backend.removeprefix("file://"))
    files = _files_under(state_root, deployer.work_dir)
    assert any(p.suffix == ".json" for p in files), "no state file written"
    for path in files:
        data = path.read_bytes()
        for secret in (CANARY, token):
            assert secret.encode() not in data, f"{path} holds a secret value in plain text"
            assert base64.b64encode(secret.encode()) not in data, f"{path} holds a secret value in base64"


def test_missing_plugin_fails_fast_then_apply_finishes(
    control_plane: ControlPlane, deployer: Deployer, tmp_path: Path
) -> None:
    spec = _spec(tmp_path, control_plane.minor)
    empty_home = tmp_path / "empty-pulumi-home"
    empty_home.mkdir()
    started = time.monotonic()
    failed = deployer.run("apply", spec, "--yes", env={**deployer.env, "PULUMI_HOME": str(empty_home)})
    text = _one_line_error(failed)
    assert "plugin 'kubernetes' is not installed" in text
    assert "pulumi plugin install resource kubernetes" in text
    assert time.monotonic() - started < 120  # no download attempt
    deployer.ok("apply", spec, "--yes")


def test_locked_stack_is_refused_while_another_apply_runs(
    control_plane: ControlPlane, deployer: Deployer, tmp_path: Path
) -> None:
    spec = _spec(tmp_path, control_plane.minor)
    deployer.ok("preview", spec)  # stack and generated secrets exist before the race
    state_root = Path(deployer.backend.removeprefix("file://"))
    argv = [
        sys.executable,
        "-m",
        "secureai",
        "apply",
        str(spec),
        "--yes",
        "--backend",
        deployer.backend,
        "--work-dir",
        str(deployer.work_dir),
    ]
    first = subprocess.Popen(
        argv, env=deployer.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 300
        while not any("locks" in p.parts for p in _files_under(state_root)):
            assert first.poll() is None, f"the first apply ended before it locked: {first.communicate()}"
            assert time.monotonic() < deadline, "the first apply never took the lock"
            time.sleep(0.1)
        second = deployer.run("apply", spec, "--yes")
        text = _one_line_error(second)
        assert "locked by another update" in text
        assert "pulumi cancel" in text
    finally:
        out, err = first.communicate(timeout=600)
    assert first.returncode == 0, f"{out}\n{err}"
    assert deployer.run("preview", spec, "--expect-no-changes").code == 0


def test_cluster_down_is_one_line_and_the_next_apply_finishes(
    control_plane: ControlPlane, deployer: Deployer, tmp_path: Path
) -> None:
    spec = _spec(tmp_path, control_plane.minor)
    apiserver = next(p for p in control_plane.processes if p.name == "kube-apiserver")
    apiserver.stop()
    try:
        failed = deployer.run("apply", spec, "--yes")
    finally:
        apiserver.start({"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(control_plane.dir)})
        kube = control_plane.client()
        kube.wait_for("kube-apiserver back", lambda: _ready(kube), timeout=120)
    text = _one_line_error(failed)
    assert "cluster is unreachable" in text, text
    deployer.ok("apply", spec, "--yes")


def _ready(kube: KubeClient) -> bool:
    try:
        return kube.request("GET", "/readyz", timeout=2).ok
    except OSError:
        return False


@pytest.fixture
def moto_s3(tmp_path: Path) -> Iterator[str]:
    """An S3 API on 127.0.0.1 (moto's server), with one bucket; yields the endpoint URL."""
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    need(None if server else "moto_server not installed (pip install 'moto[server]')")
    assert server is not None
    port = free_port()
    moto = spawn(
        [server, "-H", "127.0.0.1", "-p", str(port)], log=tmp_path / "moto.log", env=dict(os.environ)
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        import boto3

        deadline = time.monotonic() + 60
        while True:
            try:
                client = boto3.client(
                    "s3",
                    endpoint_url=endpoint,
                    region_name="us-east-1",
                    aws_access_key_id="test",
                    aws_secret_access_key="test",
                )
                client.create_bucket(Bucket="secureai-state")
                break
            except Exception:
                assert moto.alive() and time.monotonic() < deadline, (tmp_path / "moto.log").read_text()
                time.sleep(0.3)
        yield endpoint
    finally:
        moto.stop()


def test_team_backend_on_s3(
    control_plane: ControlPlane, kube: KubeClient, pulumi_home: Path, moto_s3: str, tmp_path: Path
) -> None:
    host = moto_s3.removeprefix("http://")
    backend = f"s3://secureai-state?endpoint={host}&disableSSL=true&s3ForcePathStyle=true&region=us-east-1"
    local = deployer_for(control_plane, pulumi_home, tmp_path)
    team = Deployer(
        {
            **local.env,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_REGION": "us-east-1",
        },
        local.work_dir,
        backend,
    )
    spec = _spec(tmp_path, control_plane.minor)
    try:
        team.ok("apply", spec, "--yes")
        assert kube.get("apps/v1", "Deployment", "app", NAMESPACE).ok
        assert team.run("preview", spec, "--expect-no-changes").code == 0
    finally:
        destroyed = team.run("destroy", spec, "--yes")
    assert destroyed.code == 0, str(destroyed)
    assert not _files_under(tmp_path / "state"), "state went to local files instead of the S3 backend"
