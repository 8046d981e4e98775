"""The `render` stage: a Plan as files (Kubernetes manifests, Vault artefacts) written safely.

`render_files` maps relative paths (`kubernetes/...`, `vault/...`) to text; `write_tree`
writes them under an output directory it owns. Ownership is a marker file, `.secureai-render`,
listing what the last render wrote: render refuses to write into a non-empty directory
without it (unless forced), and removes files it wrote before that are no longer rendered,
so a renamed resource does not leave its old manifest behind to be applied again.
No pulumi here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath

from secureai.compile.plan import Plan, SecretValue
from secureai.render.kubernetes import kubernetes_files, stream
from secureai.render.vault import vault_files

MARKER = ".secureai-render"
_MARKER_HEADER = "# written by `secureai render`; these files are replaced on the next render\n"

Reveal = Callable[[SecretValue], str]


class RenderError(Exception):
    """The output cannot be written as asked; the message says why and what to do."""


def render_files(plan: Plan, reveal: Reveal | None = None) -> dict[str, str]:
    """Every rendered file of the plan, by relative POSIX path, in path order."""
    files = dict(kubernetes_files(plan, reveal))
    for path, text in vault_files(plan, reveal).items():
        if path in files:
            raise RenderError(f"two renderers produced {path}")
        files[path] = text
    return dict(sorted(files.items()))


def write_tree(
    files: Mapping[str, str], out_dir: Path, force: bool = False, *, private: bool = False
) -> list[Path]:
    """Write `files` under `out_dir`; returns the written paths, sorted.

    `private` makes files 0600 and directories 0700: use it when secret values are revealed.
    """
    relative = [_checked(path) for path in sorted(files)]
    previous = _claim(out_dir, force)
    for rel in [*relative, PurePosixPath(MARKER)]:
        _no_symlinks(out_dir, rel)
    dir_mode = 0o700 if private else 0o777
    written: list[Path] = []
    for rel, path in zip(relative, sorted(files), strict=True):
        target = out_dir.joinpath(*rel.parts)
        target.parent.mkdir(parents=True, exist_ok=True, mode=dir_mode)
        _write(target, files[path], private)
        written.append(target)
    _remove_stale(out_dir, previous - set(files))
    _write(out_dir / MARKER, _MARKER_HEADER + "".join(f"{p}\n" for p in sorted(files)), private)
    return written


def _no_symlinks(out_dir: Path, rel: PurePosixPath) -> None:
    """Refuse a path whose file or folders inside `out_dir` are symbolic links.

    The output is often a Git checkout, and Git stores symlinks: one planted at
    `kubernetes/040-secret-....yaml` (or at `kubernetes/`) would make render overwrite the file
    it points to, outside the tree, with manifests or revealed secret values.
    """
    current = out_dir
    for part in rel.parts:
        current = current / part
        if current.is_symlink():
            raise RenderError(f"refusing to write through symbolic link {current}")


def _checked(path: str) -> PurePosixPath:
    rel = PurePosixPath(path)
    if rel.is_absolute() or not rel.parts or ".." in rel.parts or path == MARKER:
        raise RenderError(f"refusing to write {path!r}: not a plain relative path")
    return rel


def _claim(out_dir: Path, force: bool) -> set[str]:
    """Check that `out_dir` is ours to write; return the files the last render listed."""
    if out_dir.exists() and not out_dir.is_dir():
        raise RenderError(f"{out_dir} exists and is not a directory")
    marker = out_dir / MARKER
    if marker.is_file():
        lines = marker.read_text(encoding="utf-8").splitlines()
        return {line for line in lines if line and not line.startswith("#")}
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise RenderError(
            f"{out_dir} is not empty and was not written by secureai render (no {MARKER}); "
            "choose an empty directory, or pass --force to write into it anyway"
        )
    return set()


def _write(target: Path, text: str, private: bool) -> None:
    # O_NOFOLLOW: a symlink swapped in after the check above still is not followed.
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, 0o600 if private else 0o666)
    if private:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _remove_stale(out_dir: Path, stale: set[str]) -> None:
    """Delete files the previous render wrote and this one did not, then emptied folders."""
    root = out_dir.resolve()
    for path in sorted(stale):
        try:
            rel = _checked(path)
        except RenderError:
            continue  # a hand-edited marker must not make us delete outside the tree
        target = out_dir.joinpath(*rel.parts)
        if not target.resolve().is_relative_to(root) or not target.is_file():
            continue
        target.unlink()
        for parent in target.parents:
            if parent == out_dir or not parent.is_relative_to(out_dir) or any(parent.iterdir()):
                break
            parent.rmdir()


__all__ = [
    "MARKER",
    "RenderError",
    "kubernetes_files",
    "render_files",
    "stream",
    "vault_files",
    "write_tree",
]
