"""SA166: an API token in a default-deny namespace is useless without a flow to the API server."""

from __future__ import annotations

from pathlib import Path

import pytest
from specutil import BASE, WORKLOAD, messages

GRANTS = "    serviceAccount: reader\naccess:\n  reader:\n    namespace: ml\n    can:\n      - { verbs: [get], resources: [pods] }\n"


def _spec(network: str, namespace: str = "ml: {}") -> str:
    text = (BASE + WORKLOAD).replace("  ml: {}", f"  {namespace}") + GRANTS
    return (
        text.replace('version: "1.30"', 'version: "1.30"\n  apiServer: { cidrs: [172.18.0.2/32] }') + network
    )


@pytest.mark.parametrize(
    ("network", "warned"),
    [
        ("", True),
        (
            "network:\n  api:\n    namespace: ml\n    from: [{ pods: { app.kubernetes.io/name: trainer } }]\n    to: [{ apiServer: true }]\n",
            False,
        ),
        ("network:\n  api:\n    from: [{ namespace: ml }]\n    to: [{ apiServer: true }]\n", False),
        (
            "network:\n  api:\n    namespace: ml\n    from: [{ pods: { app.kubernetes.io/name: other } }]\n    to: [{ apiServer: true }]\n",
            True,
        ),
        (
            "network:\n  web:\n    namespace: ml\n    from: [{ pods: { app.kubernetes.io/name: trainer } }]\n    to: [{ cidr: 10.0.0.0/8 }]\n",
            True,
        ),
    ],
)
def test_api_flow_needed(tmp_path: Path, network: str, warned: bool) -> None:
    found = [m for m in messages(tmp_path, _spec(network)) if "SA166" in m]
    assert bool(found) is warned, found


def test_open_namespace_needs_no_flow(tmp_path: Path) -> None:
    assert not [m for m in messages(tmp_path, _spec("", "ml: { network: open }")) if "SA166" in m]
