"""checkov, an outside scanner, on every example: its full set of Kubernetes checks finds nothing in
the rendered manifests but the findings listed here, each with the example, kind and name it
applies to and the reason it is accepted (README, Development). An accepted finding checkov no
longer reports fails the test too, so the list cannot go stale.

It also passes its probe checks (CKV_K8S_8 liveness, CKV_K8S_9 readiness) for every workload that
declares those probes, and its pull policy check (CKV_K8S_15, "Image Pull Policy should be
Always") for every workload that keeps secureai's default policy: checkov judged the workloads,
it did not skip them.

checkov runs from its own venv (`.venv-checkov`, made by scripts/setup.sh: it pins older
versions of packages we use) and offline: no platform API key, no mapping or guideline download
(`--skip-download`, BC_SKIP_MAPPING), no update check (CKV_SKIP_PACKAGE_UPDATE_CHECK), and, where
the machine lets us (root), in a network namespace of its own, so nothing can leave the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from scanners import Accepted, rendered_manifests, unaccepted

from secureai.model.workloads import Workload
from secureai.pipeline import compile_path

ROOT = Path(__file__).resolve().parent.parent
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
# Every example: the specs in specs/, and the composed organisation specs/org/ ("org").
SPECS = [*sorted((ROOT / "specs").glob("*.yaml")), ROOT / "specs" / "org" / "secureai.yaml"]
IDS = [p.parent.name if p.parent.name == "org" else p.stem for p in SPECS]
ENV = {"HF_TOKEN": "unused", "REGISTRY_AUTH_JSON": "{}"}
LIVENESS, READINESS, PULL_POLICY = "CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_15"
NO_NETWORK_POLICY = "CKV2_K8S_6"
# checkov's probe checks skip Jobs and CronJobs (they run to completion) and look only at
# `containers`: init containers and native sidecars are not probed by them.
PROBED_KINDS = {"Pod", "Deployment", "StatefulSet"}

pytestmark = pytest.mark.skipif(
    not CHECKOV.exists(), reason="checkov not installed (scripts/setup.sh installs it into .venv-checkov)"
)


@dataclass(frozen=True)
class Finding:
    check: str  # CKV_K8S_43
    kind: str
    namespace: str
    name: str


LLM = ("llm-platform", "llm-platform-cilium")
ACCEPTED = [
    Accepted(
        "CKV_K8S_8",
        ("000-training-secret",),
        "Pod",
        "ai-training-pod",
        "a training pod that runs to completion (seed 000 asks for a Pod, not a Job, which "
        "checkov would skip): it serves nothing a liveness probe could ask",
    ),
    Accepted(
        "CKV_K8S_9",
        ("000-training-secret",),
        "Pod",
        "ai-training-pod",
        "a training pod that runs to completion: no Service sends it traffic, so readiness gates nothing",
    ),
    Accepted(
        "CKV_K8S_35",
        ("000-training-secret",),
        "Pod",
        "ai-training-pod",
        "seed 000 asks for the training-data password as the environment variable DB_PASSWORD",
    ),
    Accepted(
        "CKV_K8S_35",
        ("ai-platform",),
        "Deployment",
        "trainer",
        "the whole platform in one spec: seed 000's training-data password, as the environment "
        "variable DB_PASSWORD the seed asks for",
    ),
    Accepted(
        "CKV_K8S_35",
        ("org",),
        "Job",
        "trainer",
        "the Weights & Biases client reads its key from the environment variable WANDB_API_KEY",
    ),
    Accepted(
        "CKV_K8S_35",
        ("org",),
        "StatefulSet",
        "feature-store",
        "redis takes its password as an argument (--requirepass $(REDIS_PASSWORD)), fed by the "
        "variable; a file would be a redis.conf holding the password, which the generated "
        "Secret (one key, the password) does not hold",
    ),
    Accepted(
        "CKV_K8S_38",
        (*LLM, "org"),
        "Deployment",
        "prometheus",
        "Prometheus discovers its scrape targets through the API (its `access` entry: get, list "
        "and watch pods, services and endpoints cluster-wide), so it needs its token; secureai "
        "mounts one only where the service account has API grants",
    ),
    Accepted(
        "CKV_K8S_38",
        ("ai-platform",),
        "CronJob",
        "batch-scorer",
        "its service account ml-workload-sa has API grants (get, list, watch pods; get the "
        "ConfigMap scoring-config), so secureai mounts its token",
    ),
    Accepted(
        "CKV_K8S_11",
        LLM,
        "Deployment",
        "vllm",
        "no CPU limit on a GPU inference server, by design (as trivy's KSV-0011): a CFS quota "
        "throttles the host threads that feed the GPUs; it requests 8 CPUs, its memory is "
        "limited, and the namespace's quota bounds the CPU requested",
    ),
    Accepted(
        "CKV_K8S_11",
        LLM,
        "CronJob",
        "finetune",
        "no CPU limit on a GPU training job, by design (as vllm): it requests 8 CPUs, its memory "
        "is limited, and the namespace's quota bounds the CPU requested",
    ),
]


def run_checkov(manifests: Path, checks: list[str] | None = None) -> dict[str, Any]:
    """checkov's report on the manifests: every check it has, or only `checks`."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(manifests.parent),  # checkov writes its cache below it
        "BC_SKIP_MAPPING": "TRUE",
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE",
        "LOG_LEVEL": "WARNING",
    }
    argv = [
        str(CHECKOV),
        *("-d", str(manifests), "--framework", "kubernetes"),
        *(("--check", ",".join(checks)) if checks else ()),
        *("-o", "json", "--skip-download", "--compact"),
    ]
    if os.geteuid() == 0 and shutil.which("unshare"):
        argv = ["unshare", "--net", *argv]
    done = subprocess.run(
        argv, capture_output=True, text=True, env=env, cwd=manifests.parent, timeout=300, check=False
    )
    # 0: every check passed; 1: some failed. Anything else, or a look-up that tried the network
    # (it would have failed), means checkov did not really run offline.
    assert done.returncode in (0, 1), done.stderr[-2000:]
    assert "Failed to get" not in done.stderr and "prismacloud" not in done.stderr, done.stderr[-2000:]
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["check_type"] == "kubernetes", report.get("check_type")
    return report


