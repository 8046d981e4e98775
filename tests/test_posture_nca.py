"""secureai's pod-to-pod answer equals network-config-analyzer's, on every example and on specs
built to exercise what policies can say (open namespaces, label-chosen namespaces, CIDR peers,
named and numbered ports, several rules into one pod, Calico on and off)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from nca_oracle import NCA, nca_flows
from specutil import write_spec

from secureai.pipeline import compile_path
from secureai.posture import compute_posture
from secureai.posture.ports import PortSet
from secureai.render import render_files, write_tree

ROOT = Path(__file__).resolve().parent.parent
# nca reads NetworkPolicies (and Calico's); the cilium backend renders CiliumNetworkPolicies
# instead, whose answer tests/test_cilium_oracle.py checks against an evaluator of Cilium's rules.
EXAMPLES = [
    p
    for p in [*sorted((ROOT / "specs").glob("*.yaml")), ROOT / "specs" / "org" / "secureai.yaml"]
    if yaml.safe_load(p.read_text())["kubernetes"].get("networkPlugin") != "cilium"
]
ENV = {"DB_PASSWORD": "unused"}

pytestmark = pytest.mark.skipif(
    not NCA.exists(), reason="nca not installed (scripts/setup.sh installs it into .venv-nca)"
)

MIXED = """\
version: 1
project: mixed
kubernetes:
  version: "1.30"
  networkPlugin: {plugin}
  apiServer: {{ cidrs: [172.18.0.2/32], port: 6443 }}
namespaces:
  front: {{ network: default-deny, labels: {{ tier: edge }} }}
  back: {{ network: default-deny }}
  lab: {{ network: open }}
workloads:
  web:
    namespace: front
    image: ghcr.io/acme/web:1.0.0
    labels: {{ role: web }}
    ports: [http:8080/TCP, 9090]
    runAsUser: 10001
  api:
    namespace: back
    image: ghcr.io/acme/api:1.0.0
    labels: {{ role: api }}
    ports: [http:8000/TCP, grpc:50051/TCP, 53/UDP]
    runAsUser: 10001
  db:
    namespace: back
    image: ghcr.io/acme/db:1.0.0
    labels: {{ role: db }}
    ports: [postgres:5432/TCP]
    runAsUser: 10001
  notebook:
    namespace: lab
    image: ghcr.io/acme/nb:1.0.0
    ports: [8888]
    runAsUser: 10001
network:
  web-to-api:
    namespace: front
    from: [{{ pods: {{ role: web }} }}]
    to: [{{ pods: {{ role: api }}, namespace: back }}]
    ports: [http:8000/TCP, grpc:50051/TCP]
  api-to-db:
    namespace: back
    from: [{{ pods: {{ role: api }} }}]
    to: [{{ pods: {{ role: db }} }}]
    ports: [postgres:5432/TCP]
  edge-to-api-dns:
    namespace: back
    from: [{{ namespaceLabels: {{ tier: edge }} }}]
    to: [{{ pods: {{ role: api }} }}]
    ports: [53/UDP]
  lab-to-db:
    namespace: back
    from: [{{ namespace: lab }}]
    to: [{{ pods: {{ role: db }} }}, {{ cidr: 10.0.0.0/8, except: [10.1.0.0/16] }}]
  api-out:
    namespace: back
    from: [{{ pods: {{ role: api }} }}]
    to: [{{ apiServer: true }}, {{ cidr: 0.0.0.0/0 }}]
    ports: [443]
"""


def ours(path: Path) -> dict[tuple[str, str], PortSet]:
    compiled = compile_path(path, ENV)
    assert compiled.value is not None, [d.text() for d in compiled.diagnostics]
    return {(f.source, f.target): f.ports for f in compute_posture(compiled.value.plan).network.flows}


def theirs(path: Path, tmp_path: Path) -> dict[tuple[str, str], PortSet]:
    compiled = compile_path(path, ENV)
    assert compiled.value is not None
    out = tmp_path / "out"
    write_tree(render_files(compiled.value.plan), out)
    return nca_flows(out, tmp_path, [r.properties for r in compiled.value.plan.unmanaged_pods])


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.stem)
def test_examples_agree_with_nca(spec: Path, tmp_path: Path) -> None:
    assert ours(spec) == theirs(spec, tmp_path)


@pytest.mark.parametrize("plugin", ["kubernetes", "calico"])
def test_mixed_policies_agree_with_nca(plugin: str, tmp_path: Path) -> None:
    spec = write_spec(tmp_path, MIXED.format(plugin=plugin))
    mine = ours(spec)
    assert mine == theirs(spec, tmp_path)
    # The comparison is not vacuous: named ports resolved, open namespaces reach out and in.
    assert mine[("front/web", "back/api")] == PortSet.of(
        [("TCP", 8000, 8000), ("TCP", 50051, 50051), ("UDP", 53, 53)]
    )
    assert mine[("back/api", "back/db")] == PortSet.of([("TCP", 5432, 5432)])
    assert mine[("lab/notebook", "back/db")] == PortSet.all()
    assert ("front/web", "back/db") not in mine
