"""Wrong types, bad names and YAML 1.1 habits: one clear, positioned message each."""

from __future__ import annotations

from pathlib import Path

import pytest
from specutil import BASE, WORKLOAD, messages

FULL = BASE + WORKLOAD

CASES = [
    (
        "string for a mapping",
        BASE.replace("  ml: {}", "  ml: restricted"),
        "spec.yaml:6:7: error[SA100]: namespaces.ml: expected a mapping, got a string",
    ),
    (
        "list for a mapping",
        FULL.replace("image:", "labels: [a, b]\n    image:"),
        "spec.yaml:10:13: error[SA100]: workloads.trainer.labels: expected a mapping, got a list",
    ),
    (
        "text for a number",
        FULL + "    replicas: three\n",
        "spec.yaml:13:15: error[SA100]: workloads.trainer.replicas: expected a whole number, got a string",
    ),
    (
        "yes for a boolean",
        FULL + "securityProfiles:\n  p: { privileged: yes }\n",
        "spec.yaml:14:20: error[SA100]: securityProfiles.p.privileged: expected true or false, got a string",
    ),
    (
        "negative number",
        FULL.replace("runAsUser: 10001", "runAsUser: -1"),
        "spec.yaml:11:16: error[SA100]: workloads.trainer.runAsUser: must be at least 0",
    ),
    (
        "uppercase name",
        FULL.replace("  trainer:", "  Trainer:"),
        "spec.yaml:8:3: error[SA100]: workloads.Trainer: 'Trainer' is not a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit (RFC 1123 label)",
    ),
    (
        "name too long",
        BASE.replace("  ml: {}", "  " + "a" * 64 + ": {}"),
        "spec.yaml:6:3: error[SA100]: namespaces."
        + "a" * 64
        + ": '"
        + "a" * 64
        + "' is too long for a valid name: use lowercase letters, digits and '-', starting and ending with a letter or digit (RFC 1123 label) (at most 63 characters)",
    ),
    (
        "bad label value",
        FULL.replace("image:", "labels: { tier: -bad- }\n    image:"),
        "spec.yaml:10:21: error[SA100]: workloads.trainer.labels.tier: '-bad-' is not a valid label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    ),
    (
        "bad label key",
        FULL.replace("image:", "labels: { 'a b': x }\n    image:"),
        "spec.yaml:10:15: error[SA100]: workloads.trainer.labels.a b: 'a b' is not a valid label key: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
    ),
    (
        "bad CIDR",
        FULL + "network:\n  r: { namespace: ml, from: [{ cidr: 10.0.0.1/8 }], to: [{ namespace: ml }] }\n",
        "spec.yaml:14:38: error[SA100]: network.r.from[0].cidr: '10.0.0.1/8' is not a valid CIDR: 10.0.0.1/8 has host bits set",
    ),
    ("unquoted version is text", BASE.replace('"1.30"', "1.30"), None),
    (
        "bad quantity",
        FULL.replace('cpu: "1"', "cpu: lots"),
        "spec.yaml:12:33: error[SA100]: workloads.trainer.resources.limits.cpu: 'lots' is not a valid Kubernetes quantity such as 500m, 2, 512Mi or 4Gi",
    ),
    (
        "list as a Vault value",
        BASE + "vault: {}\nvaultSecrets:\n  a/b:\n    data: { x: [1, 2] }\n",
        "spec.yaml:10:16: error[SA100]: vaultSecrets.a/b.data.x: a Vault value is a string, number or boolean, or a mapping with one of fromEnv, fromFile, generate, fromVault, literal; got a list",
    ),
    (
        "wrong spec version",
        BASE.replace("version: 1\n", "version: 2\n"),
        "spec.yaml:1:10: error[SA100]: version: '2' is not one of '1'",
    ),
]


@pytest.mark.parametrize(("case", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_value(tmp_path: Path, case: str, text: str, expected: str | None) -> None:
    found = [m.split("\n")[0] for m in messages(tmp_path, text)]
    if expected is None:
        assert not [m for m in found if "error" in m], found
    else:
        assert expected in found, found
        assert len([m for m in found if m.startswith(expected.split(": ")[0] + ":")]) == 1, (
            "one message per problem"
        )
