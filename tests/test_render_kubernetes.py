"""Rendered manifests: golden trees per example, schema-valid on every target, written safely.

Goldens live in tests/golden/<spec-stem>/ (the whole render tree). After an intended change,
regenerate them with `SECUREAI_ACCEPT=1 pytest tests/test_render_kubernetes.py` and review the
diff.
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from test_signatures import check_cluster_image_policy

from secureai.compile.build import compile_spec
from secureai.compile.plan import Plan, Resource, SecretValue
from secureai.model.spec import Spec
from secureai.pipeline import compile_path
from secureai.render import MARKER, RenderError, render_files, write_tree
from secureai.render.kubernetes import kubernetes_files, quoting_dumper, stream, to_yaml
from secureai.render.tree import digest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
# Every example: the specs in specs/, and the composed organisation specs/org/ (golden "org").
SPECS = [*sorted((ROOT / "specs").glob("*.yaml")), ROOT / "specs" / "org" / "secureai.yaml"]
IDS = [p.parent.name if p.parent.name == "org" else p.stem for p in SPECS]
NAMES = dict(zip(SPECS, IDS, strict=True))
VERSIONS = ["1.25", "1.28", "1.30", "1.33", "1.37"]
SCHEMA_MIN = 25  # kubernetes-validate has no schemas before 1.25


def compiled(path: Path) -> tuple[Spec, Plan]:
    result = compile_path(path, {})
    assert result.value is not None, [d.text() for d in result.diagnostics]
    return result.value.spec, result.value.plan


def retarget(spec: Spec, version: str) -> Plan:
    moved = spec.model_copy(update={"kubernetes": spec.kubernetes.model_copy(update={"version": version})})
    plan = compile_spec(moved).value
    assert plan is not None
    return plan


# ----------------------------------------------------------------------------- goldens


def _tree(directory: Path) -> dict[str, str]:
    return {
        p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_render_matches_golden(path: Path) -> None:
    _, plan = compiled(path)
    files = render_files(plan)
    golden = GOLDEN / NAMES[path]
    if os.environ.get("SECUREAI_ACCEPT") == "1":
        shutil.rmtree(golden, ignore_errors=True)
        for rel, text in files.items():
            target = golden / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
    expected = _tree(golden)
    assert sorted(files) == sorted(expected), "file set differs (SECUREAI_ACCEPT=1 regenerates goldens)"
    for rel, text in files.items():
        if text != expected[rel]:
            diff = "".join(
                difflib.unified_diff(expected[rel].splitlines(True), text.splitlines(True), rel, rel)
            )
            pytest.fail(f"{rel} differs from its golden:\n{diff}")


def test_every_example_has_a_golden_and_no_golden_is_orphaned() -> None:
    assert sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()) == sorted(IDS)


# ----------------------------------------------------------------------------- schemas


def _targets(spec: Spec) -> list[str]:
    return sorted({spec.kubernetes.version, *VERSIONS}, key=lambda v: int(v.split(".")[1]))


def _check_psp(doc: dict[str, Any]) -> None:
    """policy/v1beta1 has no schema here; check the fields PSP validation requires."""
    spec = doc["spec"]
    assert doc["apiVersion"] == "policy/v1beta1"
    for strategy in ("runAsUser", "seLinux", "supplementalGroups", "fsGroup"):
        assert spec[strategy]["rule"] in ("MustRunAs", "MustRunAsNonRoot", "RunAsAny", "MayRunAs")
    assert isinstance(spec["volumes"], list) and all(isinstance(v, str) for v in spec["volumes"])
    assert not (spec.get("defaultAllowPrivilegeEscalation") and not spec.get("allowPrivilegeEscalation"))
    for host_path in spec.get("allowedHostPaths", []):
        assert set(host_path) <= {"pathPrefix", "readOnly"} and host_path["pathPrefix"].startswith("/")


def _check_calico(doc: dict[str, Any]) -> None:
    """Calico's CRs are not in the Kubernetes schemas: check their structure by hand."""
    assert doc["apiVersion"] == "projectcalico.org/v3" and doc["kind"] == "GlobalNetworkPolicy"
    assert set(doc["metadata"]) <= {"name", "labels"}
    spec = doc["spec"]
    assert set(spec) <= {"order", "namespaceSelector", "selector", "types", "ingress", "egress"}
    assert isinstance(spec["order"], int | float) and set(spec["types"]) <= {"Ingress", "Egress"}
    for rule in [*spec.get("ingress", []), *spec.get("egress", [])]:
        assert rule["action"] in ("Allow", "Deny", "Log", "Pass")
        assert set(rule) <= {"action", "protocol", "source", "destination"}
        for side in ("source", "destination"):
            assert set(rule.get(side, {})) <= {"namespaceSelector", "selector", "nets", "ports"}


