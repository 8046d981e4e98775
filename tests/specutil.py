"""Helpers for tests that write a spec file and run the pipeline on it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from secureai.pipeline import compile_path

BASE = """\
version: 1
project: demo
kubernetes:
  version: "1.30"
namespaces:
  ml: {}
"""

WORKLOAD = """\
workloads:
  trainer:
    namespace: ml
    image: ghcr.io/acme/train:1.0.0
    runAsUser: 10001
    resources: { limits: { cpu: "1", memory: 1Gi } }
"""


def write_spec(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def messages(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    """Every diagnostic of the spec as text, with the tmp dir stripped from file names."""
    path = write_spec(tmp_path, text)
    result = compile_path(path, environ or {})
    return [d.text().replace(str(tmp_path) + "/", "") for d in result.diagnostics]
