"""The change list, text and JSON built from real Pulumi engine event streams.

Every file in shared/pulumi-events/ is used; the facts asserted are the ones its README
states (counts, ops, paths), so a wrong reading of the format fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi.automation.events import EngineEvent

from secureai.deploy.display import Progress, render_json, render_text
from secureai.deploy.events import (
    SIGNATURE_KEY,
    ChangeReport,
    EventCollector,
    load_event_log,
    parse_event_log,
    summarize,
)

EVENTS_DIR = Path(__file__).resolve().parents[2] / "shared" / "pulumi-events"
SECRET_MARKERS = ("ciphertext", "1b47061264138c4ac30d75fd1eb44270", "4dabf18193072939515e22adb298388d")

# file -> number of events, per the README's event-type counts
EVENT_COUNTS = {
    "aws-eks-up-create.json": 15,
    "aws-eks-update-detaileddiff.json": 15,
    "aws-webserver-replace.json": 14,
    "aws-eks-k8s-template-body.json": 133,
    "dynamic-failed-replace-secrets.json": 9,
    "stack-output-json-text-change-pretty.json": 4,
    "engine-continue-on-error-update.json": 16,
    "engine-component-delete.json": 13,
    "engine-policy-violations.json": 18,
    "engine-policy-remediation.json": 13,
}


def events_dir() -> Path:
    if not EVENTS_DIR.is_dir():
        pytest.fail(
            f"recorded Pulumi event streams not found at {EVENTS_DIR}: these tests need the "
            "shared/pulumi-events/ directory next to the repository root"
        )
    return EVENTS_DIR


def report_for(name: str, **kwargs: object) -> ChangeReport:
    return summarize(load_event_log(events_dir() / name), **kwargs)  # type: ignore[arg-type]


def only(report: ChangeReport, op: str) -> list[str]:
    return [c.type for c in report.changes if c.op == op]


def test_every_file_is_covered() -> None:
    on_disk = {p.name for p in events_dir().glob("*.json")}
    assert on_disk == set(EVENT_COUNTS), "a new event file needs facts in this test"


@pytest.mark.parametrize("name", sorted(EVENT_COUNTS))
def test_every_file_parses_renders_and_leaks_nothing(name: str) -> None:
    events = load_event_log(events_dir() / name)
    assert len(events) == EVENT_COUNTS[name]
    report = summarize(events)
    text = render_text(report, show_same=True)
    as_json = render_json(report)
    assert json.loads(as_json)["summary"]["counts"] == report.counts
    for marker in (*SECRET_MARKERS, "<{%"):
        assert marker not in text
        assert marker not in as_json
    assert text.splitlines()[-1].startswith("Resources: ")


def test_pretty_printed_stream_parses() -> None:
    text = (events_dir() / "stack-output-json-text-change-pretty.json").read_text(encoding="utf-8")
    assert "\n    " in text  # really the multi-line one
    events = parse_event_log(text)
    assert [e.prelude_event is not None for e in events] == [True, False, False, False]
    report = summarize(events)
    (change,) = report.changes
    assert (change.op, change.type) == ("update", "pulumi:pulumi:Stack")
    # No diffs in the event: the path comes from comparing old and new outputs.
    assert change.paths == ["vehicles.taxi"]
    assert report.preview


def test_eks_create() -> None:
    report = report_for("aws-eks-up-create.json")
    assert report.counts == {"create": 6}
    assert report.engine_counts == {"create": 6}
    assert "aws:eks/cluster:Cluster" in only(report, "create")
    assert all(c.done for c in report.changes)
    assert not report.preview
    assert report.result == "succeeded"
    assert render_text(report).splitlines()[-1] == "Resources: 6 created"


def test_eks_update_detailed_diff() -> None:
    report = report_for("aws-eks-update-detaileddiff.json")
    assert report.counts == {"same": 5, "update": 1}
    (update,) = [c for c in report.changes if c.op == "update"]
    assert update.type == "aws:ec2/securityGroup:SecurityGroup"
    assert "ingress[1].cidrBlocks[0]" in update.paths
    assert len(update.paths) == 5
    line = next(ln for ln in render_text(report).splitlines() if ln.startswith("~"))
    assert line.startswith("~ update  aws:ec2/securityGroup:SecurityGroup  ")
    assert "[ingress[1].cidrBlocks[0]" in line


def test_webserver_replace() -> None:
    report = report_for("aws-webserver-replace.json")
    assert report.preview
    (replace,) = [c for c in report.changes if c.op == "replace"]
    assert replace.type == "aws:ec2/instance:Instance"
    assert replace.paths == ["userData"]
    assert replace.replace_keys == ["userData"]
    assert set(replace.steps) == {"create-replacement", "replace", "delete-replaced"}
    text = render_text(report)
    assert "+- replace aws:ec2/instance:Instance" in text
    assert "[userData]" in text
    assert text.splitlines()[-1] == "Resources: 1 to replace, 2 unchanged"


def test_template_body_has_kubernetes_tokens_unchanged() -> None:
    report = report_for("aws-eks-k8s-template-body.json")
    assert report.counts == {"same": 57, "update": 1}
    (update,) = [c for c in report.changes if c.op == "update"]
    assert (update.type, update.paths) == ("aws:cloudformation/stack:Stack", ["templateBody"])
    kube = {c.type: c.op for c in report.changes if "kubernetes" in c.type}
    assert kube == {"pulumi:providers:kubernetes": "same", "kubernetes:core/v1:ConfigMap": "same"}
    assert "kubernetes" not in render_text(report)  # unchanged resources are not listed by default


def test_failed_update_with_secrets() -> None:
    report = report_for("dynamic-failed-replace-secrets.json")
    (failed,) = report.failures
    assert (failed.op, failed.name, failed.type) == ("update", "test-x", "pulumi-python:dynamic:Resource")
    assert report.result == "failed"
    assert report.maybe_corrupt
    text = render_text(report)
    assert "~ update  pulumi-python:dynamic:Resource  test-x" in text and "FAILED" in text
    for marker in SECRET_MARKERS:
        assert marker not in text
        assert marker not in render_json(report)
    # Neither the masked form nor any input value is echoed: only paths are shown.
    assert "[secret]" not in text
    assert "quux13" not in text


def test_lone_delete_replaced_is_a_delete_not_a_replace() -> None:
    # test-r only has its old copy (left by an earlier replacement) deleted: Pulumi shows
    # "-- deleted original", and nothing is replaced in this run.
    report = report_for("dynamic-failed-replace-secrets.json")
    (leftover,) = [c for c in report.changes if c.name == "test-r"]
    assert (leftover.op, leftover.steps) == ("delete", ["delete-replaced"])
    assert "replace" not in report.counts
    assert render_text(report).splitlines()[-1] == "Resources: 1 deleted, 1 unchanged, 1 failed"
    lines: list[str] = []
    progress = Progress(lines.append)
    for event in load_event_log(events_dir() / "dynamic-failed-replace-secrets.json"):
        progress(event)
    assert lines == [
        "~ updating  pulumi-python:dynamic:Resource  test-x",
        "-- deleting original  pulumi-python:dynamic:Resource  test-r",
        "x failed  pulumi-python:dynamic:Resource  test-x",
        "-- deleted original  pulumi-python:dynamic:Resource  test-r",
    ]


def test_maybe_corrupt_is_said() -> None:
    text = render_text(report_for("dynamic-failed-replace-secrets.json"))
    assert "may be in an unknown state" in text.splitlines()[-2]
    assert "unknown state" not in render_text(report_for("engine-continue-on-error-update.json"))


def test_replace_progress_names_each_step() -> None:
    # The recorded replace is a preview; the same steps during an update, planning off.
    events = load_event_log(events_dir() / "aws-webserver-replace.json")
    for event in events:
        for step in (event.resource_pre_event, event.res_outputs_event):
            if step is not None:
                step.planning = None
    lines: list[str] = []
    progress = Progress(lines.append)
    for event in events:
        progress(event)
    instance = [ln for ln in lines if ln.endswith("aws:ec2/instance:Instance  web-server-www")]
    assert instance[:3] == [
        "++ creating replacement  aws:ec2/instance:Instance  web-server-www",
        "++ created replacement  aws:ec2/instance:Instance  web-server-www",
        "+- replacing  aws:ec2/instance:Instance  web-server-www",
    ]
    assert "-- deleted original  aws:ec2/instance:Instance  web-server-www" in instance


def test_deep_compare_treats_a_secret_as_one_value() -> None:
    secret = {SIGNATURE_KEY: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "[secret]"}

    def update(old: dict[str, object], new: dict[str, object]) -> EngineEvent:
        state = {"type": "pkgA:m:typA", "urn": "urn:pulumi:s::p::pkgA:m:typA::r"}
        meta = {**state, "op": "update", "old": {**state, "inputs": old}, "new": {**state, "inputs": new}}
        return EngineEvent.from_json({"resourcePreEvent": {"metadata": meta}})

    changed = summarize([update({"a": "plain", "b": secret}, {"a": secret, "b": secret})])
    assert changed.changes[0].paths == ["a"]
    same = summarize([update({"a": secret}, {"a": dict(secret)})])
    assert same.changes[0].paths == []


def test_continue_on_error() -> None:
    report = report_for("engine-continue-on-error-update.json")
    assert len(report.failures) == 2
    assert all(c.op == "update" and c.paths == ["foo"] for c in report.failures)
    assert len(only(report, "create")) == 3
    assert report.engine_counts == {"create": 3}
    assert [d.severity for d in report.diagnostics] == ["error", "error", "error"]
    assert all(c.errors == ["intentionally failed update"] for c in report.failures)
    assert report.result == "failed"
    assert render_text(report).splitlines()[-1] == "Resources: 3 created, 2 failed"


def test_component_delete() -> None:
    report = report_for("engine-component-delete.json")
    assert report.counts == {"delete": 5}
    assert report.engine_counts == {"delete": 5}
    assert all(line.startswith("- delete ") for line in render_text(report).splitlines()[:-1])
    assert {c.name for c in report.changes} == {"rule", "second", "sg", "nested", "first"}


def test_policy_violations() -> None:
    report = report_for("engine-policy-violations.json")
    assert len(report.policy_violations) == 10
    assert len(report.mandatory_violations) == 5
    assert {v.level for v in report.policy_violations} == {"advisory", "mandatory"}
    assert all(v.urn and v.urn.endswith("::resA") for v in report.policy_violations)
    assert not report.changes
    assert report.result == "failed"
    text = render_text(report)
    assert text.count("policy mandatory: analyzerA/") == 5
    assert text.splitlines()[-1] == "Resources: no changes, policy violations: 5 advisory, 5 mandatory"


def test_policy_remediation_stream() -> None:
    # The SDK does not model policyRemediationEvent: only the create is visible.
    report = report_for("engine-policy-remediation.json")
    assert report.counts == {"create": 1}
    assert report.changes[0].name == "resA"
    assert report.result == "succeeded"


def test_json_form() -> None:
    data = json.loads(render_json(report_for("aws-eks-update-detaileddiff.json")))
    (update,) = [r for r in data["resources"] if r["op"] == "update"]
    assert update["type"] == "aws:ec2/securityGroup:SecurityGroup"
    assert "ingress[1].cidrBlocks[0]" in update["paths"]
    assert data["summary"]["hasChanges"] is True
    assert data["result"] == "succeeded"


def test_diagnostics_are_redacted_with_known_secrets() -> None:
    report = report_for("engine-continue-on-error-update.json", secrets=["intentionally failed"])
    assert all("intentionally failed" not in d.text for d in report.diagnostics)
    assert "[secret] update" in report.diagnostics[0].text


def test_progress_lines_for_a_real_update() -> None:
    lines: list[str] = []
    progress = Progress(lines.append)
    for event in load_event_log(events_dir() / "engine-continue-on-error-update.json"):
        progress(event)
    assert "+ creating  pkgA:m:typA  independent1" in lines
    assert "+ created  pkgA:m:typA  independent1" in lines
    assert "x failed  pkgB:m:typB  failing" in lines
    assert "error: intentionally failed update" in lines
    assert not any("<{%" in line for line in lines)


def test_no_progress_lines_for_a_preview() -> None:
    lines: list[str] = []
    progress = Progress(lines.append)
    for event in load_event_log(events_dir() / "aws-webserver-replace.json"):
        progress(event)
    assert lines == []


def test_collector_is_the_on_event_callback() -> None:
    collector = EventCollector()
    for event in load_event_log(events_dir() / "engine-component-delete.json"):
        collector(event)
    assert collector.report().counts == {"delete": 5}


def test_the_warning_about_secureais_own_dynamic_provider_host_is_dropped() -> None:
    from pulumi.automation import DiagnosticEvent, EngineEvent

    from secureai.deploy.events import EventCollector

    def warning(message: str) -> EngineEvent:
        diag = DiagnosticEvent(message=message, color="never", severity="warning")
        return EngineEvent(sequence=1, timestamp=0, diagnostic_event=diag)

    collector = EventCollector()
    own = "/home/u/.secureai/workspaces/p/.secureai-bin/pulumi-resource-pulumi-python"
    collector(warning(f"using pulumi-resource-pulumi-python from $PATH at {own}\n"))
    collector(warning("using pulumi-resource-pulumi-python from $PATH at /opt/other/bin/x\n"))
    assert [d.text for d in collector.report().diagnostics] == [
        "using pulumi-resource-pulumi-python from $PATH at /opt/other/bin/x"
    ]
