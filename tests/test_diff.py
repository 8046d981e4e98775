"""`secureai diff`: posture changes between specs (files or git revisions), formats, --fail-on."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from specutil import write_spec
from typer.testing import CliRunner

from secureai.cli import app

runner = CliRunner()

OLD = """\
version: 1
project: demo
kubernetes: { version: "1.30" }
namespaces:
  ml: {}
secrets:
  db: { namespace: ml, data: { password: { generate: {} } } }
workloads:
  trainer:
    namespace: ml
    image: ghcr.io/acme/train:1.0.0
    runAsUser: 10001
    labels: { role: train }
    env: { DB_PASSWORD: { secret: db, key: password } }
  store:
    namespace: ml
    image: ghcr.io/acme/store:1.0.0
    runAsUser: 10001
    labels: { role: store }
    ports: [5432]
network:
  train-to-store:
    namespace: ml
    from: [{ pods: { role: train } }]
    to: [{ pods: { role: store } }]
    ports: [5432]
"""
NEW = (
    OLD.replace("    ports: [5432]\n", "    ports: [5432, 8080]\n").replace(
        "    labels: { role: store }\n", "    labels: { role: store }\n    serviceAccount: reader\n"
    )
    + """\
  store-out:
    namespace: ml
    from: [{ pods: { role: store } }]
    to: [{ cidr: 10.0.0.0/8 }]
access:
  reader:
    namespace: ml
    can: [{ verbs: [get], resources: [secrets], names: [db] }]
