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
    (
        # The API server refuses it (found by tests/engine on a real kube-apiserver).
        "downward API of a GPU limit",
        FULL.replace(
            "image:", "env: { G: { resourceFieldRef: { resource: limits.nvidia.com/gpu } } }\n    image:"
        ),
        "spec.yaml:10:47: error[SA100]: workloads.trainer.env.G.resourceFieldRef.resource: resourceFieldRef cannot expose 'limits.nvidia.com/gpu': Kubernetes serves only limits.* and requests.* of cpu, memory, ephemeral-storage and hugepages-<size> (not extended resources such as GPUs)",
    ),
    (
        "downward API of memory",
        FULL.replace("image:", "env: { M: { resourceFieldRef: { resource: requests.memory } } }\n    image:"),
        None,
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
    (
        "quoted spec version",  # was "'1' is not one of '1' (did you mean '1'?)"
        BASE.replace("version: 1\n", "version: '1'\n"),
        "spec.yaml:1:10: error[SA100]: version: expected the number 1, not the string '1'",
    ),
    (
        "boolean spec version",  # was accepted: True == 1 in Python
        BASE.replace("version: 1\n", "version: true\n"),
        "spec.yaml:1:10: error[SA100]: version: expected a whole number, got a boolean",
    ),
    (
        "boolean for a number",  # was accepted as 0: root
        FULL.replace("runAsUser: 10001", "runAsUser: false"),
        "spec.yaml:11:16: error[SA100]: workloads.trainer.runAsUser: expected a whole number, got a boolean",
    ),
    (
        "quoted number",  # was accepted
        FULL.replace("runAsUser: 10001", "runAsUser: '10001'"),
        "spec.yaml:11:16: error[SA100]: workloads.trainer.runAsUser: expected a whole number, got a string",
    ),
    (
        "fraction for a whole number",
        FULL.replace("runAsUser: 10001", "runAsUser: 1.5"),
        "spec.yaml:11:16: error[SA100]: workloads.trainer.runAsUser: expected a whole number, got a decimal number",
    ),
    (
        "user id Kubernetes refuses",  # was accepted, and the API server rejected the pod
        FULL.replace("runAsUser: 10001", "runAsUser: 4294967296"),
        "spec.yaml:11:16: error[SA100]: workloads.trainer.runAsUser: must be at most 2147483647",
    ),
    (
        "seccomp profile outside the kubelet's directory",  # was accepted
        FULL + "securityProfiles:\n  p: { seccompProfile: Localhost, seccompLocalhostProfile: ../x.json }\n",
        "spec.yaml:14:60: error[SA100]: securityProfiles.p.seccompLocalhostProfile: '../x.json' must stay "
        "inside the kubelet's seccomp directory: no '..'",
    ),
    (
        "port name without a letter",  # was accepted, and the API server rejected the pod
        FULL + "    ports: ['8080:80']\n",
        "spec.yaml:13:13: error[SA100]: workloads.trainer.ports[0]: '8080' is not a valid port name: "
        "it needs a letter, and no '--'",
    ),
    (
        "upper-case port name",  # was "must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
        FULL + "    ports: [{ port: 80, name: HTTP }]\n",
        "spec.yaml:13:31: error[SA100]: workloads.trainer.ports[0].name: 'HTTP' is not a valid port name: "
        "lowercase letters, digits and '-'",
    ),
    (
        "lower-case capability",  # was "must match ^[A-Z_]+$"
        FULL + "securityProfiles:\n  p: { allowedCapabilities: [net_admin] }\n",
        "spec.yaml:14:30: error[SA100]: securityProfiles.p.allowedCapabilities[0]: 'net_admin' is not a "
        "capability name such as NET_BIND_SERVICE (upper case)",
    ),
    (
        "mapping missing a field is shown at its key",
        FULL + "    volumes:\n      scratch:\n        emptyDir: {}\n",
        "spec.yaml:14:7: error[SA102]: workloads.trainer.volumes.scratch: missing required field 'mountPath'",
    ),
]

TYPOS = [
    (
        "volume",
        FULL + "    volumes:\n      v: { mountPath: /x, emptyDir: {}, readonly: true }\n",
        "spec.yaml:14:41: error[SA101]: workloads.trainer.volumes.v: unknown field 'readonly' (did you mean 'readOnly'?)",
    ),
    (
        "env value",
        FULL + "    env:\n      A: { vaule: x }\n",
        "spec.yaml:14:12: error[SA101]: workloads.trainer.env.A: unknown field 'vaule' (did you mean 'value'?)",
    ),
    (
        "network peer",
        FULL + "network:\n  r: { namespace: ml, from: [{ pod: { a: b } }], to: [{ namespace: ml }] }\n",
        "spec.yaml:14:32: error[SA101]: network.r.from[0]: unknown field 'pod' (did you mean 'pods'?)",
    ),
    (
        "access rule",
        BASE + "access:\n  sa:\n    namespace: ml\n    can:\n      - { verb: [get], resources: [pods] }\n",
        "spec.yaml:11:11: error[SA101]: access.sa.can[0]: unknown field 'verb' (did you mean 'verbs'?)",
    ),
    (
        "Vault value source",
        BASE + "vault: {}\nvaultSecrets:\n  a/b:\n    data: { p: { fromEnvv: X } }\n",
        "spec.yaml:10:18: error[SA101]: vaultSecrets.a/b.data.p: unknown field 'fromEnvv' (did you mean 'fromEnv'?)",
    ),
    (
        "port mapping",
        FULL + "    ports: [{ port: 80, protocl: TCP }]\n",
        "spec.yaml:13:25: error[SA101]: workloads.trainer.ports[0]: unknown field 'protocl' (did you mean 'protocol'?)",
    ),
    (
        "empty dir",
        FULL + "    volumes:\n      v: { mountPath: /x, emptyDir: { sizeLimt: 1Gi } }\n",
        "spec.yaml:14:39: error[SA101]: workloads.trainer.volumes.v.emptyDir: unknown field 'sizeLimt' (did you mean 'sizeLimit'?)",
    ),
]


