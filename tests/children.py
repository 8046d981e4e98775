"""Servers the tests start (control plane, OpenBao, moto): tied to the test run, stopped by PID.

A killed pytest (SIGKILL, an OOM kill, a CI timeout) runs no finaliser, so a server it started
would outlive it and hold its ports and memory. `spawn` therefore asks Linux to send the child
SIGTERM when the thread that started it dies (PR_SET_PDEATHSIG, set between fork and exec);
`tied=False` is for what must outlive its starter (`cluster.sh up`, `example --keep`).

Stopping by PID alone (`cluster.sh down`, a process started by an earlier command) checks the
start time recorded when it started (`/proc/<pid>/stat`, field 22): a PID the kernel reused for
another process is never signalled, whatever its program (a Python server shows only
`python` in /proc). No pytest here: the harness runs by hand too.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

STOP_TIMEOUT = 10.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Loaded before any fork: the child between fork and exec should only call prctl.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
# Preferred to a preexec_fn: Python code between fork and exec runs the parent's fork handlers,
# and gRPC's (loaded by the in-process Pulumi tests) abort the child. util-linux's setpriv sets
# the same PR_SET_PDEATHSIG and then execs the server.
_SETPRIV = shutil.which("setpriv") if sys.platform.startswith("linux") else None


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (servers here listen on loopback only)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with(parent: int) -> Callable[[], None]:
    def tie() -> None:
        assert _LIBC is not None
        if _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            os._exit(126)  # untied would leak on a kill: refuse to run at all
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(126)

    return tie


def start_time(pid: int) -> int | None:
    """When `pid` started (clock ticks after boot); None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


@dataclass
class Child:
    popen: subprocess.Popen[bytes]
    started: int

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        stop_pid(self.pid, self.started, self.popen)


def spawn(
    argv: list[str],
    *,
    log: Path,
    env: dict[str, str],
    tied: bool = True,
    new_session: bool = False,
) -> Child:
    """Start `argv` with stdout and stderr appended to `log` and nothing on stdin."""
    if tied and _SETPRIV is not None:
        argv = [_SETPRIV, "--pdeathsig", "TERM", "--", *argv]  # execs argv: same PID
    with log.open("ab") as out:
        popen = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=new_session,
            preexec_fn=_die_with(os.getpid()) if tied and _SETPRIV is None and _LIBC is not None else None,
        )
    # Not yet reaped, so the PID is still this child's: its start time names it for good.
    started = start_time(popen.pid)
    return Child(popen, -1 if started is None else started)


def stop(popen: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT, for a child this process has not reaped."""
    if popen.poll() is not None:
        return
    popen.terminate()
    try:
        popen.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        popen.kill()
        popen.wait(timeout=STOP_TIMEOUT)


def stop_pid(pid: int, started: int, popen: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT, only while `pid` is the process that started
    at `started` (`start_time` when it was spawned)."""
    if popen is not None:
        stop(popen)
        return

    try:
        # A pidfd names one process for good: if the start time matches once it is open, every
        # signal sent through it reaches that process or, once it is gone, nothing.
        handle = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if start_time(pid) != started:
                return
            try:
                signal.pidfd_send_signal(handle, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + STOP_TIMEOUT
            while time.monotonic() < deadline:
                if start_time(pid) != started:
                    return
                time.sleep(0.05)
    finally:
        os.close(handle)
