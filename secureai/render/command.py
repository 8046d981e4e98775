"""`secureai render`: compile a spec and write (or stream) its manifests and Vault artefacts."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from secureai import exitcodes
from secureai.compile.plan import Plan, SecretValue, iter_secrets
from secureai.diagnostics import Diagnostic
from secureai.pipeline import Compiled, compile_path, exit_code
from secureai.resolve import ResolveContext, ResolveError, resolve_all, vault_address


@dataclass
class RenderOutcome:
    """What render found and did: the spec's diagnostics, then notes for the user (stderr).

    `errors` are lines saying why nothing was written; `exit_code` follows the one rule."""

    diagnostics: list[Diagnostic]
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    exit_code: int = exitcodes.OK


def _revealer(compiled: Compiled) -> Callable[[SecretValue], str]:
    """Resolve every value for --include-secret-values before anything is written, so that all
    missing ones are reported in one run. Vault values need VAULT_ADDR/VAULT_TOKEN."""
    reader = None
    if compiled.spec.vault is not None and os.environ.get("VAULT_TOKEN"):
        from secureai.vaultio import vault_reader

        address = vault_address(compiled.spec.vault.address, os.environ)
        reader = vault_reader(address, os.environ["VAULT_TOKEN"], compiled.spec.vault.kv_mount)
    ctx = ResolveContext(base_dir=compiled.base_dir, vault_reader=reader)
    values = resolve_all(_secret_values(compiled.plan), ctx)
    return lambda value: values[(value.source, value.ref)]


def _secret_values(plan: Plan) -> list[SecretValue]:
    return [value for r in plan.resources for _, value in iter_secrets(r.properties)]


def render_spec(spec: Path, output: str, *, include_secret_values: bool, force: bool) -> RenderOutcome:
    """Compile, then write the tree (or stream to stdout for `-`); never raises for bad input."""
    from secureai.render import RenderError, render_files, stream, write_tree
    from secureai.render.kubernetes import TEMPLATES

    result = compile_path(spec)
    outcome = RenderOutcome(result.diagnostics)
    if result.value is None or exit_code(result.diagnostics) != exitcodes.OK:
        outcome.exit_code = exit_code(result.diagnostics)
        why = "cannot be read" if outcome.exit_code == exitcodes.USAGE else "has errors"
        outcome.errors.append(f"render stopped: the spec {why}; nothing was written")
        return outcome
    compiled = result.value
    plan = compiled.plan
    try:
        reveal = _revealer(compiled) if include_secret_values else None
        # The loaded spec (its data and its source map, most of a large spec's memory) has no
        # part in writing the plan: let it go first (10,000 workloads: 400 MB at peak before).
        del result, compiled
        if output == "-":
            sys.stdout.write(stream(plan, reveal))
            outcome.notes.extend(_left_out_of_stream(plan, reveal is not None))
            return outcome
        files = render_files(plan, reveal)
        written = write_tree(files, Path(output), force=force, private=include_secret_values)
    except (ResolveError, RenderError) as exc:
        return _failed(outcome, f"error: {exc}")
    except OSError as exc:  # a full disk, a read-only or unwritable output directory
        return _failed(outcome, f"error: cannot write {exc.filename or output}: {exc.strerror or exc}")
    outcome.notes.append(f"wrote {len(written)} files to {output}")
    templates = [p for p in files if p.startswith(TEMPLATES)]
    if templates:
        outcome.notes.append(
            f"{len(templates)} Secret(s) hold placeholders, not values: written to "
            f"{Path(output) / TEMPLATES} for review, not to kubernetes/ (apply them with "
            "`secureai apply`, or render --include-secret-values)"
        )
    return outcome


def _failed(outcome: RenderOutcome, line: str) -> RenderOutcome:
    outcome.errors.append(line)
    outcome.exit_code = exitcodes.USAGE
    return outcome


def _left_out_of_stream(plan: Plan, revealed: bool) -> list[str]:
    """Notes naming what `-o -` did not print: a YAML stream for `kubectl apply -f -` cannot
    carry Vault's HCL and JSON, and placeholder Secrets must not be applied."""
    from secureai.render import vault_files

    notes = []
    vault = vault_files(plan)
    if vault:
        notes.append(
            f"left out of the stream: {len(vault)} Vault file(s) (policies, auth roles, KV data); "
            "`secureai render SPEC -o DIR` writes them under DIR/vault/"
        )
    if not revealed:
        held = sorted(
            f"{r.properties['metadata'].get('namespace', '')}/{r.properties['metadata']['name']}".lstrip("/")
            for r in plan.of_provider("kubernetes")
            if r.secret_paths()
        )
        if held:
            notes.append(
                f"left out of the stream: {len(held)} Secret(s) whose values are placeholders "
                f"({', '.join(held)}); add --include-secret-values, or deploy with `secureai apply`"
            )
    return notes
