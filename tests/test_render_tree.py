"""Render's directory mechanics: it deletes only what it proves it wrote, an interrupted or
concurrent render never leaves a broken tree, and revealed secrets live in 0700 directories."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from secureai.render import tree
from secureai.render.tree import MARKER, RenderError, digest, write_tree

FIRST = {"kubernetes/a.yaml": "a: 1\n", "kubernetes/b.yaml": "b: 1\n", "vault/policies/p.hcl": "p\n"}
SECOND = {"kubernetes/a.yaml": "a: 2\n", "kubernetes/c.yaml": "c: 1\n"}


def snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if ".secureai-" in p.name]


# ----------------------------------------------------------------------------- 10: what render deletes


def test_stale_files_it_wrote_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree(FIRST, out)
    write_tree(SECOND, out)
    assert set(snapshot(out)) == {MARKER, "kubernetes/a.yaml", "kubernetes/c.yaml"}


@pytest.mark.parametrize(
    "marker",
    [
        "notes.txt\nkubernetes/mine.yaml\n",  # paths only, as a planted or old marker says
        f"{'0' * 64}  kubernetes/mine.yaml\n{'0' * 64}  notes.txt\n",  # wrong hashes
        digest("mine\n") + "  notes.txt\n",  # the right hash, but not where render writes
    ],
)
def test_a_planted_marker_deletes_nothing_it_cannot_prove(tmp_path: Path, marker: str) -> None:
    out = tmp_path / "out"
    (out / "kubernetes").mkdir(parents=True)
    (out / "kubernetes/mine.yaml").write_text("mine\n")
    (out / "notes.txt").write_text("mine\n")
    (out / MARKER).write_text(marker)
    write_tree(SECOND, out)
    assert (out / "kubernetes/mine.yaml").read_text() == "mine\n"
    assert (out / "notes.txt").read_text() == "mine\n"
    assert (out / "kubernetes/c.yaml").read_text() == "c: 1\n"


@pytest.mark.parametrize("path", ["kubernetes/b.yaml", "vault/policies/p.hcl"])
def test_a_rendered_file_edited_since_is_kept(tmp_path: Path, path: str) -> None:
    out = tmp_path / "out"
    write_tree(FIRST, out)
    (out / path).write_text("edited by hand\n")
    write_tree(SECOND, out)
    assert (out / path).read_text() == "edited by hand\n"
    assert (out / "kubernetes/a.yaml").read_text() == "a: 2\n"
    assert path not in (out / MARKER).read_text()  # no longer vouched for


# ----------------------------------------------------------------------------- 11: atomic and locked


def _interrupt_after(monkeypatch: pytest.MonkeyPatch, count: int, how: str) -> None:
    real = tree._write
    calls = {"n": 0}

    def flaky(target: Path, text: str, private: bool) -> None:
        calls["n"] += 1
        if calls["n"] > count:
            if how == "sigterm":
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)  # the handler raises before this ends
            raise KeyboardInterrupt
        real(target, text, private)

    monkeypatch.setattr(tree, "_write", flaky)


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupted_first_render_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    out = tmp_path / "out"
    _interrupt_after(monkeypatch, 2, how)
    with pytest.raises(KeyboardInterrupt):
        write_tree(FIRST, out)
    assert not out.exists() and leftovers(tmp_path) == []
    monkeypatch.undo()
    write_tree(FIRST, out)  # the next render is not refused
    assert snapshot(out)["kubernetes/b.yaml"] == "b: 1\n"


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupted_re_render_keeps_the_previous_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    out = tmp_path / "out"
    write_tree(FIRST, out)
    before = snapshot(out)
    _interrupt_after(monkeypatch, 1, how)
    with pytest.raises(KeyboardInterrupt):
        write_tree(SECOND, out)
    assert snapshot(out) == before and leftovers(tmp_path) == []


def test_an_interrupted_render_beside_foreign_files_keeps_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("mine")
    write_tree(FIRST, out, force=True)
    before = snapshot(out)
    _interrupt_after(monkeypatch, 1, "ctrl-c")
    with pytest.raises(KeyboardInterrupt):
        write_tree(SECOND, out)
    assert snapshot(out) == before


def test_a_render_waits_for_the_lock_and_gives_up_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    monkeypatch.setattr(tree, "LOCK_WAIT_SECONDS", 0.3)
    with tree._locked(tmp_path, out), pytest.raises(RenderError, match="another secureai render is writing"):
        write_tree(FIRST, out)
    assert not out.exists()


def test_concurrent_renders_do_not_interleave(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    real = tree._write

    def slow(target: Path, text: str, private: bool) -> None:
        time.sleep(0.02)
        real(target, text, private)

    monkeypatch.setattr(tree, "_write", slow)
    big_a = {f"kubernetes/a{i:03d}.yaml": "a\n" for i in range(40)}
    big_b = {f"kubernetes/b{i:03d}.yaml": "b\n" for i in range(40)}
    errors: list[BaseException] = []

    def run(files: dict[str, str]) -> None:
        try:
            write_tree(files, out)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f,)) for f in (big_a, big_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    files = set(snapshot(out)) - {MARKER}
    # One render's whole tree, the other's stale files removed: never a mixture.
    assert files in ({f for f in big_a}, {f for f in big_b})
    listed = {line.split("  ", 1)[1] for line in (out / MARKER).read_text().splitlines() if "  " in line}
    assert listed == files


_SLOW_RENDER = """
import sys, time
from pathlib import Path
from secureai.render import tree

