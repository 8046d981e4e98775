"""VAULT_TOKEN goes only where both the user and the spec say, and never over plain http
across a network."""

from __future__ import annotations

from pathlib import Path

import pytest
from specutil import write_spec
from typer.testing import CliRunner

from secureai.cli import app
from secureai.resolve import ResolveError, vault_address


@pytest.mark.parametrize(
    ("spec", "env", "expected"),
    [
        (None, "https://vault.example:8200", "https://vault.example:8200"),
        ("https://vault.example:8200", "", "https://vault.example:8200"),
        ("https://vault.example:8200", "https://VAULT.example:8200/", "https://vault.example:8200"),
        ("http://127.0.0.1:8200", "http://127.0.0.1:8200", "http://127.0.0.1:8200"),
        (None, "http://localhost:8200", "http://localhost:8200"),
        (None, "http://[::1]:8200", "http://[::1]:8200"),
        (None, "http://127.10.0.1:8200", "http://127.10.0.1:8200"),
    ],
)
def test_allowed_destinations(spec: str | None, env: str, expected: str) -> None:
    assert vault_address(spec, {"VAULT_ADDR": env} if env else {}) == expected


@pytest.mark.parametrize(
    ("spec", "env", "message"),
    [
        (
            "https://evil.example:8200",
            "https://vault.example:8200",
            "the spec's vault.address is https://evil.example:8200 but VAULT_ADDR is "
            "https://vault.example:8200; VAULT_TOKEN is sent to neither until they agree",
        ),
        (
            "https://vault.example:8201",
            "https://vault.example:8200",
            "the spec's vault.address is https://vault.example:8201 but VAULT_ADDR is",
        ),
        ("http://vault.example:8200", "", "refusing to send VAULT_TOKEN over plain http to vault.example"),
        (None, "http://10.0.0.5:8200", "refusing to send VAULT_TOKEN over plain http to 10.0.0.5"),
        (None, "http://localhost.evil.example", "refusing to send VAULT_TOKEN over plain http"),
        (None, "ftp://vault.example", "the Vault address is not a URL such as https://"),
        (None, "", "no Vault address"),
    ],
)
def test_refused_destinations(spec: str | None, env: str, message: str) -> None:
    with pytest.raises(ResolveError) as raised:
        vault_address(spec, {"VAULT_ADDR": env} if env else {})
    assert message in str(raised.value)


SPEC = """\
version: 1
project: demo
kubernetes: {{ version: "1.30" }}
vault: {{ address: "{address}" }}
namespaces: {{ ml: {{}} }}
secrets:
  s:
    namespace: ml
    data: {{ token: {{ fromVault: {{ path: ai/upstream, key: token }} }} }}
vaultSecrets:
  ai/upstream: {{ data: {{ token: x }} }}
"""


@pytest.mark.parametrize(
    ("address", "env", "message"),
    [
        ("https://evil.example:8200", "https://vault.example:8200", "VAULT_TOKEN is sent to neither"),
        ("http://192.0.2.10:8200", "", "refusing to send VAULT_TOKEN over plain http to 192.0.2.10"),
    ],
)
def test_render_include_secret_values_refuses_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, address: str, env: str, message: str
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", "s.the-users-token-value")
    if env:
        monkeypatch.setenv("VAULT_ADDR", env)
    else:
        monkeypatch.delenv("VAULT_ADDR", raising=False)
    spec = write_spec(tmp_path, SPEC.format(address=address))
    result = CliRunner().invoke(
        app, ["render", str(spec), "-o", str(tmp_path / "out"), "--include-secret-values"]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "the-users-token-value" not in result.output
    assert not (tmp_path / "out").exists()