def resource_id(resource: str) -> str:
    """`Kind.namespace.name`: graph checks (CKV2_*) append the pod's labels to it."""
    return ".".join(resource.split(".", 3)[:3])


def results(report: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    """'passed' and 'failed' -> {(check id, Kind.namespace.name)}."""
    out = report["results"]
    return {
        kind: {(r["check_id"], resource_id(r["resource"])) for r in out[f"{kind}_checks"]}
        for kind in ("passed", "failed")
    }


def findings(report: dict[str, Any]) -> list[Finding]:
    out = []
    for check, rid in sorted(results(report)["failed"]):
        kind, *rest = rid.split(".", 2)
        namespace, name = rest if len(rest) == 2 else ("", rest[0])  # cluster-scoped: Kind.name
        out.append(Finding(check, kind, namespace, name))
    return out


def pod_labels(doc: dict[str, Any]) -> dict[str, str]:
    """The labels of a Deployment's or StatefulSet's pods."""
    labels: dict[str, str] = doc["spec"]["template"]["metadata"].get("labels", {})
    return labels


def cilium_selected(docs: list[dict[str, Any]], namespace: str, labels: dict[str, str]) -> list[str]:
    """The CiliumNetworkPolicies of the namespace whose endpointSelector selects these labels."""
    out = []
    for doc in docs:
        if doc["kind"] != "CiliumNetworkPolicy" or doc["metadata"]["namespace"] != namespace:
            continue
        selector = doc["spec"]["endpointSelector"]
        assert set(selector) <= {"matchLabels"}, selector  # secureai writes matchLabels only
        if selector.get("matchLabels", {}).items() <= labels.items():
            out.append(doc["metadata"]["name"])
    return out


def rule_for(manifests: Path) -> Callable[[Finding], str | None]:
    """Findings accepted by a rule rather than by name; the reason, or None."""
    docs = [yaml.safe_load(p.read_text()) for p in sorted(manifests.iterdir())]
    workloads = {(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]): d for d in docs}

    def reason(f: Finding) -> str | None:
        if f.check == NO_NETWORK_POLICY:
            # checkov builds a Pod from each Deployment's and StatefulSet's template.
            owners = [
                d
                for (kind, ns, name), d in workloads.items()
                if kind in ("Deployment", "StatefulSet") and (ns, name) == (f.namespace, f.name)
            ]
            if f.kind == "Pod" and len(owners) == 1:
                policies = cilium_selected(docs, f.namespace, pod_labels(owners[0]))
                if "default-deny" in policies:
                    return (
                        "checkov does not read CiliumNetworkPolicies: the pod is selected by "
                        f"{', '.join(policies)}"
                    )
        return None

    return reason


def default_pull_policy(workload: Workload) -> bool:
    containers = [workload, *workload.init_containers.values(), *workload.sidecars.values()]
    return all("image_pull_policy" not in c.model_fields_set for c in containers)


