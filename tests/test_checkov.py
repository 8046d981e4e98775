"""checkov, an outside scanner, on every rendered example: its probe checks (CKV_K8S_8 liveness,
CKV_K8S_9 readiness) pass for every workload that declares those probes, and its pull policy
check (CKV_K8S_15, "Image Pull Policy should be Always") for every workload that keeps
secureai's default policy.

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
from pathlib import Path
from typing import Any

import pytest

from secureai.model.workloads import Workload
from secureai.pipeline import compile_path
from secureai.render import render_files, write_tree

ROOT = Path(__file__).resolve().parent.parent
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
# Every example: the specs in specs/, and the composed organisation specs/org/ ("org").
SPECS = [*sorted((ROOT / "specs").glob("*.yaml")), ROOT / "specs" / "org" / "secureai.yaml"]
IDS = [p.parent.name if p.parent.name == "org" else p.stem for p in SPECS]
ENV = {"HF_TOKEN": "unused", "REGISTRY_AUTH_JSON": "{}"}
LIVENESS, READINESS, PULL_POLICY = "CKV_K8S_8", "CKV_K8S_9", "CKV_K8S_15"
# checkov's probe checks skip Jobs and CronJobs (they run to completion) and look only at
# `containers`: init containers and native sidecars are not probed by them.
PROBED_KINDS = {"Pod", "Deployment", "StatefulSet"}

pytestmark = pytest.mark.skipif(
    not CHECKOV.exists(), reason="checkov not installed (scripts/setup.sh installs it into .venv-checkov)"
)


def run_checkov(manifests: Path, checks: list[str]) -> dict[str, Any]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(manifests.parent),  # checkov writes its cache below it
        "BC_SKIP_MAPPING": "TRUE",
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE",
        "LOG_LEVEL": "WARNING",
    }
    argv = [
        str(CHECKOV),
        *("-d", str(manifests), "--framework", "kubernetes", "--check", ",".join(checks)),
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
    return report


def results(report: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    """'passed' and 'failed' -> {(check id, resource id)}."""
    out = report["results"]
    return {
        kind: {(r["check_id"], r["resource"]) for r in out[f"{kind}_checks"]} for kind in ("passed", "failed")
    }


def default_pull_policy(workload: Workload) -> bool:
    containers = [workload, *workload.init_containers.values(), *workload.sidecars.values()]
    return all("image_pull_policy" not in c.model_fields_set for c in containers)


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_example_passes_checkov_probe_and_pull_policy_checks(path: Path, tmp_path: Path) -> None:
    compiled = compile_path(path, ENV).value
    assert compiled is not None
    out = tmp_path / "out"
    write_tree(render_files(compiled.plan), out)
    report = run_checkov(out / "kubernetes", [LIVENESS, READINESS, PULL_POLICY])
    assert report["summary"]["parsing_errors"] == 0

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

    found = results(report)
    if path.stem.startswith("llm-platform"):
        # The LLM platform exercises each check on more than one workload.
        assert {check for check, _ in expected} == {LIVENESS, READINESS, PULL_POLICY}
        assert len(expected) >= 10
    assert expected, "every example renders a workload checkov judges"
    assert not expected & found["failed"], sorted(expected & found["failed"])
    assert expected <= found["passed"], sorted(expected - found["passed"])


def test_checkov_oracle_sees_a_failure(tmp_path: Path) -> None:
    """The oracle is not blind: a Deployment without probes and with IfNotPresent fails all three."""
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "bare.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: bare, namespace: ml }\n"
        "spec:\n  selector: { matchLabels: { app: bare } }\n  template:\n"
        "    metadata: { labels: { app: bare } }\n"
        "    spec:\n      containers:\n"
        "        - { name: bare, image: ghcr.io/acme/bare:1.0.0, imagePullPolicy: IfNotPresent }\n"
    )
    found = results(run_checkov(manifests, [LIVENESS, READINESS, PULL_POLICY]))
    rid = "Deployment.ml.bare"
    assert found == {"passed": set(), "failed": {(LIVENESS, rid), (READINESS, rid), (PULL_POLICY, rid)}}
