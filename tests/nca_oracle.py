"""IBM's network-config-analyzer as an outside oracle for secureai's network posture.

nca runs from its own venv (`.venv-nca`, made by scripts/setup.sh: its pinned dependencies
would clash with ours). It reads the rendered manifests, a pod list made from the rendered
workloads (one pod per workload, labels and container ports of its template) and the
namespaces with the labels the cluster adds: `kubernetes.io/metadata.name` and, for Calico
policies, `projectcalico.org/name`. Its pod-to-pod answer is parsed into PortSets.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from secureai.posture.inventory import CALICO_NAME, NAMESPACE_NAME, pod_template
from secureai.posture.ports import MAX_PORT, PROTOCOLS, PortSet

ROOT = Path(__file__).resolve().parent.parent
NCA = ROOT / ".venv-nca" / "bin" / "nca"
_LINE = re.compile(r"^(\S+)/(\S+)\[Pod\] => (\S+)/(\S+)\[Pod\] : (.+)$")


def pods_and_namespaces(
    rendered: Path, others: Sequence[Mapping[str, Any]] = ()
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pods and namespaces of the rendered manifests, and `others`: pods a chart or an
    operator creates (`managedBy`), which the cluster runs though nothing renders them."""
    pods: list[dict[str, Any]] = []
    namespaces: list[dict[str, Any]] = []
    files = sorted((rendered / "kubernetes").glob("*.yaml"))
    for m in [*(yaml.safe_load(path.read_text()) for path in files), *others]:
        meta = m.get("metadata", {})
        if m.get("kind") == "Namespace":
            name = meta["name"]
            labels = {**meta.get("labels", {}), NAMESPACE_NAME: name, CALICO_NAME: name}
            namespaces.append(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}
            )
            continue
        template = pod_template(m)
        if template is None:
            continue
        labels, spec = template
        index = len(pods) + 1
        containers = [
            {"name": c["name"], "image": c["image"], "ports": c.get("ports", [])}
            for c in [*spec.get("initContainers", []), *spec.get("containers", [])]
        ]
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": dict(labels)},
                "spec": {"containers": containers},
                "status": {"podIP": f"10.200.{index // 250}.{index % 250 + 1}"},
            }
        )
    return (
        {"apiVersion": "v1", "kind": "PodList", "items": pods},
        {"apiVersion": "v1", "kind": "NamespaceList", "items": namespaces},
    )


def parse_connection(text: str) -> PortSet:
    text = text.strip()
    if text == "All connections":
        return PortSet.all()
    if text == "No connections":
        return PortSet.none()
    out = PortSet.none()
    for part in re.findall(r"\{([^}]*)\}", text):
        m = re.fullmatch(
            r"protocols:(?P<protos>[A-Z, ]+?)(?:,dst_ports:(?P<ports>[0-9,\- ]+))?", part.strip()
        )
        assert m is not None, f"nca connection not understood: {text!r}"
        protos = [p.strip() for p in m["protos"].split(",") if p.strip()]
        assert set(protos) <= set(PROTOCOLS), f"protocol outside TCP/UDP/SCTP in {text!r}"
        ranges = []
        for item in (m["ports"] or f"1-{MAX_PORT}").split(","):
            lo, _, hi = item.strip().partition("-")
            ranges += [(p, int(lo), int(hi or lo)) for p in protos]
        out |= PortSet.of(ranges)
    return out


def nca_flows(
    rendered: Path, work: Path, others: Sequence[Mapping[str, Any]] = ()
) -> dict[tuple[str, str], PortSet]:
    """(source workload id, target workload id) -> ports, for every pair of distinct workloads."""
    pods, namespaces = pods_and_namespaces(rendered, others)
    (work / "pods.yaml").write_text(yaml.safe_dump(pods))
    (work / "namespaces.yaml").write_text(yaml.safe_dump(namespaces))
    run = subprocess.run(
        [
            str(NCA),
            "--connectivity",
            str(rendered / "kubernetes"),
            "--pod_list",
            str(work / "pods.yaml"),
            "--ns_list",
            str(work / "namespaces.yaml"),
            "--output_format",
            "txt_no_fw_rules",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(work)},
    )
    assert "Error" not in run.stderr + run.stdout.replace("Warning", ""), run.stdout + run.stderr
    ours = {f"{p['metadata']['namespace']}/{p['metadata']['name']}" for p in pods["items"]}
    flows: dict[tuple[str, str], PortSet] = {}
    for line in run.stdout.splitlines():
        m = _LINE.match(line.strip())
        if not m:
            continue
        source, target = f"{m[1]}/{m[2]}", f"{m[3]}/{m[4]}"
        if source in ours and target in ours and source != target:
            # nca prints one line per protocol group of a pair
            flows[(source, target)] = flows.get((source, target), PortSet.none()) | parse_connection(m[5])
    return flows
