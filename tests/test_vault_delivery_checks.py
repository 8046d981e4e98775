"""Vault delivery checks (SA320-SA336): each code with its exact positioned message."""

from __future__ import annotations

from pathlib import Path

import pytest
from specutil import BASE, WORKLOAD, messages

FULL = BASE + WORKLOAD
V = (
    "vault: { address: 'http://vault:8200' }\nvaultSecrets:\n  ai/params:\n    data: { lr: 0.1, epochs: 3 }\n"
    "  ai/other:\n    data: { k: v }\n"
)


def w(block: str) -> str:
    """The trainer with `block` appended, then a vault section and two declared paths."""
    return FULL + block + V


VAULT_DELIVERY_CASES = [
    (
        "SA320",
        FULL
        + "    vault: { read: [ai/params] }\nvault: {}\nvaultSecrets:\n  ai/params:\n    data: { lr: 0.1 }\n",
        "spec.yaml:13:12: error[SA320]: workload 'trainer' gets its Vault values by 'agent', which needs the address pods reach Vault at, but the spec has neither vault.podAddress nor vault.address",
    ),
    (
        "SA321",
        FULL.replace("resources:", "securityProfile: tight\n    resources:")
        + "    vault: { read: [ai/params] }\n"
        + V
        + "securityProfiles:\n  tight: { volumes: [projected, emptyDir] }\n",
        "spec.yaml:14:12: error[SA321]: workload 'trainer' gets its Vault values by 'agent', which needs 'configMap' volumes, but its security profile 'tight' does not allow them",
    ),
    (
        "SA322",
        w("    vault: { read: [a/params, b/params] }\n")
        + "  a/params: { data: { k: v } }\n  b/params: { data: { k: v } }\n",
        "spec.yaml:13:20: error[SA322]: workload 'trainer' delivers two files named 'params.json' (the default file names); one would overwrite the other",
    ),
    (
        "SA323",
        w(
            "    vault:\n      read: [ai/params]\n      files: { lr.json: { path: ai/params, key: lr, format: json } }\n"
        ),
        "spec.yaml:15:61: error[SA323]: workload 'trainer' file 'lr.json' asks for key 'lr', but format 'json' prints the whole path 'ai/params'",
    ),
    (
        "SA324",
        w("    vault:\n      read: [ai/params]\n      files: { other.json: { path: ai/other } }\n"),
        "spec.yaml:15:36: error[SA324]: workload 'trainer' file 'other.json' reads Vault path 'ai/other', which its grants ('ai/params') do not cover, so Vault would refuse it",
    ),
    (
        "SA325",
        w("    vault:\n      read: [ai/params]\n      files: { lr: { path: ai/params, key: lrr } }\n"),
        "spec.yaml:15:44: error[SA325]: workload 'trainer' file 'lr' reads key 'lrr' of Vault path 'ai/params', which has no such key (did you mean 'lr'?); it has 'epochs', 'lr'",
    ),
    (
        "SA326",
        w("    vault:\n      read: [ai/params]\n      containers: [trainr]\n"),
        "spec.yaml:15:20: error[SA326]: workload 'trainer' delivers its Vault files to container 'trainr', which it does not have (did you mean 'trainer'?); it has 'trainer'",
    ),
    (
        "SA327",
        w("    vault: { read: [ai/params], deliver: injector }\n"),
        "spec.yaml:13:42: error[SA327]: workload 'trainer' uses 'deliver: injector', but the spec does not say the cluster runs the Vault Agent Injector",
    ),
    (
        "SA328",
        w("    vault: { read: [ai/params], deliver: externalSecrets }\n"),
        "spec.yaml:13:42: error[SA328]: workload 'trainer' uses 'deliver: externalSecrets', but the spec does not say the cluster runs the External Secrets Operator",
    ),
    (
        "SA329",
        w("    vault: { read: [ai/params], agent: { sidecar: true } }\n").replace(
            'version: "1.30"', 'version: "1.28"'
        ),
        "spec.yaml:13:51: warning[SA329]: workload 'trainer' asks for an agent sidecar, but Kubernetes 1.28 has no native sidecars (on by default from 1.29): the init container writes the files once, and they are not refreshed",
    ),
    (
        "SA330",
        w("    kind: Job\n    vault: { read: [ai/params], agent: { sidecar: true } }\n"),
        "spec.yaml:14:51: error[SA330]: workload 'trainer' is a Job: it reads its Vault files once, and secureai gives Jobs the init container only, so that they complete",
    ),
    (
        "SA331",
        w("    vault: { read: [ai/*] }\n"),
        "spec.yaml:13:20: error[SA331]: workload 'trainer' has nothing to deliver: its grants are all wildcards, and 'files' names no path",
    ),
    (
        "SA332",
        w(
            "    vault:\n      read: [ai/params]\n      deliver: externalSecrets\n      files: { p.env: { path: ai/params, format: env } }\n"
        ).replace(
            "vault: { address: 'http://vault:8200' }",
            "vault: { address: 'http://vault:8200', externalSecrets: {} }",
        ),
        "spec.yaml:16:50: error[SA332]: workload 'trainer' file 'p.env': External Secrets writes a path as JSON or one key raw, not as an env file",
    ),
    (
        "SA333",
        w("    vault: { read: [ai/params], deliver: none, files: { p.json: { path: ai/params } } }\n"),
        "spec.yaml:13:55: error[SA333]: workload 'trainer' sets 'files', which 'deliver: none' does not use (the application reads Vault itself)",
    ),
    (
        "SA334",
        w(
            "    volumes:\n      cfg: { mountPath: /vault/secrets, configMap: cfg }\n    vault: { read: [ai/params] }\n"
        ),
        "spec.yaml:14:25: error[SA334]: workload 'trainer' gets its Vault files at /vault/secrets, where volume 'cfg' is mounted already",
    ),
    (
        "SA335",
        w(
            "    vault:\n      read: [ai/params]\n      deliver: injector\n      files: { a-very-long-file-name-for-the-model-parameters.json: { path: ai/params } }\n"
        ).replace(
            "vault: { address: 'http://vault:8200' }", "vault: { address: 'http://vault:8200', injector: {} }"
        ),
        "spec.yaml:16:69: error[SA335]: workload 'trainer' file 'a-very-long-file-name-for-the-model-parameters.json' cannot name an injector annotation (agent-inject-template-<name> allows 41 characters, starting and ending with a letter or digit)",
    ),
    (
        "SA336",
        w("    vault: { read: [ai/params], agent: { image: 'quay.io/openbao/openbao:latest' } }\n"),
        "spec.yaml:13:49: warning[SA336]: workload 'trainer' runs Vault agent image 'quay.io/openbao/openbao:latest' without a pinned tag",
    ),
]


@pytest.mark.parametrize(
    ("code", "text", "expected"), VAULT_DELIVERY_CASES, ids=[c[0] for c in VAULT_DELIVERY_CASES]
)
def test_code_message(tmp_path: Path, code: str, text: str, expected: str) -> None:
    found = [m.split("\n")[0] for m in messages(tmp_path, text) if f"[{code}]" in m]
    assert expected in found, messages(tmp_path, text)


def clean(tmp_path: Path, text: str) -> list[str]:
    """Every message but SA254 (the test specs say nothing of where Vault is on the network)."""
    return [m for m in messages(tmp_path, text) if "[SA254]" not in m]


def test_defaults_are_clean(tmp_path: Path) -> None:
    assert clean(tmp_path, w("    vault: { read: [ai/params] }\n")) == []


def test_none_reads_wildcards_without_files(tmp_path: Path) -> None:
    assert clean(tmp_path, w("    vault: { read: [ai/*], deliver: none }\n")) == []
