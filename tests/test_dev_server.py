"""The tests' dev OpenBao keeps its root token out of every process's world-readable argv."""

from __future__ import annotations

from pathlib import Path

import hvac  # type: ignore[import-untyped]
from vault_server import ROOT_TOKEN, start_dev_server


def _tree(pid: int) -> list[int]:
    """`pid` and every process below it."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


def test_root_token_is_not_on_any_command_line(tmp_path: Path) -> None:
    server = start_dev_server(tmp_path / "bao")
    try:
        assert hvac.Client(url=server.address, token=ROOT_TOKEN).is_authenticated()
        pids = _tree(server.child.pid)
        lines = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in pids]
        assert any(b"server" in line for line in lines)
        assert not [line for line in lines if ROOT_TOKEN.encode() in line]
    finally:
        server.stop()
