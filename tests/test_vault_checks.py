"""check_vault_paths: every code (SA304-SA310) with its exact positioned message."""

from __future__ import annotations

from pathlib import Path

import pytest
from specutil import BASE, WORKLOAD, messages

FULL = BASE + WORKLOAD
PARAMS = "vaultSecrets:\n  ai/params:\n    data: { lr: 0.1, epochs: 3 }\n"
READ = "    vault: { read: [ai/params] }\n"
SCORER = WORKLOAD.removeprefix("workloads:\n").replace("trainer", "scorer")


VAULT_PATH_CASES = [
    (
        "SA304",
        BASE + "vault: { kvMount: sys }\n",
        "spec.yaml:7:19: error[SA304]: Vault reserves the mount path 'sys/'; the KV v2 secrets "
        "engine cannot be mounted there",
    ),
    (
        "SA304",
        BASE + "vault:\n  kubernetesAuthMount: token\n",
        "spec.yaml:8:24: error[SA304]: Vault reserves the auth mount 'auth/token/' for its token method",
    ),
    (
        "SA305",
        BASE + "vault: { tokenTtl: 0s }\n",
        "spec.yaml:7:20: error[SA305]: vault.tokenTtl '0s' is zero, which Vault reads as 'use the "
        "system default' (32 days)",
    ),
    (
        "SA305",
        BASE + "vault:\n  tokenTtl: 2h\n",
        "spec.yaml:8:13: error[SA305]: vault.tokenTtl '2h' is longer than vault.tokenMaxTtl '1h'; "
        "Vault would cap it silently",
    ),
    (
        "SA306",
        FULL
        + "    securityProfile: tight\n"
        + READ
        + "securityProfiles:\n  tight: { volumes: [emptyDir, secret] }\nvault: {}\n"
        + PARAMS,
        "spec.yaml:14:12: error[SA306]: workload 'trainer' reads Vault, which needs a projected "
        "service-account token volume, but its security profile 'tight' does not allow 'projected' "
        "volumes",
    ),
    (
        "SA307",
        FULL
        + "    serviceAccount: shared\n"
        + READ
        + SCORER
        + "    serviceAccount: shared\n    vault: { read: [ai/other] }\n"
        + "access:\n  shared: { namespace: ml }\nvault: {}\n"
        + PARAMS
        + "  ai/other:\n    data: { k: v }\n",
        "spec.yaml:20:21: warning[SA307]: workloads 'trainer' and 'scorer' both run as service "
        "account 'shared' in namespace 'ml' but read different Vault paths; each can log in with "
        "the other's role and read its paths too",
    ),
    (
        "SA308",
        FULL + "    vault: { read: [ai/+*] }\nvault: {}\n" + PARAMS,
        "spec.yaml:13:21: error[SA308]: workload 'trainer' reads Vault paths 'ai/+*': Vault rejects "
        "'+*' in a policy",
    ),
    (
        "SA309",
        BASE
        + "vault: {}\n"
        + PARAMS
        + "secrets:\n  db:\n    namespace: ml\n    data:\n      lr: { fromVault: { path: ai/params, key: lrate } }\n",
        "spec.yaml:15:48: error[SA309]: secrets.db.data.lr comes from key 'lrate' of Vault path "
        "'ai/params', which has no such key; it has 'epochs', 'lr'",
    ),
    (
        "SA310",
        BASE
        + "vault: {}\n"
        + PARAMS
        + "secrets:\n  db:\n    namespace: ml\n    data:\n      lr: { fromVault: { path: ai/param, key: lr } }\n",
        "spec.yaml:15:32: warning[SA310]: secrets.db.data.lr comes from Vault path 'ai/param', which "
        "this spec does not declare in vaultSecrets (did you mean 'ai/params'?)",
    ),
]


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    VAULT_PATH_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(VAULT_PATH_CASES)],
)
def test_code_message(tmp_path: Path, code: str, text: str, expected: str) -> None:
    found = [m.split("\n")[0] for m in messages(tmp_path, text) if f"[{code}]" in m]
    assert found == [expected]


def test_codes_are_contiguous_from_sa304() -> None:
    assert sorted({c[0] for c in VAULT_PATH_CASES}) == [f"SA{n}" for n in range(304, 311)]


@pytest.mark.parametrize(
    "text",
    [
        FULL + READ + "vault: {}\n" + PARAMS,
        FULL
        + "    serviceAccount: shared\n"
        + READ
        + SCORER
        + "    serviceAccount: shared\n"
        + READ
        + "access:\n  shared: { namespace: ml }\nvault: { tokenTtl: 1h, tokenMaxTtl: 1h }\n"
        + PARAMS,
        FULL
        + "    vault: { read: [ai/+/x, ai/*] }\nvault: {}\n"
        + PARAMS
        + "secrets:\n  db:\n    namespace: ml\n    data:\n      lr: { fromVault: { path: ai/params, key: lr } }\n",
    ],
    ids=["plain", "shared-account-same-grants", "globs-and-fromVault"],
)
def test_good_specs_have_no_vault_path_findings(tmp_path: Path, text: str) -> None:
    found = [m for m in messages(tmp_path, text) if any(f"[SA{n}]" in m for n in range(304, 311))]
    assert found == []