"""
)


def run(*args: str):
    return runner.invoke(app, list(args))


def sides(tmp_path: Path) -> tuple[str, str]:
    return str(write_spec(tmp_path, OLD, "old.yaml")), str(write_spec(tmp_path, NEW, "new.yaml"))


def test_text_lists_every_widening(tmp_path: Path) -> None:
    old, new = sides(tmp_path)
    result = run("diff", old, new)
    assert result.exit_code == 0
    # Each widening names the line of the new spec it comes from: the grant, the rule, the workload.
    assert result.output.replace(str(tmp_path) + "/", "").splitlines()[1:] == [
        "+ new-reader    ml/db/password: ml/store by rbac (RBAC read of db in namespace ml), granted by Role reader via RoleBinding ml/reader  (new.yaml:33)",
        "+ widened-flow  ml/trainer -> ml/store: now also on TCP/8080, allowed by NetworkPolicy ml/train-to-store-egress, NetworkPolicy ml/train-to-store-ingress  (new.yaml:23)",
        "+ new-outside   ml/store: to 10.0.0.0/8 on all, allowed by NetworkPolicy ml/store-out-egress  (new.yaml:28)",
        "+ new-token     ml/store: now mounts the API token of ml/reader  (new.yaml:15)",
    ]
    back = run("diff", new, old)
    assert back.output.replace(str(tmp_path) + "/", "").splitlines()[1:] == [
        "- removed-reader     ml/db/password: ml/store by rbac (RBAC read of db in namespace ml), granted by Role reader via RoleBinding ml/reader",
        "- narrowed-flow      ml/trainer -> ml/store: no longer on TCP/8080",
        "- removed-outside    ml/store: to 10.0.0.0/8 on all",
        "- removed-privilege  ml/store: no longer mounts an API token  (old.yaml:15)",
    ]


def test_fail_on_exits_1_only_for_the_named_kinds(tmp_path: Path) -> None:
    old, new = sides(tmp_path)
    assert run("diff", old, new, "--fail-on", "new-flow").exit_code == 0
    assert run("diff", old, new, "--fail-on", "new-flow,new-reader").exit_code == 1
    assert run("diff", old, new, "--fail-on", "any").exit_code == 1
    assert run("diff", new, old, "--fail-on", "any").exit_code == 0
    bad = run("diff", old, new, "--fail-on", "new-thing")
    assert bad.exit_code == 2
    assert "unknown --fail-on kind 'new-thing'" in bad.output


def test_markdown_json_and_sarif(tmp_path: Path) -> None:
    old, new = sides(tmp_path)
    md = run("diff", old, new, "--format", "markdown").output
    assert md.startswith("### secureai: posture change\n\n**4 change(s) widen the posture**, 0 narrow it.")
    assert "| widens | new reader of a secret | `ml/db/password` |" in md
    assert md.splitlines()[4] == "| | change | what | detail | spec |"
    doc = json.loads(run("diff", old, new, "--format", "json").output)
    assert [c["kind"] for c in doc["changes"]] == ["new-reader", "widened-flow", "new-outside", "new-token"]
    sarif = json.loads(run("diff", old, new, "--format", "sarif", "--fail-on", "new-reader").stdout)
    results = sarif["runs"][0]["results"]
    assert [
        (r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in results
    ] == [
        ("SA420", "error", 33),
        ("SA421", "warning", 23),
        ("SA422", "warning", 28),
        ("SA423", "warning", 15),
    ]


def test_against_a_git_revision(tmp_path: Path) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-C", str(tmp_path)]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "specs").mkdir()
    spec = write_spec(tmp_path / "specs", OLD, "s.yaml")
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "old"], check=True)
    spec.write_text(NEW)
    result = run("diff", f"{spec}@HEAD", str(spec), "--fail-on", "new-reader")
    assert result.exit_code == 1
    assert "+ new-reader    ml/db/password: ml/store" in result.output
    assert run("diff", f"{spec}@HEAD", f"{spec}@HEAD").output.startswith(
        f"posture change {spec}@HEAD -> {spec}@HEAD: 0 widening, 0 narrowing"
    )
    missing = run("diff", f"{spec}@no-such-rev", str(spec))
    assert missing.exit_code == 2
    assert f"cannot read {spec} at git revision 'no-such-rev'" in missing.output


def test_a_side_that_does_not_compile(tmp_path: Path) -> None:
    old, _ = sides(tmp_path)
    broken = write_spec(tmp_path, OLD.replace("image:", "imagee:", 1), "broken.yaml")
    result = run("diff", old, str(broken))
    assert result.exit_code == 1
    assert "does not compile" in result.output
    assert "error[SA101]" in result.output


def _plan(pod: dict, container: dict, service_type: str | None):
    from secureai.compile.plan import Plan, Resource

    manifests = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "ml"},
            "spec": {
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {**pod, "containers": [container]},
                }
            },
        }
    ]
    if service_type:
        spec = {"type": service_type, "selector": {"app": "web"}, "ports": [{"port": 80, "nodePort": 30080}]}
        manifests.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web", "namespace": "ml"},
                "spec": spec,
            }
        )
    resources = tuple(
        Resource(f"kubernetes:x:{m['kind']}", m["metadata"]["name"], m, source=("workloads", "web"))
        for m in manifests
    )
    return Plan("demo", "dev", "1.30", resources)


def test_privileges_protections_and_exposure() -> None:
    from secureai.posture import compute_posture
    from secureai.posture.diff import diff_postures

    locked = {
        "name": "web",
        "image": "x",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    opened = {
        "name": "web",
        "image": "x",
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": False,
            "capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN"]},
        },
    }
    pod = {"automountServiceAccountToken": False}
    old = compute_posture(_plan(pod, locked, None))
    new = compute_posture(_plan({**pod, "hostNetwork": True}, opened, "NodePort"))
    assert [(c.kind, c.subject, c.detail, c.origin) for c in diff_postures(old, new)] == [
        ("new-exposure", "ml/web", "Service ml/web (NodePort) on TCP/80 (node 30080)", ("workloads", "web")),
        ("new-privilege", "ml/web", "new capability: NET_ADMIN", ("workloads", "web")),
        ("new-privilege", "ml/web", "new host access: hostNetwork", ("workloads", "web")),
        ("removed-protection", "ml/web", "root filesystem no longer read-only", ("workloads", "web")),
        ("removed-protection", "ml/web", "user uid 10001 -> image user (may be root)", ("workloads", "web")),
    ]