CILIUM_RULE = {
    "ingress": {"fromEndpoints", "fromCIDRSet", "fromEntities", "toPorts"},
    "egress": {"toEndpoints", "toCIDRSet", "toEntities", "toFQDNs", "toPorts"},
}


def _check_cilium(doc: dict[str, Any]) -> None:
    """Cilium's CRs are not in the Kubernetes schemas: their structure by hand here (the engine
    tests validate them against Cilium's real CRD)."""
    assert doc["apiVersion"] == "cilium.io/v2"
    assert doc["kind"] in ("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy")
    assert set(doc["metadata"]) <= {"name", "namespace", "labels"}
    assert ("namespace" in doc["metadata"]) == (doc["kind"] == "CiliumNetworkPolicy")
    spec = doc["spec"]
    assert set(spec) <= {"endpointSelector", "ingress", "egress"} and "endpointSelector" in spec
    assert spec.get("ingress", [None]) and spec.get("egress", [None])  # an empty list isolates nothing
    for direction, allowed in CILIUM_RULE.items():
        for rule in spec.get(direction, []):
            assert set(rule) <= allowed
            if "toFQDNs" in rule:
                assert set(rule) <= {"toFQDNs", "toPorts"}  # Cilium: no other to* beside toFQDNs
            for item in rule.get("toPorts", []):
                assert set(item) <= {"ports", "rules"} and 0 < len(item["ports"]) <= 40
                for port in item["ports"]:
                    assert isinstance(port["port"], str) and port["protocol"] in ("TCP", "UDP", "SCTP", "ANY")


def _check_external_secrets(doc: dict[str, Any]) -> None:
    """External Secrets' CRs are not in the Kubernetes schemas: check them against the operator's
    v1 API by hand (SecretStore vault provider, ExternalSecret data and target)."""
    assert doc["apiVersion"] == "external-secrets.io/v1" and doc["kind"] in ("SecretStore", "ExternalSecret")
    assert set(doc["metadata"]) <= {"name", "namespace", "labels"} and set(doc) == {
        "apiVersion",
        "kind",
        "metadata",
        "spec",
    }
    spec = doc["spec"]
    if doc["kind"] == "SecretStore":
        vault = spec["provider"]["vault"]
        assert set(vault) <= {"server", "path", "version", "auth", "caBundle", "namespace"}
        assert vault["version"] in ("v1", "v2")
        kube = vault["auth"]["kubernetes"]
        assert set(kube) <= {"mountPath", "role", "serviceAccountRef", "secretRef"}
        assert set(kube["serviceAccountRef"]) <= {"name", "namespace", "audiences"}
        return
    assert set(spec) <= {"refreshInterval", "secretStoreRef", "target", "data", "dataFrom"}
    assert spec["secretStoreRef"]["kind"] in ("SecretStore", "ClusterSecretStore")
    assert spec["target"]["creationPolicy"] in ("Owner", "Orphan", "Merge", "None")
    for item in spec["data"]:
        assert set(item) == {"secretKey", "remoteRef"} and set(item["remoteRef"]) <= {"key", "property"}


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_manifests_are_schema_valid_on_every_target(path: Path) -> None:
    spec, _ = compiled(path)
    for version in _targets(spec):
        minor = int(version.split(".")[1])
        for rel, text in kubernetes_files(retarget(spec, version)).items():
            doc = yaml.safe_load(text)
            if doc["kind"] == "PodSecurityPolicy":
                assert minor < SCHEMA_MIN
                _check_psp(doc)
            elif doc["apiVersion"].startswith("projectcalico.org/"):
                _check_calico(doc)
            elif doc["apiVersion"].startswith("external-secrets.io/"):
                _check_external_secrets(doc)
            elif doc["apiVersion"].startswith("cilium.io/"):
                _check_cilium(doc)
            elif doc["apiVersion"].startswith("policy.sigstore.dev/"):
                check_cluster_image_policy(doc)
            else:
                # Below 1.25 there is no schema; 1.25 is the closest that has one.
                schema_version = version if minor >= SCHEMA_MIN else "1.25"
                try:
                    kubernetes_validate.validate(doc, schema_version, strict=True)
                except kubernetes_validate.ValidationError as exc:
                    pytest.fail(f"{path.name} @ {version}: {rel}: {exc.message} at {list(exc.path)}")


# ----------------------------------------------------------------------------- render details


def _plan() -> Plan:
    return compiled(ROOT / "specs" / "ai-platform.yaml")[1]


