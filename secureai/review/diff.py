"""`secureai diff OLD NEW`: the change in posture between two specs, for review and CI.

A side is a spec file, or `SPEC@REV` for that file as it was at a git revision: the spec's
directory is taken from `git archive` into a temporary directory, so files it reads
(`fromFile`, seccomp profiles) are those of the same revision.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from secureai import exitcodes
from secureai.diagnostics import Diagnostic, Position, Severity
from secureai.posture.diff import KINDS, Change, diff_postures
from secureai.review.access import Loaded, load_posture

WIDENING = sorted(k for k, (_, widens, _) in KINDS.items() if widens)


class DiffFailed(Exception):
    def __init__(self, lines: list[str], exit_code: int) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines
        self.exit_code = exit_code


@dataclass(frozen=True)
class PostureDiff:
    old: str
    new: str
    changes: list[Change]
    # Where in the new spec each change comes from (the rule, grant or workload), by id(change).
    positions: Mapping[int, Position | None] = field(default_factory=dict)
    # For a composed spec, the included file a change comes from (absent: the root file).
    files: Mapping[int, str] = field(default_factory=dict)

    def failing(self, fail_on: Sequence[str]) -> list[Change]:
        wanted = set(WIDENING) if "any" in fail_on else set(fail_on)
        return [c for c in self.changes if c.kind in wanted]


def _git_env() -> dict[str, str]:
    # Only what git needs: the user's environment may hold secret values (fromEnv sources).
    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "GIT_DIR", "GIT_WORK_TREE")}


@contextmanager
def spec_at(side: str) -> Iterator[Path]:
    """The spec file a side names; for `SPEC@REV`, a temporary copy of it at that revision."""
    path = Path(side)
    if path.exists() or "@" not in side:
        yield path
        return
    name, _, rev = side.rpartition("@")
    spec = Path(name).resolve()
    try:
        top = subprocess.run(
            ["git", "-C", str(spec.parent), "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=True,
            env=_git_env(),
        ).stdout.strip()
        folder = spec.parent.relative_to(Path(top).resolve())
        archive = subprocess.run(
            ["git", "-C", top, "archive", "--format=tar", rev, "--", folder.as_posix() or "."],
            capture_output=True,
            check=True,
            env=_git_env(),
        ).stdout
    except (subprocess.CalledProcessError, FileNotFoundError, ValueError) as exc:
        detail = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) else str(exc)
        if isinstance(detail, bytes):
            detail = detail.decode(errors="replace")
        raise DiffFailed(
            [f"error: cannot read {name} at git revision '{rev}': {detail}"], exitcodes.USAGE
        ) from None
    with tempfile.TemporaryDirectory(prefix="secureai-diff-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tmp, filter="data")
        yield Path(tmp) / folder / spec.name


def _posture(side: str, path: Path, environ: Mapping[str, str] | None) -> Loaded:
    loaded = load_posture(path, environ)
    if loaded.posture is None:
        lines = [f"error: {side} does not compile:"]
        lines += [d.text() for d in loaded.diagnostics if d.is_error or d.code == "SA000"]
        raise DiffFailed(
            lines, exitcodes.USAGE if loaded.exit_code == exitcodes.USAGE else exitcodes.FINDINGS
        )
    return loaded


def diff_specs(old: str, new: str, environ: Mapping[str, str] | None = None) -> PostureDiff:
    with spec_at(old) as old_path:
        before = _posture(old, old_path, environ)
    with spec_at(new) as new_path:
        after = _posture(new, new_path, environ)
    assert before.posture is not None and after.posture is not None
    changes = diff_postures(before.posture, after.posture)
    where: dict[int, Position | None] = {}
    files: dict[int, str] = {}
    if after.document is not None:
        sources = after.document.source_map
        for c in changes:
            if c.origin:
                file, where[id(c)] = sources.place(c.origin)
                if file != sources.file:  # from an included file: shown beside the root as named
                    root_dir = os.path.dirname(sources.file)
                    files[id(c)] = os.path.join(os.path.dirname(_named(new)), os.path.relpath(file, root_dir))
    return PostureDiff(old, new, changes, where, files)


# ----------------------------------------------------------------------------- output


def _sign(c: Change) -> str:
    return "+" if c.widens else "-"


def as_text(d: PostureDiff) -> str:
    widening = sum(c.widens for c in d.changes)
    lines = [f"posture change {d.old} -> {d.new}: {widening} widening, {len(d.changes) - widening} narrowing"]
    width = max((len(c.kind) for c in d.changes), default=0)
    lines += [
        f"{_sign(c)} {c.kind.ljust(width)}  {c.subject}: {c.detail}".rstrip(": ") + _at(d, c)
        for c in d.changes
    ]
    return "\n".join(lines)


def _named(side: str) -> str:
    """A side's file as the user named it (without an @REV)."""
    return side.rpartition("@")[0] if "@" in side and not Path(side).exists() else side


def _file(d: PostureDiff, c: Change | None = None) -> str:
    """The new side's file a change comes from: the root as named, or the part it included."""
    return d.files.get(id(c), _named(d.new)) if c is not None else _named(d.new)


def _at(d: PostureDiff, c: Change) -> str:
    where = d.positions.get(id(c))
    return f"  ({_file(d, c)}:{where.line})" if where else ""


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def as_markdown(d: PostureDiff) -> str:
    widening = [c for c in d.changes if c.widens]
    narrowing = [c for c in d.changes if not c.widens]
    lines = ["### secureai: posture change", ""]
    if not d.changes:
        return "\n".join(
            [*lines, "No change in who reads which secret, who reaches which pod, or what pods may do."]
        )
    lines.append(f"**{len(widening)} change(s) widen the posture**, {len(narrowing)} narrow it.")
    lines += ["", "| | change | what | detail | spec |", "| --- | --- | --- | --- | --- |"]
    for c in [*widening, *narrowing]:
        mark = "widens" if c.widens else "narrows"
        where = d.positions.get(id(c))
        line = ""
        if where is not None:
            line = f"{d.files[id(c)]}:{where.line}" if id(c) in d.files else f"line {where.line}"
        lines.append(f"| {mark} | {KINDS[c.kind][2]} | `{_md(c.subject)}` | {_md(c.detail)} | {line} |")
    return "\n".join(lines)


def as_json(d: PostureDiff) -> str:
    doc = {
        "old": d.old,
        "new": d.new,
        "widening": sum(c.widens for c in d.changes),
        "changes": [
            {"kind": c.kind, "code": c.code, "widens": c.widens, "subject": c.subject, "detail": c.detail}
            for c in d.changes
        ],
    }
    return json.dumps(doc, indent=2, sort_keys=True)


def as_sarif(d: PostureDiff, fail_on: Sequence[str]) -> str:
    from secureai.report import as_sarif as diagnostics_sarif

    failing = set(map(id, d.failing(fail_on)))
    file = _file(d)
    diagnostics = [
        Diagnostic(
            Severity.ERROR if id(c) in failing else Severity.WARNING,
            c.code,
            f"{KINDS[c.kind][2]}: {c.subject}: {c.detail}",
            file=d.files.get(id(c), file),
            position=d.positions.get(id(c)),
        )
        for c in d.changes
        if c.code is not None
    ]
    return diagnostics_sarif(diagnostics, 1)


def render_diff(d: PostureDiff, output_format: str, fail_on: Sequence[str]) -> str:
    if output_format == "markdown":
        return as_markdown(d)
    if output_format == "json":
        return as_json(d)
    if output_format == "sarif":
        return as_sarif(d, fail_on)
    return as_text(d)
