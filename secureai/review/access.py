"""`secureai access`: compile one spec and describe its posture in the format asked for."""

from __future__ import annotations

import gc
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from secureai import exitcodes
from secureai.diagnostics import Diagnostic, has_errors
from secureai.loader import Document
from secureai.pipeline import compile_path
from secureai.posture import Posture, compute_posture


@dataclass(frozen=True)
class Loaded:
    posture: Posture | None
    diagnostics: list[Diagnostic]
    document: Document | None = None  # to place posture facts in the spec (their origins)

    @property
    def exit_code(self) -> int:
        if any(d.code == "SA000" for d in self.diagnostics):
            return exitcodes.USAGE
        return exitcodes.FINDINGS if self.posture is None else exitcodes.OK


def load_posture(path: Path, environ: Mapping[str, str] | None = None) -> Loaded:
    """The posture of a spec that compiles; its diagnostics otherwise.

    Values from the environment or files are not needed to know who reads them, so a missing
    variable (SA121, a warning) does not stop it; errors do.
    """
    result = compile_path(path, environ)
    if result.value is None or has_errors(result.diagnostics):
        return Loaded(None, result.diagnostics)
    # The compiled plan lives until the command ends; without this, every collection of the
    # posture's many small objects rescans it (half of `access` time on 1,000 workloads).
    gc.freeze()
    return Loaded(compute_posture(result.value.plan), result.diagnostics, result.value.document)


def render_posture(posture: Posture, output_format: str) -> str:
    if output_format in ("html", "svg"):
        from secureai.posture.picture import as_html, as_svg

        return as_html(posture) if output_format == "html" else as_svg(posture)
    if output_format == "json":
        from secureai.posture.report import as_json

        return as_json(posture)
    from secureai.posture.report import as_text

    return as_text(posture)
