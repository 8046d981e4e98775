"""Workloads without a profile where the cluster admits only profiled pods: checked as run.

From 1.28 the profile gate admits, in a namespace that uses profiles, only pods with an allowed
profile; below 1.25 PodSecurityPolicy admits only pods some policy allows. Unprofiled workloads
there run under the implicit `secureai-default` profile, and validate checks them against it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from specutil import messages

SPEC = """\
version: 1
project: demo
kubernetes:
  version: "{version}"
namespaces:
  ml: {{ podSecurity: privileged }}
  other: {{ podSecurity: privileged }}
securityProfiles:
  p: {{ volumes: [hostPath, emptyDir], allowedHostPaths: [{{ pathPrefix: /data }}] }}
workloads:
  profiled:
    namespace: ml
    image: ghcr.io/acme/x:1.0
    runAsUser: 10001
    securityProfile: p
    resources: {{ limits: {{ cpu: "1", memory: 1Gi }} }}
  bare:
    namespace: {namespace}
    image: ghcr.io/acme/x:1.0
    runAsUser: 10001
    resources: {{ limits: {{ cpu: "1", memory: 1Gi }} }}
    volumes:
      data: {{ mountPath: /data, hostPath: /data/sets }}
"""

IMPLICIT = (
    "spec.yaml:23:13: error[SA133]: workload 'bare' mounts a hostPath volume 'data', which its security "
    "profile 'secureai-default' does not allow\n"
    "  hint: workloads without a profile in namespace 'ml' run under the restricted 'secureai-default' "
    "profile, because the cluster admits there only pods with a profile; give the workload a "
    "securityProfile that allows it"
)


@pytest.mark.parametrize("version", ["1.28", "1.30", "1.37", "1.24"])
def test_unprofiled_workload_beside_a_profiled_one_is_checked_against_the_default(
    tmp_path: Path, version: str
) -> None:
    found = [m for m in messages(tmp_path, SPEC.format(version=version, namespace="ml")) if "SA133" in m]
    assert found == [IMPLICIT]


@pytest.mark.parametrize("version", ["1.26", "1.30"])
def test_unprofiled_workload_where_no_profile_is_enforced_is_not(tmp_path: Path, version: str) -> None:
    # 1.26 enforces no profile at all; on 1.30 namespace `other` uses none.
    found = [m for m in messages(tmp_path, SPEC.format(version=version, namespace="other")) if "SA133" in m]
    assert found == []