def scan(
    path: Path, example: str, tmp_path: Path, edit: Callable[[Path], None] | None = None
) -> tuple[list[Finding], dict[str, set[tuple[str, str]]]]:
    """The example's findings that nothing accepts, and checkov's results; checks every accepted
    entry is still used."""
    _, manifests = rendered_manifests(path, ENV, tmp_path, edit)
    report = run_checkov(manifests)
    assert report["summary"]["parsing_errors"] == 0
    found = findings(report)
    rule = rule_for(manifests)
    left = unaccepted("checkov", example, found, ACCEPTED, rule, stale_too=edit is None)
    return left, results(report)


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_checkov_finds_nothing_but_the_accepted(path: Path, tmp_path: Path) -> None:
    example = path.parent.name if path.parent.name == "org" else path.stem
    left, found = scan(path, example, tmp_path)
    assert not left, "\n".join(f"{f.check} {f.kind} {f.namespace}/{f.name}" for f in left)

    # checkov judged every workload: the probe and pull policy checks pass where they should.
    compiled = compile_path(path, ENV).value
    assert compiled is not None
    resource_ids: dict[str, str] = {}
    for resource in compiled.plan.resources:
        props = resource.properties
        if resource.source[:1] == ("workloads",) and props.get("kind") in {*PROBED_KINDS, "Job", "CronJob"}:
            meta = props["metadata"]
            resource_ids[str(resource.source[1])] = f"{props['kind']}.{meta['namespace']}.{meta['name']}"
    expected: set[tuple[str, str]] = set()
    for name, w in compiled.spec.workloads.items():
        if w.external:
            continue  # an operator's pods: nothing rendered, nothing to scan
        rid = resource_ids[name]
        probed = rid.split(".")[0] in PROBED_KINDS
        if probed and w.liveness_probe is not None:
            expected.add((LIVENESS, rid))
        if probed and w.readiness_probe is not None:
            expected.add((READINESS, rid))
        if default_pull_policy(w):
            expected.add((PULL_POLICY, rid))
    if example.startswith("llm-platform"):
        # The LLM platform exercises each check on more than one workload.
        assert {check for check, _ in expected} == {LIVENESS, READINESS, PULL_POLICY}
        assert len(expected) >= 10
    assert expected, "every example renders a workload checkov judges"
    assert expected <= found["passed"], sorted(expected - found["passed"])


def test_checkov_sees_an_insecure_workload(tmp_path: Path) -> None:
    """The scan is not blind: the org's inference Deployment without its probes, on a tag instead
    of a digest, pulled IfNotPresent, privileged and without its Hub token file is reported on each
    count, and nothing accepts those findings."""

    def break_inference(manifests: Path) -> None:
        path = manifests / "070-deployment-serving-inference.yaml"
        doc = yaml.safe_load(path.read_text())
        container = doc["spec"]["template"]["spec"]["containers"][0]
        del container["livenessProbe"], container["readinessProbe"]
        container["image"] = container["image"].split("@")[0]
        container["imagePullPolicy"] = "IfNotPresent"
        container["securityContext"]["privileged"] = True
        path.write_text(yaml.safe_dump(doc))

    left, _ = scan(ROOT / "specs" / "org" / "secureai.yaml", "org", tmp_path, break_inference)
    assert {(f.kind, f.name) for f in left} == {("Deployment", "inference")}
    checks = {f.check for f in left}
    # probes, pull policy, digest (CKV_K8S_43), privileged (CKV_K8S_16).
    assert {LIVENESS, READINESS, PULL_POLICY, "CKV_K8S_43", "CKV_K8S_16"} <= checks, sorted(checks)


def test_a_pod_no_cilium_policy_selects_is_not_accepted(tmp_path: Path) -> None:
    """The CKV2_K8S_6 rule reads the CiliumNetworkPolicies: without the namespace's default deny,
    nothing accepts checkov's finding."""
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": "ml"},
        "spec": {"template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": []}}},
    }
    (manifests / "app.yaml").write_text(yaml.safe_dump(deployment))
    finding = Finding(NO_NETWORK_POLICY, "Pod", "ml", "app")
    assert rule_for(manifests)(finding) is None
    policy = {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": "ml"},
        "spec": {"endpointSelector": {"matchLabels": {"app": "y"}}},
    }
    (manifests / "policy.yaml").write_text(yaml.safe_dump(policy))
    assert rule_for(manifests)(finding) is None  # selects other pods
    policy["spec"]["endpointSelector"] = {}
    (manifests / "policy.yaml").write_text(yaml.safe_dump(policy))
    assert rule_for(manifests)(finding) is not None
