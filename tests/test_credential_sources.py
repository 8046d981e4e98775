"""Value sources that copy the deployer's credentials into a Secret are warned about (SA125,
SA126), as written and as the path resolves; ordinary sources are not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from specutil import BASE, messages

from secureai.check.credentials import is_credential_file


def _spec(source: str) -> str:
    return BASE + f"secrets:\n  s:\n    namespace: ml\n    data:\n      v: {{ {source} }}\n"


@pytest.mark.parametrize(
    "path",
    [
        "/etc/shadow",
        "/etc/gshadow",
        "/etc/ssh/ssh_host_ed25519_key",
        "/etc/kubernetes/admin.conf",
        "/var/run/secrets/kubernetes.io/serviceaccount/token",
        "/root/.ssh/id_rsa",
        "/home/alice/.aws/credentials",
        "/home/alice/.kube/config",
        "/home/alice/.vault-token",
        "/etc/../etc/shadow",
    ],
)
def test_credential_files(path: str) -> None:
    assert is_credential_file(Path(os.path.normpath(path)))


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "/etc/ssl/certs/ca.pem", "/home/alice/certs/ca.pem", "/data/.ssh-notes"]
)
def test_ordinary_files(path: str) -> None:
    assert not is_credential_file(Path(path))


def test_home_of_the_running_user() -> None:
    assert is_credential_file(Path.home() / ".ssh" / "id_ed25519")


def test_from_file_of_a_credential_file_warns(tmp_path: Path) -> None:
    found = [m for m in messages(tmp_path, _spec("fromFile: /etc/shadow")) if "SA125" in m]
    assert found == [
        "spec.yaml:11:22: warning[SA125]: secrets.s.data.v: fromFile reads a system or user credential "
        "file (password hashes, keys, cloud or cluster credentials)\n"
        "  hint: a workload should get its own credential, not the deploying machine's; copy the value "
        "it needs into a file of its own"
    ]


def test_symlink_to_a_credential_file_warns(tmp_path: Path) -> None:
    (tmp_path / "innocent.pem").symlink_to("/etc/shadow")
    found = [m for m in messages(tmp_path, _spec("fromFile: innocent.pem")) if "SA125" in m]
    assert len(found) == 1


def test_relative_climb_to_a_credential_file_warns(tmp_path: Path) -> None:
    climb = "../" * len(tmp_path.parts) + "etc/shadow"
    found = [m for m in messages(tmp_path, _spec(f"fromFile: {climb}")) if "SA125" in m]
    assert len(found) == 1


@pytest.mark.parametrize(
    "variable", ["VAULT_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"]
)
def test_from_env_of_a_credential_variable_warns(tmp_path: Path, variable: str) -> None:
    found = [
        m for m in messages(tmp_path, _spec(f"fromEnv: {variable}"), {variable: "x" * 20}) if "SA126" in m
    ]
    assert found == [
        f"spec.yaml:11:21: warning[SA126]: secrets.s.data.v: fromEnv reads {variable}, a credential the "
        "deploy or its CI authenticates with\n"
        "  hint: export the workload's value under a name of its own; the deployer's credential would be "
        "readable by everyone who may read this Secret"
    ]


@pytest.mark.parametrize("variable", ["DB_PASSWORD", "VAULT_ADDR", "MY_VAULT_TOKEN"])
def test_ordinary_variables_do_not_warn(tmp_path: Path, variable: str) -> None:
    assert not [m for m in messages(tmp_path, _spec(f"fromEnv: {variable}"), {variable: "v"}) if "SA126" in m]