real = tree._write

def slow(target, text, private):
    real(target, text, private)
    time.sleep(0.05)

tree._write = slow
files = {f"kubernetes/s{i:03d}.yaml": "s: 1\\n" for i in range(400)}
tree.write_tree(files, Path(sys.argv[1]), private=True)
"""


def _kill_mid_render(out: Path) -> Path:
    """Start a slow render into `out`, SIGKILL it while it writes; the temporary directory it left."""
    child = subprocess.Popen([sys.executable, "-c", _SLOW_RENDER, str(out)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            written = list(out.parent.glob(f".{out.name}.secureai-tmp-*/tree/kubernetes/s003.yaml"))
            if written:
                break
            assert child.poll() is None, "the render ended before it was killed"
            time.sleep(0.02)
        else:
            raise AssertionError("the render wrote nothing within 60 s")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    (left,) = [out.parent / name for name in leftovers(out.parent)]
    return left


@pytest.mark.parametrize("first", [False, True], ids=["first-render", "re-render"])
def test_the_next_render_removes_what_a_killed_render_left(tmp_path: Path, first: bool) -> None:
    out = tmp_path / "out"
    if first:
        write_tree(FIRST, out)
    before = snapshot(out) if first else None
    left = _kill_mid_render(out)
    assert (left / tree.OWNER).is_file() and (left / "tree" / "kubernetes" / "s000.yaml").is_file()
    assert (snapshot(out) if first else None) == before  # the previous tree (or none) is intact
    write_tree(SECOND, out)
    assert leftovers(tmp_path) == []
    assert set(snapshot(out)) == {MARKER, "kubernetes/a.yaml", "kubernetes/c.yaml"}


def _plant(parent: Path, name: str, owner: bytes | None, extra: str | None = None) -> Path:
    path = parent / name
    (path / "tree" / "kubernetes").mkdir(parents=True)
    (path / "tree" / "kubernetes" / "x.yaml").write_text("x: 1\n")
    if owner is not None:
        (path / tree.OWNER).write_bytes(owner)
    if extra is not None:
        (path / extra).write_text("mine\n")
    return path


def test_only_leftovers_that_prove_they_are_a_renders_into_this_output_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    own = tree._owner_text(out)
    removed = [
        _plant(tmp_path, ".out.secureai-tmp-killed1", own),
        _plant(tmp_path, ".out.secureai-old-killed2", own),
    ]
    kept = [
        _plant(tmp_path, ".out.secureai-tmp-nomarker", None),
        _plant(tmp_path, ".out.secureai-tmp-other", tree._owner_text(tmp_path / "elsewhere" / "out")),
        _plant(tmp_path, ".out.secureai-tmp-edited", own + b"more\n"),
        _plant(tmp_path, ".out.secureai-tmp-extra", own, extra="notes.txt"),
        # A render's leftover into a sibling output is that output's render's to remove.
        _plant(tmp_path, ".sibling.secureai-tmp-x", tree._owner_text(tmp_path / "sibling")),
        _plant(tmp_path, "out.secureai-tmp-unhidden", own),
    ]
    # An owner file that is a link, and a directory link to a genuine leftover elsewhere.
    linked_owner = _plant(tmp_path, ".out.secureai-tmp-linkedowner", None)
    (tmp_path / "owner.txt").write_bytes(own)
    (linked_owner / tree.OWNER).symlink_to(tmp_path / "owner.txt")
    (tmp_path / "far").mkdir()
    elsewhere = _plant(tmp_path / "far", "genuine", own)
    (tmp_path / ".out.secureai-tmp-link").symlink_to(elsewhere)
    kept += [linked_owner, elsewhere]
    if os.geteuid() == 0:  # another user's directory, however it looks
        foreign = _plant(tmp_path, ".out.secureai-tmp-foreign", own)
        os.chown(foreign, 65534, 65534)
        kept.append(foreign)

    write_tree(FIRST, out)
    assert [p for p in removed if os.path.lexists(p)] == []
    assert [p for p in kept if not (p / "tree" / "kubernetes" / "x.yaml").is_file()] == []
    assert (tmp_path / ".out.secureai-tmp-link").is_symlink()


# ----------------------------------------------------------------------------- 12: modes


def _modes(out: Path) -> set[tuple[str, int]]:
    found = {(".", stat.S_IMODE(out.stat().st_mode))}
    for p in out.rglob("*"):
        found.add(("dir" if p.is_dir() else "file", stat.S_IMODE(p.stat().st_mode)))
    return found


@pytest.mark.parametrize("first_private", [False, True])
def test_private_re_render_makes_every_directory_0700(tmp_path: Path, first_private: bool) -> None:
    out = tmp_path / "out"
    write_tree(FIRST, out, private=first_private)
    write_tree(SECOND, out, private=True)
    assert _modes(out) == {(".", 0o700), ("dir", 0o700), ("file", 0o600)}


def test_private_render_beside_foreign_files_tightens_the_tree(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "kubernetes").mkdir(parents=True, mode=0o755)
    os.chmod(out, 0o755)
    (out / "README.md").write_text("mine")
    write_tree(FIRST, out, force=True, private=True)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "kubernetes").stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "kubernetes/a.yaml").stat().st_mode) == 0o600


def test_a_public_render_follows_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        write_tree(FIRST, out)
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "kubernetes/a.yaml").stat().st_mode) == 0o644
