"""`secureai render`: compile a spec and write (or stream) its manifests and Vault artefacts."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from secureai import exitcodes
from secureai.compile.plan import SecretValue
from secureai.diagnostics import has_errors
from secureai.pipeline import Compiled, compile_path
from secureai.resolve import ResolveContext, ResolveError, resolve


class RenderFailed(Exception):
    def __init__(self, lines: list[str], exit_code: int):
        super().__init__("\n".join(lines))
        self.lines = lines
        self.exit_code = exit_code


def _revealer(compiled: Compiled) -> Callable[[SecretValue], str]:
    """Resolve values for --include-secret-values; Vault values need VAULT_ADDR/VAULT_TOKEN."""
    reader = None
    if compiled.spec.vault is not None and os.environ.get("VAULT_TOKEN"):
        from secureai.vaultio import vault_reader

        address = compiled.spec.vault.address or os.environ.get("VAULT_ADDR", "")
        reader = vault_reader(address, os.environ["VAULT_TOKEN"], compiled.spec.vault.kv_mount)
    ctx = ResolveContext(base_dir=compiled.base_dir, vault_reader=reader)
    return lambda value: resolve(value, ctx)


def render_spec(spec: Path, output: str, *, include_secret_values: bool, force: bool) -> list[str]:
    """Returns the lines to show (diagnostics, then what was written). Raises RenderFailed."""
    from secureai.render import RenderError, render_files, stream, write_tree

    result = compile_path(spec)
    lines = [d.text() for d in result.diagnostics]
    if result.value is None or has_errors(result.diagnostics):
        raise RenderFailed([*lines, "render stopped: the spec has errors"], exitcodes.FINDINGS)
    compiled = result.value
    reveal = _revealer(compiled) if include_secret_values else None
    try:
        if output == "-":
            sys.stdout.write(stream(compiled.plan, reveal))
            return lines
        files = render_files(compiled.plan, reveal)
        written = write_tree(files, Path(output), force=force, private=include_secret_values)
    except ResolveError as exc:
        raise RenderFailed([*lines, f"error: {exc}"], exitcodes.USAGE) from None
    except RenderError as exc:
        raise RenderFailed([*lines, f"error: {exc}"], exitcodes.USAGE) from None
    except OSError as exc:  # a full disk, a read-only or unwritable output directory
        failure = f"error: cannot write {exc.filename or output}: {exc.strerror or exc}"
        raise RenderFailed([*lines, failure], exitcodes.USAGE) from None
    return [*lines, f"wrote {len(written)} files to {output}"]
