"""What a person (or a script) sees of a change report: text lines, JSON, live progress.

Lines carry property paths, never values; engine messages go through `clean`, which strips
colour markup and redacts the known secret values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping

from pulumi.automation.events import EngineEvent, StepEventMetadata

from secureai.deploy.errors import clean
from secureai.deploy.events import (
    CANONICAL_OP,
    MARKER,
    MAYBE_CORRUPT,
    NO_CHANGE_OPS,
    Change,
    ChangeReport,
    strip_prefix,
)

_ING = {"create": "creating", "update": "updating", "replace": "replacing", "delete": "deleting"}
_ED = {"create": "created", "update": "updated", "replace": "replaced", "delete": "deleted"}


def render_text(report: ChangeReport, *, show_same: bool = False) -> str:
    """The change list as lines like `+ create  kubernetes:core/v1:Secret  ns/db`."""
    lines = [change_line(c) for c in report.changes if show_same or c.op not in NO_CHANGE_OPS]
    lines += [f"{d.severity}: {d.text}" for d in report.diagnostics if d.severity in _SHOWN]
    lines += [
        f"policy {v.level}: {v.pack}/{v.policy}: {v.text}"
        + (f"  ({v.urn.rsplit('::', 1)[-1]})" if v.urn else "")
        for v in report.policy_violations
    ]
    if report.maybe_corrupt:
        lines.append(MAYBE_CORRUPT)
    lines.append(summary_line(report))
    return "\n".join(lines)


_SHOWN = frozenset({"error", "warning"})


def change_line(change: Change) -> str:
    marker = MARKER.get(change.op, "?")
    line = f"{marker} {change.op:<7} {change.type}  {change.name}"
    if change.paths and change.op in ("update", "replace"):
        line += f"  [{', '.join(change.paths)}]"
    if change.failed:
        line += "  FAILED"
    return line


def summary_line(report: ChangeReport) -> str:
    """`Resources: 2 to create, 1 unchanged` (preview) or `2 created, 1 failed` (update)."""
    counts: dict[str, int] = {}
    for change in report.changes:
        if not change.failed:  # a failed step did not happen; it is counted as failed
            counts[change.op] = counts.get(change.op, 0) + 1
    tense = "to " if report.preview else ""
    verbs = {} if report.preview else _ED
    parts = [
        f"{counts[op]} {tense}{verbs.get(op, op)}"
        for op in ("create", "update", "replace", "delete", "import", "discard")
        if counts.get(op)
    ]
    unchanged = sum(counts.get(op, 0) for op in NO_CHANGE_OPS)
    if unchanged:
        parts.append(f"{unchanged} unchanged")
    if report.failures:
        parts.append(f"{len(report.failures)} failed")
    parts = parts or ["no changes"]
    levels: dict[str, int] = {}
    for violation in report.policy_violations:
        levels[violation.level] = levels.get(violation.level, 0) + 1
    if levels:
        shown = ", ".join(f"{n} {level}" for level, n in sorted(levels.items()))
        parts.append(f"policy violations: {shown}")
    return "Resources: " + ", ".join(parts)


def render_json(report: ChangeReport) -> str:
    return json.dumps(report.to_json(), indent=2, sort_keys=False)


class Progress:
    """An `on_event` callback that emits one line per resource step while an update runs."""

    def __init__(self, emit: Callable[[str], None], *, secrets: Iterable[str] = ()) -> None:
        self._emit = emit
        self._secrets = list(secrets)

    def __call__(self, event: EngineEvent) -> None:
        line = self.line(event)
        if line:
            self._emit(line)

    def line(self, event: EngineEvent) -> str | None:
        if event.resource_pre_event is not None and not event.resource_pre_event.planning:
            return _step_line(event.resource_pre_event.metadata, _ING)
        if event.res_outputs_event is not None and not event.res_outputs_event.planning:
            return _step_line(event.res_outputs_event.metadata, _ED)
        if event.res_op_failed_event is not None:
            meta = event.res_op_failed_event.metadata
            return f"x failed  {meta.type}  {meta.urn.rsplit('::', 1)[-1]}"
        diag = event.diagnostic_event
        if diag is not None and diag.severity in _SHOWN and not diag.ephemeral:
            text = strip_prefix(clean(diag.message, self._secrets), diag.severity)
            return f"{diag.severity}: {text}"
        return None


def _step_line(meta: StepEventMetadata, verbs: Mapping[str, str]) -> str | None:
    step = str(getattr(meta.op, "value", meta.op))
    op = CANONICAL_OP.get(step, "same")
    if op in NO_CHANGE_OPS or meta.type == "pulumi:pulumi:Stack":
        return None
    name = meta.urn.rsplit("::", 1)[-1]
    if step in _REPLACE_STEPS:
        # A replace is three steps; naming each (as Pulumi does) says which half failed.
        marker, ing, ed = _REPLACE_STEPS[step]
        return f"{marker} {ing if verbs is _ING else ed}  {meta.type}  {name}"
    return f"{MARKER.get(op, '?')} {verbs.get(op, op)}  {meta.type}  {name}"


_REPLACE_STEPS: Mapping[str, tuple[str, str, str]] = {
    "create-replacement": ("++", "creating replacement", "created replacement"),
    "replace": ("+-", "replacing", "replaced"),
    "delete-replaced": ("--", "deleting original", "deleted original"),
}
