"""Write a rendered tree into a directory: atomically, under a lock, deleting only what it wrote.

- **Ownership.** The marker `.secureai-render` lists every file render wrote with the SHA-256
  of its content. Render writes into a non-empty directory only if it holds a marker (or with
  `force`). It deletes a file only when the marker lists it, the file still has the listed
  content, and it lies where render writes (`kubernetes/`, `vault/`, `secret-templates/`): a
  planted or hand-edited marker can at most make render delete copies of what render itself
  would write; a file changed by hand, or not listed, is left alone.
- **Atomicity.** The new tree is written into a temporary directory beside the output and
  swapped in by `rename`, so an interrupted render (Ctrl-C, SIGTERM, a full disk) leaves the
  previous tree (or nothing) and the next render runs normally. When the output also holds
  files render cannot prove it wrote (written with `force`, or edited since), those are kept:
  each new file is then moved into place atomically and the marker is written last.
- **Leftovers.** Each temporary directory (`.<out>.secureai-tmp-*`, and `.secureai-old-*` for
  the tree being replaced) holds, written before anything else, an owner file naming the
  output directory. A render killed outright (SIGKILL, power loss) cannot remove its own, so
  the next render into the same output, holding the lock, removes every such directory that
  proves it is a render's into that output: a directory (not a link) of this user, holding
  only the owner file, with exactly the expected text, and the tree. Anything else is left.
- **Locking.** A render holds an exclusive `flock` on the output's parent directory, so two
  renders into one place run one after the other instead of interleaving.
- **Modes.** With `private` (secret values revealed) files are 0600 and every directory of
  the tree, the output directory included, is 0700, on a first render and on a re-render.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType

MARKER = ".secureai-render"
OWNER = ".secureai-owner"  # inside a temporary directory: whose it is (see Leftovers)
_SCRATCH_KINDS = ("tmp", "old")
_MARKER_HEADER = (
    "# written by `secureai render`: sha256 and path of each file it wrote; render deletes a\n"
    "# listed file only while it still has this content\n"
)
# The top-level folders render writes; nothing outside them is ever deleted.
RENDERED_ROOTS = ("kubernetes", "vault", "secret-templates")
_ENTRY = re.compile(r"([0-9a-f]{64})  (.+)")
LOCK_WAIT_SECONDS = 60.0


class RenderError(Exception):
    """The output cannot be written as asked; the message says why and what to do."""


class _Interrupted(Exception):
    """SIGTERM while writing: unwinds like Ctrl-C, so the temporary tree is removed."""


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_tree(
    files: Mapping[str, str], out_dir: Path, force: bool = False, *, private: bool = False
) -> list[Path]:
    """Write `files` (relative POSIX path -> text) under `out_dir`; the written paths, sorted."""
    relative = {path: checked(path) for path in sorted(files)}
    if out_dir.exists() and not out_dir.is_dir():
        raise RenderError(f"{out_dir} exists and is not a directory")
    if out_dir.is_symlink():
        raise RenderError(f"refusing to write through symbolic link {out_dir}")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a parent is a file
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(out_dir)) from None
    with _locked(out_dir.parent, out_dir) as locked, _term_as_interrupt():
        if locked:  # without the lock a leftover may be a live render's
            _remove_leftovers(out_dir)
        previous = _claim(out_dir, force)
        made: list[Path] = []  # filled in by _scratch as soon as the directory exists
        try:
            scratch = _scratch(out_dir, "tmp", made)
            staging = scratch / "tree"
            staging.mkdir()
            _fill(staging, files, relative, private)
            written = _swap_in(staging, out_dir, previous, files, private)
        finally:
            # An interrupt may land anywhere, even before _scratch returned: what it made goes.
            for path in made:
                with suppress(FileNotFoundError):
                    shutil.rmtree(path)
    return written


def checked(path: str) -> tuple[str, ...]:
    """The parts of `path`, a plain relative path under one of RENDERED_ROOTS, or RenderError.

    Split as strings (what PurePosixPath would make of it, without its cost per file: a
    10,000-workload render writes 25,000 files)."""
    segments = path.split("/")
    parts = tuple(p for p in segments if p)
    if (
        path.startswith("/")
        or not parts
        or ".." in parts
        or "." in segments
        or path == MARKER
        or parts[0] not in RENDERED_ROOTS
    ):
        raise RenderError(f"refusing to write {path!r}: not a plain relative path under {RENDERED_ROOTS}")
    return parts


def read_marker(out_dir: Path) -> dict[str, str | None]:
    """path -> sha256 listed by the marker (None for a line without one, as older renders
    wrote: such a file is ours to overwrite but never proven enough to delete)."""
    entries: dict[str, str | None] = {}
    marker = out_dir / MARKER
    if marker.is_symlink() or not marker.is_file():
        return entries
    for line in marker.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line or line.startswith("#"):
            continue
        match = _ENTRY.fullmatch(line)
        entries[match[2] if match else line] = match[1] if match else None
    return entries


def _claim(out_dir: Path, force: bool) -> dict[str, str | None]:
    """Check that `out_dir` is ours to write; the files and hashes the last render listed."""
    if (out_dir / MARKER).is_file():
        return read_marker(out_dir)
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise RenderError(
            f"{out_dir} is not empty and was not written by secureai render (no {MARKER}); "
            "choose an empty directory, or pass --force to write into it anyway"
        )
    return {}


def _fill(
    staging: Path, files: Mapping[str, str], relative: Mapping[str, tuple[str, ...]], private: bool
) -> None:
    dir_mode = 0o700 if private else 0o777 & ~_umask()
    os.chmod(staging, dir_mode)  # mkdtemp makes it 0700
    made: set[tuple[str, ...]] = set()  # staging is new and ours: each folder is made once
    root = str(staging)
    for path, parts in relative.items():
        if parts[:-1] not in made:
            _make_dirs(staging, staging.joinpath(*parts[:-1]), dir_mode)
            made.add(parts[:-1])
        _write(os.path.join(root, *parts), files[path], private)
    _write(staging / MARKER, _marker_text(files), private)


def _swap_in(
    staging: Path, out_dir: Path, previous: Mapping[str, str | None], files: Mapping[str, str], private: bool
) -> list[Path]:
    written = [out_dir.joinpath(*checked(p)) for p in sorted(files)]
    if not out_dir.exists():
        os.rename(staging, out_dir)
        return written
    if _only_proven_files(out_dir, previous):
        # Everything there is a render's own unchanged output: replace the whole tree.
        old = _scratch(out_dir, "old")
        os.rename(out_dir, old / "tree")
        os.rename(staging, out_dir)
        shutil.rmtree(old)
        return written
    _merge(staging, out_dir, previous, files, private)
    return written


def _only_proven_files(out_dir: Path, previous: Mapping[str, str | None]) -> bool:
    for path, kind in _entries(out_dir):
        if path == MARKER and kind == "file":
            continue
        if kind == "dir":
            continue
        if kind != "file" or not _proven(out_dir, path, previous):
            return False
    return True


def _proven(out_dir: Path, path: str, previous: Mapping[str, str | None]) -> bool:
    """`path` is listed with a hash, lies where render writes, and still has that content."""
    wanted = previous.get(path)
    if wanted is None:
        return False
    try:
        rel = checked(path)
    except RenderError:
        return False
    # As strings, not Paths: a re-render checks each of 25,000 files this way.
    folder = str(out_dir)
    try:
        for depth in range(1, len(rel)):  # no folder on the way is a symbolic link
            if stat.S_ISLNK(os.lstat(os.path.join(folder, *rel[:depth])).st_mode):
                return False
        target = os.path.join(folder, *rel)
        if not stat.S_ISREG(os.lstat(target).st_mode):  # nor the file itself (S_ISREG of lstat)
            return False
        with open(target, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest() == wanted
    except OSError:
        return False


def _merge(
    staging: Path, out_dir: Path, previous: Mapping[str, str | None], files: Mapping[str, str], private: bool
) -> None:
    """Into a directory holding files render cannot prove it wrote: file by file."""
    dir_mode = 0o700 if private else 0o777 & ~_umask()
    if private:
        os.chmod(out_dir, 0o700)
    for path in sorted(files):
        rel = checked(path)
        _no_symlinks(out_dir, rel)
        target = out_dir.joinpath(*rel)
        _make_dirs(out_dir, target.parent, dir_mode)
        os.replace(staging.joinpath(*rel), target)  # atomic: old or new, never half
    for path in sorted(set(previous) - set(files)):
        if _proven(out_dir, path, previous):
            target = out_dir.joinpath(*checked(path))
            target.unlink()
            _remove_empty_parents(out_dir, target)
    _no_symlinks(out_dir, (MARKER,))
    os.replace(staging / MARKER, out_dir / MARKER)  # last: it vouches for what is now there


def _entries(root: Path) -> Iterator[tuple[str, str]]:
    """(relative POSIX path, 'file' | 'dir' | 'other') below `root`, without following links."""
    start = len(str(root)) + 1  # POSIX paths below root, cut as strings (25,000 of them)
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as it:
            for entry in it:
                rel = entry.path[start:]
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    yield rel, "dir"
                elif entry.is_file(follow_symlinks=False):
                    yield rel, "file"
                else:
                    yield rel, "other"


def _no_symlinks(out_dir: Path, rel: tuple[str, ...]) -> None:
    """Refuse a path whose file or folders inside `out_dir` are symbolic links.

    The output is often a Git checkout, and Git stores symlinks: one planted at
    `kubernetes/040-secret-....yaml` (or at `kubernetes/`) would make render overwrite the file
    it points to, outside the tree, with manifests or revealed secret values.
    """
    current = out_dir
    for part in rel:
        current = current / part
        if current.is_symlink():
            raise RenderError(f"refusing to write through symbolic link {current}")


def _make_dirs(root: Path, folder: Path, mode: int) -> None:
    """`folder` and its parents below `root`, each with `mode` (also when they exist)."""
    chain = [folder, *folder.parents]
    for directory in reversed(chain[: chain.index(root)] if root in chain else [folder]):
        if directory.is_symlink():
            raise RenderError(f"refusing to write through symbolic link {directory}")
        with suppress(FileExistsError):
            directory.mkdir(mode=mode)
        os.chmod(directory, mode)


def _write(target: str | Path, text: str, private: bool) -> None:
    # O_NOFOLLOW: a symlink swapped in after the check still is not followed.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, 0o600 if private else 0o666)
    if private:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    # One os.write of the encoded text, not a text stream per file: a 10,000-workload render
    # writes 25,000 files, and the stream's set-up cost more than the write.
    try:
        data = memoryview(text.encode("utf-8"))
        while data:
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)


def _marker_text(files: Mapping[str, str]) -> str:
    return _MARKER_HEADER + "".join(f"{digest(files[p])}  {p}\n" for p in sorted(files))


def _remove_empty_parents(out_dir: Path, target: Path) -> None:
    for parent in target.parents:
        if parent == out_dir or out_dir not in parent.parents or any(parent.iterdir()):
            break
        parent.rmdir()


def _scratch(out_dir: Path, kind: str, made: list[Path] | None = None) -> Path:
    """A new temporary directory beside `out_dir`, its owner file written first; appended to
    `made` at once, so that an interrupt before this returns still leaves it to be removed."""
    path = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.secureai-{kind}-", dir=out_dir.parent))
    if made is not None:
        made.append(path)
    fd = os.open(path / OWNER, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.write(fd, _owner_text(out_dir))
    finally:
        os.close(fd)
    return path


def _owner_text(out_dir: Path) -> bytes:
    # The output by its real parent: the same whichever relative or linked path named it.
    where = os.fsencode(out_dir.parent.resolve() / out_dir.name)
    return b"# a temporary directory of `secureai render` into\n" + where + b"\n"


def _remove_leftovers(out_dir: Path) -> None:
    """Remove the temporary directories that killed renders into `out_dir` left behind."""
    expected = _owner_text(out_dir)
    prefixes = tuple(f".{out_dir.name}.secureai-{kind}-" for kind in _SCRATCH_KINDS)
    with os.scandir(out_dir.parent) as entries:
        found = [Path(e.path) for e in entries if e.name.startswith(prefixes)]
    for path in found:
        if _left_by_render(path, expected):
            with suppress(OSError):  # what cannot be removed stays; this render goes on
                shutil.rmtree(path)


def _left_by_render(path: Path, expected: bytes) -> bool:
    """`path` is a directory of this user holding the owner file with `expected` text, and
    otherwise at most the tree it was writing."""
    try:
        info = os.lstat(path)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return False
        if not set(os.listdir(path)) <= {OWNER, "tree"}:
            return False
        fd = os.open(path / OWNER, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return False
            return os.read(fd, len(expected) + 1) == expected
        finally:
            os.close(fd)
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def _locked(parent: Path, out_dir: Path) -> Iterator[bool]:
    """An exclusive flock on the parent directory (no lock file left behind), waited for;
    yields whether it is held."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no locking
        yield False
        return
    fd = os.open(parent, os.O_RDONLY)
    try:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise RenderError(
                        f"another secureai render is writing next to {out_dir}; "
                        "try again when it has finished"
                    ) from None
                time.sleep(0.05)
        yield True
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def _term_as_interrupt() -> Iterator[None]:
    """SIGTERM raises while the tree is written, so cleanup runs as for Ctrl-C."""

    def handler(_signum: int, _frame: FrameType | None) -> None:
        raise _Interrupted

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    except _Interrupted:
        raise KeyboardInterrupt from None
    finally:
        signal.signal(signal.SIGTERM, previous)