def test_layout_orders_files_for_kubectl_apply() -> None:
    files = list(kubernetes_files(_plan()))
    assert files == sorted(files)
    prefixes = {rel.split("/")[1].split("-")[0] + "-" + rel.split("/")[1].split("-")[1] for rel in files}
    order = [
        p
        for p in (
            "010-namespace",
            "020-validatingadmissionpolicy",
            "030-serviceaccount",
            "040-secret",
            "050-role",
            "060-networkpolicy",
            "070-deployment",
        )
        if p in prefixes
    ]
    assert order == sorted(order) and len(order) == 7


def test_only_kubernetes_in_kubernetes_files_and_vault_merged_by_render_files() -> None:
    plan = _plan()
    assert all(p.startswith(("kubernetes/", "secret-templates/")) for p in kubernetes_files(plan))
    merged = render_files(plan)
    assert set(kubernetes_files(plan)) <= set(merged)
    assert all(p.startswith(("kubernetes/", "secret-templates/", "vault/")) for p in merged)


def test_placeholders_or_revealed_values() -> None:
    plan = _plan()
    hidden = kubernetes_files(plan)["secret-templates/040-secret-ai-data-pipeline-ai-training-secret.yaml"]
    assert yaml.safe_load(hidden)["stringData"] == {
        "api_token": "<secret:generate:ai-data-pipeline/ai-training-secret/api_token>",
        "ca_cert": "<secret:file:files/ca.pem>",
        "db_password": "<secret:env:DB_PASSWORD>",
    }
    seen: list[SecretValue] = []

    def reveal(value: SecretValue) -> str:
        seen.append(value)
        return f"value-of-{value.ref}"

    shown = kubernetes_files(plan, reveal)["kubernetes/040-secret-ai-data-pipeline-ai-training-secret.yaml"]
    assert yaml.safe_load(shown)["stringData"]["db_password"] == "value-of-DB_PASSWORD"
    assert {v.source for v in seen} == {"env", "file", "generate"}


def test_stream_is_every_manifest_in_file_order() -> None:
    plan = _plan()
    docs = list(yaml.safe_load_all(stream(plan)))
    applyable = [t for p, t in kubernetes_files(plan).items() if p.startswith("kubernetes/")]
    assert docs == [yaml.safe_load(t) for t in applyable]


def test_libyaml_output_equals_safe_dump() -> None:
    pure = quoting_dumper(yaml.SafeDumper)
    for path in SPECS:
        _, plan = compiled(path)
        for text in kubernetes_files(plan).values():
            doc = yaml.safe_load(text)
            assert text == yaml.dump(doc, Dumper=pure, sort_keys=True, default_flow_style=False)


def test_to_yaml_writes_what_the_representer_writes() -> None:
    """to_yaml builds PyYAML's nodes itself (render speed); the text is the representer's, also
    for what it hands back to the representer (floats, a container that appears twice)."""
    shared = {"app": "x"}
    documents = [
        {"b": [1, True, None, "", "a b", " lead", "trail ", "ünï", "1e-3", "x\ny\n", "#", "- a"], "a": {}},
        {"nested": {"z": [], "y": [{"k": "v"}, [False]], 10: "int key"}},
        {"ratio": 0.5, "n": -3},
        {"selector": shared, "labels": shared},
        ["top", "level"],
        "scalar",
    ]
    representer = quoting_dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper))  # as render's
    for document in documents:
        expected = yaml.dump(document, Dumper=representer, sort_keys=True, default_flow_style=False)
        assert to_yaml(document) == expected


# What Go YAML (kubectl) and YAML 1.2 readers take for numbers or booleans, though PyYAML would
# write them plain: each must stay a string on the way to the API server.
GO_NUMBERS = ["1e-3", "1e3", "-1e-3", "1.5e3", "1E5", "08", "0o17", "y", "n", "Y", "N"]


@pytest.mark.parametrize("text", GO_NUMBERS)
def test_number_like_strings_are_quoted(text: str) -> None:
    rendered = to_yaml({"value": text})
    assert rendered == f"value: '{text}'\n"
    assert yaml.safe_load(rendered) == {"value": text}


def test_plain_strings_stay_plain() -> None:
    for text in ("1Gi", "500m", "0 3 * * *", "v1.30", "10.0.0.1/32", "trainer", "ALL"):
        assert to_yaml({"value": text}) == f"value: {text}\n"


def test_number_like_args_env_and_labels_render_quoted(tmp_path: Path) -> None:
    text = (
        "version: 1\nproject: demo\nkubernetes: { version: '1.30' }\nnamespaces: { ml: {} }\n"
        "workloads:\n  trainer:\n    namespace: ml\n    image: ghcr.io/acme/train:1.0.0\n"
        "    runAsUser: 10001\n    args: ['--lr', '1e-3']\n    labels: { tier: '08' }\n"
        "    env: { VERBOSE: { value: 'y' } }\n    resources: { limits: { cpu: '1', memory: 1Gi } }\n"
    )
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    _, plan = compiled(tmp_path / "s.yaml")
    rendered = kubernetes_files(plan)["kubernetes/070-deployment-ml-trainer.yaml"]
    assert "- '1e-3'" in rendered and "tier: '08'" in rendered and "value: 'y'" in rendered


