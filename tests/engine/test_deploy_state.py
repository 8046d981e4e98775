"""The real engine's state and its failures: secrets kept out of state, generated secrets kept
across applies, a team backend (S3 on loopback, served by moto) with one stack per environment
and its lock, and the failures a user meets (cluster down, stack locked, plugin missing, state
backend unreachable or without its bucket), each one line and a hint, exit 2, no traceback,
with the next apply finishing the job.

The lock tests are deterministic: the first apply's Deployment asks for a node label no node
has (GATE), so its pod stays Pending (kwok runs only pods bound to its node) and
pulumi-kubernetes keeps waiting for the rollout, holding the lock, until the test labels the
node after the second apply was refused."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from children import free_port

from .conftest import need
from .deploying import CANARY, MERGE, Deployer, Run, deployer_for
from .harness import NODE, ControlPlane
from .kubeapi import KubeClient
from .s3 import CREDENTIALS, MotoS3, backend_url, moto_fixture, moto_server

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


# A node label no node has until the test sets it: a gated workload cannot roll out before.
GATE = "secureai.test/lock-gate"


def _spec(tmp_path: Path, minor: str, replicas: int = 1, gated: bool = False) -> Path:
    path = tmp_path / f"state-{replicas}{'-gated' if gated else ''}.yaml"
    text = SPEC.replace('version: "1.34"', f'version: "{minor}"')
    extra = f"    replicas: {replicas}\n" + (f'    nodeSelector: {{ {GATE}: "open" }}\n' if gated else "")
    text = text.replace("    kind: Deployment\n", f"    kind: Deployment\n{extra}")
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def _gate(kube: KubeClient) -> Iterator[Callable[[], None]]:
    """Yields `open()`, which gives the kwok node the GATE label so that a gated pod schedules;
    the label is removed afterwards, whatever happened."""
    node = kube.url_of({"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE}})

    def label(value: str | None) -> None:
        reply = kube.request("PATCH", node, {"metadata": {"labels": {GATE: value}}}, content_type=MERGE)
        assert reply.ok, f"HTTP {reply.status}: {reply.message}"

    label(None)
    try:
        yield lambda: label("open")
    finally:
        label(None)


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


@pytest.mark.parametrize("backend", ["file", "s3"])
def test_locked_stack_is_refused_while_another_apply_runs(
    control_plane: ControlPlane,
    kube: KubeClient,
    pulumi_home: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    backend: str,
) -> None:
    """Two applies of one stack, on a local file backend and on S3: the second is refused while
    the first holds the lock (its Deployment waits behind GATE), the first then finishes."""
    local = deployer_for(control_plane, pulumi_home, tmp_path)
    if backend == "s3":
        moto: MotoS3 = request.getfixturevalue("moto")
        deployer = _team(local, moto)

        def locks() -> list[str]:
            return moto.keys(".pulumi/locks/")
    else:
        deployer = local
        state_root = Path(local.backend.removeprefix("file://"))

        def locks() -> list[str]:
            return [str(p) for p in _files_under(state_root) if "locks" in p.parts]

    spec = _spec(tmp_path, control_plane.minor, gated=True)
    leftover = kube.get("apps/v1", "Deployment", "app", NAMESPACE)
    assert leftover.status == 404, "another test left Deployment app behind: the wait below would not wait"
    with _gate(kube) as open_gate:
        deployer.ok("preview", spec)  # stack and generated secrets exist before the race
        first = _start(deployer, "apply", spec, "--yes")
        try:
            try:
                # Past its preview and into the update: it created the Deployment, waits for it.
                deadline = time.monotonic() + 300
                while not (kube.get("apps/v1", "Deployment", "app", NAMESPACE).ok and locks()):
                    assert first.poll() is None, f"the first apply ended early: {first.communicate()}"
                    assert time.monotonic() < deadline, "the first apply never reached its Deployment"
                    time.sleep(0.2)
                second = deployer.run("apply", spec, "--yes")
                assert first.poll() is None, "the first apply ended while the second ran: no lock race"
                text = _one_line_error(second)
                assert "error: the stack ci is locked by another update" in text, text
                assert "pulumi cancel --stack ci" in text, text
            finally:
                open_gate()
                out, err = _finish(first)
            assert first.returncode == 0, f"{out}\n{err}"
            assert not locks(), "the lock outlived the update"
            assert deployer.run("preview", spec, "--expect-no-changes").code == 0
        finally:
            destroyed = deployer.run("destroy", spec, "--yes")
    assert destroyed.code == 0, str(destroyed)


def _finish(child: subprocess.Popen[str], timeout: float = 600) -> tuple[str, str]:
    """The output of a background run once it ended; killed if it is still running after `timeout`."""
    try:
        return child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        return child.communicate()


def _start(deployer: Deployer, verb: str, spec: Path, *extra: str) -> subprocess.Popen[str]:
    """`secureai <verb>` as Deployer.run runs it, in the background."""
    argv = [sys.executable, "-m", "secureai", verb, str(spec), "--backend", deployer.backend]
    argv += ["--work-dir", str(deployer.work_dir), *extra]
    return subprocess.Popen(
        argv,
        env=deployer.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


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
def moto(tmp_path: Path) -> Iterator[MotoS3]:
    """An S3 API on 127.0.0.1 (moto's server) with the bucket `secureai-state`."""
    need(None if moto_server() else "moto_server not installed (pip install 'moto[server]')")
    yield from moto_fixture(tmp_path / "moto.log")


def _team(local: Deployer, moto: MotoS3, prefix: str = "") -> Deployer:
    """`local`'s environment and work dir, with its state in moto's bucket (under `prefix`)."""
    return Deployer({**local.env, **moto.env}, local.work_dir, moto.backend(prefix))


def test_team_backend_on_s3(
    control_plane: ControlPlane, kube: KubeClient, pulumi_home: Path, moto: MotoS3, tmp_path: Path
) -> None:
    local = deployer_for(control_plane, pulumi_home, tmp_path)
    team = _team(local, moto)
    spec = _spec(tmp_path, control_plane.minor)
    try:
        team.ok("apply", spec, "--yes")
        assert kube.get("apps/v1", "Deployment", "app", NAMESPACE).ok
        assert team.run("preview", spec, "--expect-no-changes").code == 0
    finally:
        destroyed = team.run("destroy", spec, "--yes")
    assert destroyed.code == 0, str(destroyed)
    assert not _files_under(tmp_path / "state"), "state went to local files instead of the S3 backend"


def _plaintext_in(blobs: dict[str, bytes], *secrets: str) -> list[str]:
    """Which blobs hold one of `secrets` in plain text or base64 (as a Secret's data has it)."""
    forms = [f for v in secrets for f in (v.encode(), base64.b64encode(v.encode()))]
    return [name for name, data in blobs.items() if any(form in data for form in forms)]


def test_two_environments_are_two_stacks_in_one_s3_backend_and_state_holds_no_secret(
    control_plane: ControlPlane, kube: KubeClient, pulumi_home: Path, moto: MotoS3, tmp_path: Path
) -> None:
    """One spec, `--env staging` and `--env prod`, one S3 backend under a prefix: two stacks,
    each with its own generated secret, and neither the fromEnv value nor a generated one in
    plain text anywhere in the bucket or the work dir; the secrets provider is the passphrase.
    (Both environments target one cluster and namespace here, so one runs at a time.)"""
    prefix = "teams/ai-platform"
    local = deployer_for(control_plane, pulumi_home, tmp_path)
    team = _team(local, moto, prefix)
    spec = _spec(tmp_path, control_plane.minor)
    tokens: dict[str, str] = {}
    try:
        for env in ("staging", "prod"):
            team.ok("apply", spec, "--yes", "--env", env)
            tokens[env] = _api_token(kube)
            checkpoint_key = f"{prefix}/.pulumi/stacks/engine-state/{env}.json"
            blobs = moto.objects(f"{prefix}/")
            assert checkpoint_key in blobs, sorted(blobs)
            checkpoint = json.loads(blobs[checkpoint_key])["checkpoint"]
            assert checkpoint["latest"]["secrets_providers"]["type"] == "passphrase"
            assert '"ciphertext"' in blobs[checkpoint_key].decode(), "no secret output kept encrypted"
            leaks = _plaintext_in(blobs, CANARY, *tokens.values())
            assert not leaks, f"secret values in plain text in the bucket: {leaks}"
            team.ok("destroy", spec, "--yes", "--env", env)
        keys = moto.keys()
        # The checkpoints (each with a `.json.bak` beside it once it was rewritten).
        stacks = sorted(k for k in keys if k.startswith(f"{prefix}/.pulumi/stacks/") and k.endswith(".json"))
        assert stacks == [
            f"{prefix}/.pulumi/stacks/engine-state/prod.json",
            f"{prefix}/.pulumi/stacks/engine-state/staging.json",
        ], stacks
        assert all(k.startswith(f"{prefix}/") for k in keys), f"state outside the prefix: {keys}"
        assert tokens["staging"] != tokens["prod"], "two environments share a generated secret"
        # History and backups keep every checkpoint: still nothing in plain text.
        leaks = _plaintext_in(moto.objects(), CANARY, *tokens.values())
        assert not leaks, f"secret values in plain text in the bucket: {leaks}"
        config = {str(p): p.read_bytes() for p in _files_under(team.work_dir)}
        assert {Path(p).name for p in config} >= {"Pulumi.staging.yaml", "Pulumi.prod.yaml"}
        assert not _plaintext_in(config, CANARY, *tokens.values()), "a secret in the work dir"
        assert not _files_under(tmp_path / "state"), "state went to local files instead of S3"
    finally:
        for env in ("staging", "prod"):
            team.run("destroy", spec, "--yes", "--env", env)


@pytest.mark.parametrize("case", ["unreachable", "no-bucket"])
def test_remote_backend_failures_are_one_line_and_write_nothing(
    control_plane: ControlPlane,
    pulumi_home: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    case: str,
) -> None:
    """A state backend nothing listens on, and one whose bucket does not exist: one line, a
    hint naming --backend, exit 2, no traceback, not blamed on the cluster, and no state, stack
    config or bucket left behind."""
    local = deployer_for(control_plane, pulumi_home, tmp_path)
    moto: MotoS3 | None = None
    if case == "unreachable":
        backend = backend_url(f"127.0.0.1:{free_port()}")  # a free port: nothing listens there
        said = "error: the state backend is unreachable"
    else:
        moto = request.getfixturevalue("moto")
        backend = moto.backend(bucket="secureai-no-such-bucket")
        said = "error: the state backend's bucket does not exist"
    team = Deployer({**local.env, **CREDENTIALS}, local.work_dir, backend)
    spec = _spec(tmp_path, control_plane.minor)
    started = time.monotonic()
    failed = team.run("apply", spec, "--yes", timeout=300)
    text = _one_line_error(failed)
    assert said in text, text
    assert "--backend (or PULUMI_BACKEND_URL)" in text, text
    assert "Kubernetes" not in text and "KUBECONFIG" not in text, text
    assert time.monotonic() - started < 240, "the failure took minutes"
    assert not _files_under(tmp_path / "state"), "local state written"
    assert not [p for p in _files_under(team.work_dir) if p.name.startswith("Pulumi.ci.")], (
        "stack config written for a stack that could not be created"
    )
    if moto is not None:
        assert "secureai-no-such-bucket" not in moto.buckets(), "the bucket was created"
        assert moto.keys() == [], "something was written to another bucket"
