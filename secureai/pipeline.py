"""The pipeline: load -> model -> check -> compile (+ Pod Security check), stopping at errors.

Every command starts here. Each stage returns its value and diagnostics; the pipeline stops at
the first stage boundary with an error, then positions every diagnostic through the source map.
Nothing here imports pulumi.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from secureai import exitcodes
from secureai.check import run_checks
from secureai.compile.build import compile_spec
from secureai.compile.plan import Plan
from secureai.diagnostics import Diagnostic, Result, error, has_errors
from secureai.loader import Document, load_file
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
    return sorted(placed, key=Diagnostic.sort_key)


def compile_path(path: Path, environ: Mapping[str, str] | None = None) -> Result[Compiled]:
    """Run every stage on one spec file. The value is None when any stage found an error."""
    environ = os.environ if environ is None else environ
    loaded = load_file(path)
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
    diagnostics = _positioned(document, [*checked, *compiled.diagnostics])
    if compiled.value is None or has_errors(diagnostics):
        return Result(None, diagnostics)
    return Result(Compiled(document, spec, compiled.value), diagnostics)


def compile_file(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Result[Plan]:
    """Just the Plan (what the Pulumi component needs)."""
    result = compile_path(Path(path), environ)
    return Result(result.value.plan if result.value else None, result.diagnostics)


@dataclass(frozen=True)
class Validation:
    """What `validate` found in a set of files."""

    diagnostics: list[Diagnostic]
    files: int

    @property
    def unreadable(self) -> bool:
        return any(d.code == "SA000" for d in self.diagnostics)

    def exit_code(self, strict: bool) -> int:
        if self.unreadable:
            return exitcodes.USAGE
        if has_errors(self.diagnostics) or (strict and self.diagnostics):
            return exitcodes.FINDINGS
        return exitcodes.OK


def spec_files(paths: list[Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Files as given; a directory stands for the `*.yaml` and `*.yml` files below it, sorted.

    A file named twice (`specs/ specs/a.yaml`) is checked once. A directory with no spec file
    is an error, not a pass: CI pointed at the wrong folder must not go green.
    """
    out: dict[str, Path] = {}  # by absolute path, so `a.yaml` and `./x/../a.yaml` are one file
    empty: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
            if not found:
                empty.append(
                    error("SA000", "no spec files (*.yaml, *.yml) in this directory").located(str(path), None)
                )
        else:
            found = [path]
        for file in found:
            out.setdefault(os.path.abspath(file), file)
    return list(out.values()), empty


def validate_paths(paths: list[Path], environ: Mapping[str, str] | None = None) -> Validation:
    """All problems of all files in one run."""
    files, found = spec_files(paths)
    for path in files:
        found.extend(compile_path(path, environ).diagnostics)
    return Validation(found, len(files))