def _account(namespace: str, name: str) -> Resource:
    return Resource(
        "kubernetes:core/v1:ServiceAccount",
        f"{namespace}/{name}",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}},
    )


def test_file_names_never_collide() -> None:
    # a/b-c and a-b/c share a stem; a/b-c-2 is the stem the second would naively be given.
    accounts = [_account("a", "b-c"), _account("a-b", "c"), _account("a", "b-c-2")]
    for order in (accounts, accounts[::-1]):
        files = kubernetes_files(Plan("demo", "dev", "1.30", tuple(order)))
        assert len(files) == 3
        names = {
            yaml.safe_load(t)["metadata"]["namespace"] + "/" + yaml.safe_load(t)["metadata"]["name"]
            for t in files.values()
        }
        assert names == {"a/b-c", "a-b/c", "a/b-c-2"}


def test_render_is_deterministic() -> None:
    assert render_files(_plan()) == render_files(_plan())


# ----------------------------------------------------------------------------- write_tree


def test_write_tree_writes_marker_and_removes_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    written = write_tree({"kubernetes/a.yaml": "a: 1\n", "vault/p/x.hcl": "x\n"}, out)
    assert written == [out / "kubernetes/a.yaml", out / "vault/p/x.hcl"]
    entries = [line for line in (out / MARKER).read_text().splitlines() if not line.startswith("#")]
    assert entries == [digest("a: 1\n") + "  kubernetes/a.yaml", digest("x\n") + "  vault/p/x.hcl"]
    write_tree({"kubernetes/b.yaml": "b: 1\n"}, out)
    assert not (out / "kubernetes/a.yaml").exists() and not (out / "vault").exists()
    assert (out / "kubernetes/b.yaml").read_text() == "b: 1\n"


def test_write_tree_refuses_foreign_directories(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(RenderError, match="not empty and was not written by secureai render"):
        write_tree({"kubernetes/a.yaml": "a\n"}, tmp_path)
    write_tree({"kubernetes/a.yaml": "a\n"}, tmp_path, force=True)
    write_tree({"kubernetes/b.yaml": "b\n"}, tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"  # never ours, never deleted
    assert not (tmp_path / "kubernetes/a.yaml").exists()


def test_write_tree_rejects_bad_paths_and_files(tmp_path: Path) -> None:
    for bad in ("/etc/passwd", "../x", "kubernetes/../../x", MARKER):
        with pytest.raises(RenderError):
            write_tree({bad: "x"}, tmp_path / "o")
    (tmp_path / "file").write_text("x")
    with pytest.raises(RenderError, match="not a directory"):
        write_tree({"kubernetes/a": "x"}, tmp_path / "file")
    with pytest.raises(RenderError, match="not a plain relative path"):
        write_tree({"elsewhere/a": "x"}, tmp_path / "o")


def test_tampered_marker_cannot_delete_outside(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree({"kubernetes/a.yaml": "a\n"}, out)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    keep, a = digest("keep"), digest("a\n")
    (out / MARKER).write_text(f"{keep}  ../victim.txt\n{keep}  /etc/hosts\n{a}  kubernetes/a.yaml\n")
    write_tree({"kubernetes/b.yaml": "b\n"}, out)
    assert victim.read_text() == "keep" and not (out / "kubernetes/a.yaml").exists()


def test_private_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree({"kubernetes/s.yaml": "s\n"}, out, private=True)
    assert (out / "kubernetes/s.yaml").stat().st_mode & 0o777 == 0o600
    assert (out / "kubernetes").stat().st_mode & 0o777 == 0o700


def test_write_tree_never_writes_through_symlinks(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_tree({"kubernetes/a.yaml": "a\n"}, out)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (out / "kubernetes/a.yaml").unlink()
    (out / "kubernetes/a.yaml").symlink_to(victim)
    with pytest.raises(RenderError, match="symbolic link"):
        write_tree({"kubernetes/a.yaml": "secret: x\n"}, out, private=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "kubernetes/a.yaml").unlink()
    (out / "kubernetes").rmdir()
    (out / "kubernetes").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(RenderError, match="symbolic link"):
        write_tree({"kubernetes/b.yaml": "b\n"}, out)
    assert victim.read_text() == "keep" and list(elsewhere.iterdir()) == []
