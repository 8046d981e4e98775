"""The `render` stage: a Plan as files (Kubernetes manifests, Vault artefacts) written safely.

`render_files` maps relative paths (`kubernetes/...`, `vault/...`) to text; `write_tree`
(`secureai.render.tree`) writes them under an output directory it owns: atomically, under a
lock, removing only the stale files it can prove it wrote. No pulumi here.
"""

from __future__ import annotations

from collections.abc import Callable

from secureai.batch import batch
from secureai.compile.plan import Plan, SecretValue
from secureai.render.kubernetes import kubernetes_files, stream
from secureai.render.tree import MARKER, RenderError, write_tree
from secureai.render.vault import vault_files

Reveal = Callable[[SecretValue], str]


@batch
def render_files(plan: Plan, reveal: Reveal | None = None) -> dict[str, str]:
    """Every rendered file of the plan, by relative POSIX path, in path order."""
    files = dict(kubernetes_files(plan, reveal))
    for path, text in vault_files(plan, reveal).items():
        if path in files:
            raise RenderError(f"two renderers produced {path}")
        files[path] = text
    return dict(sorted(files.items()))


__all__ = [
    "MARKER",
    "RenderError",
    "kubernetes_files",
    "render_files",
    "stream",
    "vault_files",
    "write_tree",
]
