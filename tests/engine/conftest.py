"""Engine fixtures: one real control plane per test session, and OpenBao logging in through it.

Without the toolchain the engine tests skip with the exact reason; in CI (`CI=true` or
`SECUREAI_REQUIRE_ENGINE=1`, which `.ci/run` sets) the same reason is a failure, so a missing
binary can never pass as a skipped proof. A failing engine test gets the tail of every
control-plane log attached to its report.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from vault_server import BaoServer, bao_fixture, vault_fixture  # noqa: F401  (fixtures)

from .harness import ControlPlane, HarnessError
from .kubeapi import KubeClient
from .operator_apis import serve_calico_v1_crds, serve_real_crds
from .pulumi_engine import pulumi_engine
from .toolchain import (
    OperatorCrds,
    calico_crds,
    cilium_crds,
    engine_required,
    external_secrets_crds,
    kube_toolchain,
    policy_controller_crds,
)
from .vault_auth import KubeAuth, configure_kubernetes_auth

_running: list[ControlPlane] = []


def need(reason: str | None) -> None:
    """Skip with `reason` locally; fail with it where the engine is required (CI)."""
    if reason is None:
        return
    if engine_required():
        pytest.fail(
            f"{reason} (engine tests are required here: CI=true or SECUREAI_REQUIRE_ENGINE=1)", pytrace=False
        )
    pytest.skip(reason)


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    need(kube_toolchain().missing_reason())
    # Under pytest's basetemp, which keeps the last runs: logs survive a failed session.
    plane = ControlPlane(workdir=tmp_path_factory.mktemp("kube"))
    try:
        plane.start()
    except HarnessError as failed:
        pytest.fail(str(failed), pytrace=False)
    _running.append(plane)
    try:
        yield plane
    finally:
        _running.remove(plane)
        plane.stop()


@pytest.fixture
def kube(control_plane: ControlPlane) -> KubeClient:
    return control_plane.client()


@pytest.fixture(scope="session")
def operator_apis(control_plane: ControlPlane) -> OperatorCrds:
    """The External Secrets Operator's and Cilium's real CRDs, installed for the rest of the session."""
    need(
        external_secrets_crds().missing_reason()
        or cilium_crds().missing_reason()
        or policy_controller_crds().missing_reason()
    )
    return serve_real_crds(control_plane.client())


@pytest.fixture(scope="session")
def calico_v1_crds(control_plane: ControlPlane) -> OperatorCrds:
    """Calico's crd.projectcalico.org/v1 GlobalNetworkPolicy CRD, installed for the rest of the session."""
    need(calico_crds().missing_reason())
    return serve_calico_v1_crds(control_plane.client())


@pytest.fixture
def kube_auth(control_plane: ControlPlane, bao: BaoServer, vault: Any) -> KubeAuth:
    """OpenBao's kubernetes auth method at `kubernetes/`, reviewing tokens with this API server."""
    return configure_kubernetes_auth(vault, control_plane, "kubernetes")


@pytest.fixture(scope="session")
def pulumi_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PULUMI_HOME holding the built provider plugins (and nothing downloaded)."""
    engine = pulumi_engine()
    need(engine.missing_reason())
    home = tmp_path_factory.mktemp("pulumi-home")
    engine.prepare(home)
    return home


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed and _running:
        for plane in _running:
            dead = plane.dead()
            title = "control plane logs" + (f" (exited: {', '.join(dead)})" if dead else "")
            report.sections.append((title, plane.report(lines=25)))
    return report
