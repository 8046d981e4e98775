"""The servers tests start die with the test run, and stopping by PID stops only our process.

A parent process (standing in for a killed pytest) starts a control-plane process the way the
harness does and a dev OpenBao the way every Vault test does, then is SIGKILLed: both must be
gone. Stopping by PID is checked on a Python-script process (which /proc names only `python`),
and refuses a process whose start time is not the recorded one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from children import spawn, start_time, stop_pid

TESTS = Path(__file__).resolve().parent
SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")


def _parent(tmp_path: Path, body: str) -> tuple[subprocess.Popen[str], dict[str, list[int]]]:
    """A Python parent running `body` (which sets `started`: name -> (pid, start time)); it
    prints that as JSON and waits to be killed."""
    script = textwrap.dedent(
        """
        import json, os, sys, time
        from pathlib import Path
        sys.path.insert(0, {tests!r})
        tmp = Path({tmp!r})
        env = {{"PATH": os.environ.get("PATH", ""), "HOME": str(tmp)}}
        started = {{}}
        """
    ).format(tests=str(TESTS), tmp=str(tmp_path))
    script += textwrap.dedent(body) + "\nprint(json.dumps(started), flush=True)\ntime.sleep(120)\n"
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    line = parent.stdout.readline()
    if not line:
        parent.wait(timeout=10)
        pytest.fail(f"the parent failed:\n{parent.stderr.read() if parent.stderr else ''}")
    return parent, json.loads(line)


def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _running(pid: int, started: int) -> bool:
    return start_time(pid) == started


def _gone_within(seconds: float, pid: int, started: int) -> bool:
    return _within(seconds, lambda: not _running(pid, started))


def _kill(parent: subprocess.Popen[str]) -> None:
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=10)
    for stream in (parent.stdout, parent.stderr):
        if stream is not None:
            stream.close()


def test_a_killed_parent_takes_the_control_plane_processes_and_openbao_with_it(tmp_path: Path) -> None:
    parent, started = _parent(
        tmp_path,
        """
        from engine.harness import Process
        from vault_server import start_dev_server
        sleeper = Process("sleeper", [sys.executable, "-c", "import time; time.sleep(120)"], tmp / "sleeper.log")
        sleeper.start(env)
        bao = start_dev_server(tmp / "bao")
        started["control-plane process"] = [sleeper.pid, sleeper.child.started]
        started["OpenBao"] = [bao.child.pid, bao.child.started]
        """,
    )
    try:
        assert all(_running(pid, at) for pid, at in started.values()), started
    finally:
        _kill(parent)
    survivors = [name for name, (pid, at) in started.items() if not _gone_within(10, pid, at)]
    for name in survivors:  # never leave them behind, even when the proof fails
        stop_pid(*started[name])
    assert survivors == []


def test_an_untied_child_outlives_its_parent_and_is_stopped_by_pid(tmp_path: Path) -> None:
    """What `cluster.sh up` needs; and a Python script is recognised by its start time."""
    parent, started = _parent(
        tmp_path,
        """
        from children import spawn
        child = spawn([sys.executable, "-c", "import time; time.sleep(120)"], log=tmp / "c.log", env=env, tied=False)
        started["untied"] = [child.pid, child.started]
        """,
    )
    pid, at = started["untied"]
    _kill(parent)
    try:
        assert not _within(1, lambda: not _running(pid, at)), "the untied child died with its parent"
    finally:
        stop_pid(pid, at)
    assert _gone_within(10, pid, at)


def test_stop_pid_leaves_a_process_with_another_start_time_alone(tmp_path: Path) -> None:
    child = spawn(SLEEPER, log=tmp_path / "sleeper.log", env={"PATH": os.environ.get("PATH", "")})
    try:
        stop_pid(child.pid, child.started + 1)  # as if the PID had been reused since
        assert child.alive()
        stop_pid(child.pid, child.started)
        assert _within(10, lambda: child.popen.poll() is not None)
        assert child.popen.returncode == -signal.SIGTERM
    finally:
        child.stop()
