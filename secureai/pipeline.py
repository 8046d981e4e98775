"""The pipeline: load -> model -> check -> compile (+ Pod Security check), stopping at errors.

Every command starts here. Each stage returns its value and diagnostics; the pipeline stops at
the first stage boundary with an error, then positions every diagnostic through the source map.
Nothing here imports pulumi.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from secureai import exitcodes
from secureai.batch import batch
from secureai.check import run_checks
from secureai.compile.build import compile_spec
from secureai.compile.plan import Plan
from secureai.diagnostics import Diagnostic, Result, error, has_errors
from secureai.loader import Document, load_file, load_stream
from secureai.loader.compose import compose
from secureai.model import Spec, build_spec


@dataclass(frozen=True)
class Compiled:
    document: Document
    spec: Spec
    plan: Plan

    @property
    def base_dir(self) -> Path:
        return self.document.base_dir


def _positioned(document: Document, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    placed = [document.source_map.position_diagnostic(d) for d in diagnostics]
    if document.included:
        placed = [_with_declaration(document, d) for d in placed]
    return sorted(placed, key=Diagnostic.sort_key)


_SUGGESTION = re.compile(r"\(did you mean '([^']+)'\?\)")
# Where a suggested name of a reference is declared, by the reference's code.
_SUGGESTED_IN = {"SA110": ("namespaces",), "SA111": ("secrets",), "SA113": ("securityProfiles",)}
_NAMED = ("workloads", "namespaces", "secrets", "configMaps", "vaultSecrets", "securityProfiles", "access")


def _with_declaration(document: Document, diagnostic: Diagnostic) -> Diagnostic:
    """In a composed spec, a "did you mean" says where the name it offers is declared: the
    reference and the declaration may stand in two teams' files."""
    found = _SUGGESTION.search(diagnostic.message)
    if found is None:
        return diagnostic
    name = found.group(1)
    for section in _SUGGESTED_IN.get(diagnostic.code, _NAMED):
        entries = document.data.get(section)
        if isinstance(entries, dict) and name in entries:
            file, where = document.source_map.place((section, name), key=True)
            if where is None:
                return diagnostic
            said = f"(did you mean '{name}', declared at {file}:{where.line}:{where.column}?)"
            return replace(diagnostic, message=diagnostic.message.replace(found.group(0), said))
    return diagnostic


STDIN = Path("-")
"""The spec path that means standard input, as kubectl reads `-f -`."""
STDIN_NAME = "<stdin>"
# `secureai render` writes this file at the top of its output; the folder holds manifests, not
# specs. Named here (render sits above the pipeline) and held equal to render's by a test.
RENDER_MARKER = ".secureai-render"


LoadCache = dict[str, Result[Document]]
"""Files already loaded (and roots composed) in this run, by absolute path: a directory walk
reads each file once."""


def _load_one(path: Path, cache: LoadCache | None) -> Result[Document]:
    if path == STDIN:
        return load_stream(sys.stdin.buffer, STDIN_NAME, Path.cwd())
    if cache is None:
        return load_file(path)
    key = os.path.abspath(path)
    if key not in cache:
        cache[key] = load_file(path)
    return cache[key]


def load_spec(path: Path, cache: LoadCache | None = None) -> Result[Document]:
    """The spec file, or standard input when `path` is `-` (fromFile paths: the working
    directory), composed with the files it includes when it is a root spec."""
    loaded = _load_one(path, cache)
    if loaded.value is None or has_errors(loaded.diagnostics) or "include" not in loaded.value.data:
        return loaded
    key = f"{os.path.abspath(path)}\0composed"
    if cache is not None and key in cache:
        return cache[key]
    composed = compose(loaded.value, None if path == STDIN else path, lambda p, _: _load_one(p, cache))
    result = Result(composed.value, [*loaded.diagnostics, *composed.diagnostics])
    if cache is not None and path != STDIN:
        cache[key] = result
    return result


@batch
def compile_path(
    path: Path, environ: Mapping[str, str] | None = None, cache: LoadCache | None = None
) -> Result[Compiled]:
    """Run every stage on one spec file. The value is None when any stage found an error."""
    environ = os.environ if environ is None else environ
    loaded = load_spec(path, cache)
    if loaded.value is None or has_errors(loaded.diagnostics):
        return Result(None, loaded.diagnostics)
    document = loaded.value
    built = build_spec(document)
    if built.value is None:
        return Result(None, [*loaded.diagnostics, *built.diagnostics])
    spec = built.value
    checked = run_checks(spec, document.base_dir, environ)
    if has_errors(checked):
        return Result(None, _positioned(document, checked))
    compiled = compile_spec(spec)
    found = [*checked, *compiled.diagnostics]
    if spec.expect and compiled.value is not None and not has_errors(found):
        found += _expectations(spec, compiled.value)
    diagnostics = _positioned(document, found)
    if compiled.value is None or has_errors(diagnostics):
        return Result(None, diagnostics)
    return Result(Compiled(document, spec, compiled.value), diagnostics)


def _expectations(spec: Spec, plan: Plan) -> list[Diagnostic]:
    """The spec's `expect` assertions, checked on the posture of what it compiled to."""
    from secureai.posture import compute_posture  # only specs that assert anything pay for it
    from secureai.posture.expect import check_expectations

    return check_expectations(spec, compute_posture(plan))