@pytest.mark.parametrize(("case", "text", "expected"), TYPOS, ids=[c[0] for c in TYPOS])
def test_did_you_mean_at_every_level(tmp_path: Path, case: str, text: str, expected: str) -> None:
    """One message per misspelt key, at the key; a required field it stands for is not repeated."""
    assert [m.split("\n")[0] for m in messages(tmp_path, text)] == [expected]


SECRET = "s3cr3t-Pa55"
LEAKS = [
    (
        "a secret pasted into fromEnv",
        BASE + f"secrets:\n  db:\n    namespace: ml\n    data: {{ password: {{ fromEnv: '{SECRET}!' }} }}\n",
        "spec.yaml:10:34: error[SA100]: secrets.db.data.password.fromEnv: the value is not a valid "
        "environment variable name",
    ),
    (
        "a secret pasted into fromEnv that Kubernetes would take as a name",
        BASE + f"secrets:\n  db:\n    namespace: ml\n    data: {{ password: {{ fromEnv: '{SECRET}' }} }}\n",
        "spec.yaml:10:34: warning[SA121]: secrets.db.data.password: environment variable named in "
        "'fromEnv' is not set",
    ),
    (
        "a secret in braces, which YAML reads as a key",
        BASE + f"secrets:\n  db:\n    namespace: ml\n    data: {{ password: {{ {SECRET} }} }}\n",
        "spec.yaml:10:25: error[SA101]: secrets.db.data.password: unknown field (its name is not shown: "
        "it may be a secret value)",
    ),
    (
        "a secret name with a dot",  # the old check matched on dotted text and missed it
        BASE
        + f"secrets:\n  db.prod:\n    namespace: ml\n    data: {{ p: {{ generate: {{ charset: {SECRET} }} }} }}\n",
        "spec.yaml:10:39: error[SA100]: secrets.db.prod.data.p.generate.charset: the value is not one of "
        "'alphanumeric', 'hex', 'base64url', 'printable'",
    ),
    (
        "a Vault path with a dot",
        BASE
        + f"vault: {{}}\nvaultSecrets:\n  ml.v1/p:\n    data: {{ p: {{ fromVault: {{ path: '{SECRET} x', key: k }} }} }}\n",
        "spec.yaml:10:37: error[SA100]: vaultSecrets.ml.v1/p.data.p.fromVault.path: the value is not a valid "
        "Vault path: segments of letters, digits, '_', '-' and '.', separated by '/', with no leading or trailing '/'",
    ),
    (
        "a plain value where a source belongs",
        BASE + f"secrets:\n  db:\n    namespace: ml\n    data: {{ password: {SECRET} }}\n",
        "spec.yaml:10:23: error[SA100]: secrets.db.data.password: expected a mapping, got a string",
    ),
]


@pytest.mark.parametrize(("case", "text", "expected"), LEAKS, ids=[c[0] for c in LEAKS])
def test_secret_values_in_wrong_places_are_never_echoed(
    tmp_path: Path, case: str, text: str, expected: str
) -> None:
    found = messages(tmp_path, text)
    assert SECRET not in "\n".join(found)
    assert expected in [m.split("\n")[0] for m in found]


def test_a_plain_secret_value_gets_the_sources_as_hint(tmp_path: Path) -> None:
    text = BASE + "secrets:\n  db:\n    namespace: ml\n    data: { password: hunter2 }\n"
    assert messages(tmp_path, text)[0].split("\n")[1] == (
        "  hint: say where the value comes from: { fromEnv: VAR }, { fromFile: path }, "
        "{ generate: {} }, { fromVault: { path: p, key: k } } or { literal: ..., allowPlaintext: true }"
    )


def test_a_merged_value_is_shown_where_it_is_written(tmp_path: Path) -> None:
    """A workload built from another with `<<` reports the inherited value at its anchor."""
    text = (
        BASE
        + "workloads:\n  trainer: &w\n    namespace: ml\n    image: ghcr.io/acme/train:latest\n"
        + "    runAsUser: 10001\n    resources: { limits: { cpu: '1' } }\n"
        + "  tuner:\n    <<: *w\n    command: [tune]\n"
    )
    found = [m.split("\n")[0] for m in messages(tmp_path, text) if "SA130" in m]
    assert found == [
        "spec.yaml:10:12: warning[SA130]: workload 'trainer' uses image 'ghcr.io/acme/train:latest' without a pinned tag",
        "spec.yaml:10:12: warning[SA130]: workload 'tuner' uses image 'ghcr.io/acme/train:latest' without a pinned tag",
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
