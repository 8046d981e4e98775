"""Turn the Pulumi engine's event stream into a per-resource change report (display.py shows it).

Input is `pulumi.automation.events.EngineEvent` objects, as `on_event` delivers them (or as
`load_event_log` parses an `--event-log` file). Output carries property *paths* only, never
property values, so a secret cannot reach the screen through a diff; engine messages are
redacted against the known secret values and stripped of colour markup.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.automation.events import EngineEvent, StepEventMetadata

from secureai.deploy.errors import clean

# The engine's step ops, folded into what a user cares about for one resource.
CANONICAL_OP: Mapping[str, str] = {
    "create": "create",
    "update": "update",
    "delete": "delete",
    "same": "same",
    "replace": "replace",
    "create-replacement": "replace",
    "delete-replaced": "replace",
    "read": "read",
    "read-replacement": "read",
    "refresh": "refresh",
    "import": "import",
    "import-replacement": "import",
    "discard": "discard",
    "discard-replaced": "discard",
    "remove-pending-replace": "delete",
}
# When one resource has several steps (a replace has three), the strongest one names it.
_PRECEDENCE = ("replace", "create", "delete", "update", "import", "read", "refresh", "discard")
MARKER: Mapping[str, str] = {
    "create": "+",
    "update": "~",
    "replace": "+-",
    "delete": "-",
    "same": " ",
    "read": ">",
    "refresh": "~",
    "import": "=",
    "discard": "-",
}
NO_CHANGE_OPS = frozenset({"same", "read", "refresh"})
_MAX_PATHS = 50
# The key that marks a secret or resource reference in engine property values.
SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
MAYBE_CORRUPT = (
    "warning: the engine reports that some resources may be in an unknown state after this "
    "operation; run `secureai preview --refresh` to compare the stack with the cluster"
)


@dataclass
class Change:
    """What happens (or happened) to one resource."""

    urn: str
    type: str
    op: str = "same"
    steps: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    replace_keys: list[str] = field(default_factory=list)
    failed: bool = False
    done: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    def to_json(self) -> dict[str, Any]:
        return {
            "op": self.op,
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "steps": self.steps,
            "paths": self.paths,
            "replaceKeys": self.replace_keys,
            "failed": self.failed,
            "errors": self.errors,
        }


@dataclass(frozen=True)
class Message:
    """An engine diagnostic, cleaned."""

    severity: str
    text: str
    urn: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"severity": self.severity, "message": self.text, "urn": self.urn}


@dataclass(frozen=True)
class PolicyViolation:
    policy: str
    pack: str
    level: str  # advisory | mandatory | remediate | disabled
    text: str
    urn: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "pack": self.pack,
            "enforcementLevel": self.level,
            "message": self.text,
            "urn": self.urn,
        }


@dataclass
class ChangeReport:
    """The outcome of one preview, update or destroy."""

    changes: list[Change] = field(default_factory=list)
    diagnostics: list[Message] = field(default_factory=list)
    policy_violations: list[PolicyViolation] = field(default_factory=list)
    preview: bool = False
    engine_counts: dict[str, int] = field(default_factory=dict)
    duration_seconds: int | None = None
    maybe_corrupt: bool = False

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.op] = counts.get(change.op, 0) + 1
        return counts

    @property
    def failures(self) -> list[Change]:
        return [c for c in self.changes if c.failed]

    @property
    def errors(self) -> list[Message]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def mandatory_violations(self) -> list[PolicyViolation]:
        return [v for v in self.policy_violations if v.level == "mandatory"]

    @property
    def has_changes(self) -> bool:
        return any(c.op not in NO_CHANGE_OPS for c in self.changes)

    @property
    def result(self) -> str:
        bad = self.failures or self.errors or self.mandatory_violations
        return "failed" if bad else "succeeded"

    def to_json(self) -> dict[str, Any]:
        return {
            "preview": self.preview,
            "result": self.result,
            "resources": [c.to_json() for c in self.changes],
            "diagnostics": [d.to_json() for d in self.diagnostics],
            "policyViolations": [v.to_json() for v in self.policy_violations],
            "summary": {
                "counts": self.counts,
                "engineCounts": self.engine_counts,
                "failures": len(self.failures),
                "hasChanges": self.has_changes,
                "durationSeconds": self.duration_seconds,
                "maybeCorrupt": self.maybe_corrupt,
            },
        }


# The engine's warning whenever a plugin comes from PATH.
_OWN_HOST_WARNING = "using pulumi-resource-pulumi-python from $PATH"


class EventCollector:
    """An `on_event` callback that builds a ChangeReport; safe to call from the event thread."""

    def __init__(self, *, preview: bool = False, secrets: Iterable[str] = ()) -> None:
        self._report = ChangeReport(preview=preview)
        self._by_urn: dict[str, Change] = {}
        self._secrets = list(secrets)
        self._lock = threading.Lock()

    def __call__(self, event: EngineEvent) -> None:
        with self._lock:
            self._add(event)

    def report(self) -> ChangeReport:
        with self._lock:
            return self._report

    def _add(self, event: EngineEvent) -> None:
        if event.resource_pre_event is not None:
            pre = event.resource_pre_event
            self._step(pre.metadata)
            self._report.preview = self._report.preview or bool(pre.planning)
        elif event.res_outputs_event is not None:
            self._step(event.res_outputs_event.metadata).done = True
        elif event.res_op_failed_event is not None:
            self._step(event.res_op_failed_event.metadata).failed = True
        elif event.diagnostic_event is not None:
            self._diagnostic(event)
        elif event.policy_event is not None:
            self._policy(event)
        elif event.summary_event is not None:
            summary = event.summary_event
            self._report.engine_counts = {
                str(getattr(op, "value", op)): n for op, n in (summary.resource_changes or {}).items()
            }
            self._report.duration_seconds = summary.duration_seconds
            self._report.maybe_corrupt = bool(summary.maybe_corrupt)

    def _step(self, meta: StepEventMetadata) -> Change:
        change = self._by_urn.get(meta.urn)
        if change is None:
            change = self._by_urn[meta.urn] = Change(urn=meta.urn, type=meta.type)
            self._report.changes.append(change)
        op = str(getattr(meta.op, "value", meta.op))
        if op not in change.steps:
            change.steps.append(op)
        change.op = _strongest(change.steps)
        _merge(change.paths, _paths(meta))
        _merge(change.replace_keys, list(meta.keys or []))
        return change

    def _diagnostic(self, event: EngineEvent) -> None:
        diag = event.diagnostic_event
        assert diag is not None
        if _OWN_HOST_WARNING in diag.message and "/.secureai-bin/" in diag.message:
            return  # secureai put its own dynamic-provider host there (deploy/stack.py): no news
        text = clean(f"{diag.prefix or ''}{diag.message}", self._secrets, limit=2000)
        if diag.severity == "debug" or not text:
            return
        message = Message(diag.severity, strip_prefix(text, diag.severity), diag.urn)
        self._report.diagnostics.append(message)
        if diag.urn and diag.severity == "error" and diag.urn in self._by_urn:
            self._by_urn[diag.urn].errors.append(message.text)

    def _policy(self, event: EngineEvent) -> None:
        policy = event.policy_event
        assert policy is not None
        self._report.policy_violations.append(
            PolicyViolation(
                policy=policy.policy_name,
                pack=policy.policy_pack_name,
                level=policy.enforcement_level,
                text=clean(policy.message, self._secrets, limit=2000),
                urn=policy.resource_urn,
            )
        )


def summarize(
    events: Iterable[EngineEvent], *, preview: bool = False, secrets: Iterable[str] = ()
) -> ChangeReport:
    collector = EventCollector(preview=preview, secrets=secrets)
    for event in events:
        collector(event)
    return collector.report()


def _strongest(steps: list[str]) -> str:
    ops = {CANONICAL_OP.get(step, step) for step in steps}
    if steps and all(step == "delete-replaced" for step in steps):
        # Only the old copy left by an earlier replacement is deleted (Pulumi shows "deleted
        # original"): nothing is replaced in this run, so it must not count as a replace.
        ops = {"delete"}
    return next((op for op in _PRECEDENCE if op in ops), "same")


def _merge(into: list[str], new: Iterable[str]) -> None:
    for item in new:
        if item not in into and len(into) < _MAX_PATHS:
            into.append(item)


def _paths(meta: StepEventMetadata) -> list[str]:
    """Changed property paths: the detailed diff, else the top-level diffs, else a deep
    comparison of old and new (the engine sends no diff for stack output changes)."""
    if meta.detailed_diff:
        return list(meta.detailed_diff)
    if meta.diffs:
        return list(meta.diffs)
    op = str(getattr(meta.op, "value", meta.op))
    if op != "update" or meta.old is None or meta.new is None:
        return []
    use_outputs = meta.type == "pulumi:pulumi:Stack"
    old = (meta.old.outputs if use_outputs else meta.old.inputs) or {}
    new = (meta.new.outputs if use_outputs else meta.new.inputs) or {}
    return _deep_paths(old, new, "")[:_MAX_PATHS]


def _deep_paths(old: Any, new: Any, prefix: str) -> list[str]:
    if _is_special(old) or _is_special(new):
        # A secret or resource reference is one value: descending would name its markers.
        return [] if old == new else [prefix or "(root)"]
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[str] = []
        for key in sorted(set(old) | set(new)):
            found += _deep_paths(old.get(key), new.get(key), _join(prefix, key))
        return found
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            p
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for p in _deep_paths(a, b, f"{prefix}[{i}]")
        ]
    return [] if old == new else [prefix or "(root)"]


def _is_special(value: Any) -> bool:
    return isinstance(value, dict) and SIGNATURE_KEY in value


def _join(prefix: str, key: str) -> str:
    """Pulumi's property-path syntax: `a.b`, or `a["odd.key"]` when a key needs quoting."""
    if key.replace("_", "").replace("-", "").isalnum():
        return f"{prefix}.{key}" if prefix else key
    return f"{prefix}[{json.dumps(key)}]"


def strip_prefix(text: str, severity: str) -> str:
    """Engine messages repeat their severity (`error: ...`); keep it once."""
    lead = f"{severity}: "
    return text[len(lead) :] if text.startswith(lead) else text


# ---- event logs ----------------------------------------------------------------------


def parse_event_log(text: str) -> list[EngineEvent]:
    """Every event in an `--event-log` file: JSON lines or a pretty-printed object stream."""
    decoder = json.JSONDecoder()
    events: list[EngineEvent] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return events
        obj, pos = decoder.raw_decode(text, pos)
        events.append(EngineEvent.from_json(obj))


def load_event_log(path: str | Path) -> list[EngineEvent]:
    return parse_event_log(Path(path).read_text(encoding="utf-8"))