def compile_file(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Result[Plan]:
    """Just the Plan (what the Pulumi component needs)."""
    result = compile_path(Path(path), environ)
    return Result(result.value.plan if result.value else None, result.diagnostics)


@dataclass(frozen=True)
class Validation:
    """What `validate` found in a set of files."""

    diagnostics: list[Diagnostic]
    files: int

    skipped: list[str] = field(default_factory=list)  # what a directory walk left out, and why

    def exit_code(self, strict: bool) -> int:
        return exit_code(self.diagnostics, strict)


def unreadable(diagnostics: list[Diagnostic]) -> bool:
    return any(d.code == "SA000" for d in diagnostics)


def exit_code(diagnostics: list[Diagnostic], strict: bool = False) -> int:
    """The one rule every command follows: unreadable input 2, findings 1, else 0."""
    if unreadable(diagnostics):
        return exitcodes.USAGE
    if has_errors(diagnostics) or (strict and diagnostics):
        return exitcodes.FINDINGS
    return exitcodes.OK


def spec_files(paths: list[Path]) -> tuple[list[Path], list[Diagnostic], list[str]]:
    """Files as given; a directory stands for the `*.yaml` and `*.yml` files below it, sorted.

    A walk skips hidden files and folders (`.git`, `.github`, `.pre-commit-config.yaml`) and
    render output (a folder holding `.secureai-render`): their YAML files are not specs, and
    reporting each rendered manifest as a broken spec would bury the real findings. The third
    value says what was skipped, for `--verbose`. A file named explicitly is always read. A file named twice
    (`specs/ specs/a.yaml`) is checked once. A directory with no spec file is an error, not a
    pass: CI pointed at the wrong folder must not go green.
    """
    out: dict[str, Path] = {}  # by absolute path, so `a.yaml` and `./x/../a.yaml` are one file
    empty: list[Diagnostic] = []
    skipped: list[str] = []
    for path in paths:
        if path != STDIN and _is_dir(path):
            before = len(skipped)
            found = _walk(path, skipped)
            if not found:
                left_out = len(skipped) - before
                hint = f"{left_out} hidden or render-output path(s) skipped; --verbose lists them"
                empty.append(
                    error(
                        "SA000",
                        "no spec files (*.yaml, *.yml) in this directory",
                        hint=hint if left_out else None,
                    ).located(str(path), None)
                )
        else:
            found = [path]
        for file in found:
            out.setdefault(os.path.abspath(file), file)
    return list(out.values()), empty, skipped


def _is_dir(path: Path) -> bool:
    """False also for a path the system cannot look up (too long): reading it then says why."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _walk(root: Path, skipped: list[str]) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, files in _walk_folders(root, skipped):
        here = Path(folder)
        if RENDER_MARKER in files:
            skipped.append(f"{here}: render output ({RENDER_MARKER})")
            dirs.clear()
            continue
        for name in sorted(dirs):
            if name.startswith("."):
                skipped.append(f"{here / name}: hidden folder")
                dirs.remove(name)
        for name in files:
            if not name.endswith((".yaml", ".yml")) or not (here / name).is_file():
                continue
            if name.startswith("."):
                skipped.append(f"{here / name}: hidden file")
                continue
            found.append(here / name)
    return sorted(found)


def _walk_folders(root: Path, skipped: list[str]) -> Iterator[tuple[str, list[str], list[str]]]:
    """`os.walk` top-down, with an explicit stack: Python 3.11's recurses, so a tree 1,500
    folders deep raised RecursionError. A folder that cannot be listed (permissions, a path
    longer than the system allows) is skipped and said so."""
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        dirs: list[str] = []
        files: list[str] = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir(follow_symlinks=False)
                    except OSError:
                        is_dir = False
                    (dirs if is_dir else files).append(entry.name)
        except OSError as exc:
            skipped.append(f"{folder}: cannot be read ({exc.strerror or type(exc).__name__})")
            continue
        yield folder, dirs, files
        stack.extend(os.path.join(folder, d) for d in sorted(dirs, reverse=True))


def validate_paths(paths: list[Path], environ: Mapping[str, str] | None = None) -> Validation:
    """All problems of all files in one run.

    A root spec is checked composed with its parts; a part that a root given here includes is
    not checked again on its own (it is no spec by itself), so `validate specs/` works on a
    folder that holds an organisation's root and its teams' files.
    """
    files, found, skipped = spec_files(paths)
    cache: LoadCache = {}
    roots = [p for p in files if p != STDIN and _is_root(_load_one(p, cache))]
    parts: set[str] = set()
    for path in roots:
        result = compile_path(path, environ, cache)
        found.extend(result.diagnostics)
        parts.update(_parts_read(path, cache))
    for path in files:
        if path in roots or (path != STDIN and os.path.abspath(path) in parts):
            continue
        found.extend(compile_path(path, environ, cache).diagnostics)
    read = {os.path.abspath(f) for f in files if f != STDIN} | parts
    return Validation(found, len(read) + (STDIN in files), skipped)


def _is_root(loaded: Result[Document]) -> bool:
    return loaded.value is not None and "include" in loaded.value.data


def _parts_read(root: Path, cache: LoadCache) -> set[str]:
    composed = load_spec(root, cache)  # from the cache: no file is read twice
    return {os.path.abspath(p) for p in composed.value.included} if composed.value else set()
