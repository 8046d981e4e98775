"""The Vault/OpenBao agent configuration secureai renders for a workload (`bao agent -config`).

What is reviewed is what runs: the text made here goes into a ConfigMap as it is, and the tests
run the real `bao agent` binary with it. The agent logs in with the kubernetes auth method and
the workload's projected, audience-bound token; it writes each file through a template that
reads exactly one granted KV v2 path. `init` renders once and exits (`exit_after_auth`), so
Jobs complete; `sidecar` keeps running and re-reads the secrets every `refresh`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

AgentMode = Literal["init", "sidecar"]
FileFormat = Literal["json", "raw", "env"]


@dataclass(frozen=True)
class AgentFile:
    """One file the agent writes: where, with what permissions, from which path and key."""

    destination: str
    perms: str  # octal text, as the agent takes it: "0400" or "0440"
    kv_mount: str
    path: str
    key: str | None
    format: FileFormat

    @property
    def contents(self) -> str:
        return template_contents(self.kv_mount, self.path, self.key, self.format)


@dataclass(frozen=True)
class AgentLogin:
    """How the agent logs in: Vault's address, the kubernetes auth mount and role, the token file."""

    address: str
    auth_mount: str
    role: str
    token_path: str
    ca_cert: str | None = None  # a file in the agent container; None: the system's CAs


def template_contents(kv_mount: str, path: str, key: str | None, fmt: FileFormat) -> str:
    """A consul-template body reading `<mount>/data/<path>` and printing what `fmt` asks.

    `json` prints the whole path's data as one JSON object (numbers and booleans stay numbers and
    booleans); `raw` prints one key's value; `env` prints `key=<JSON value>` lines, which dotenv
    readers and `set -a; . file` both take. A missing key is an error, never `<no value>`.
    """
    read = f'{{{{ with secret "{kv_mount}/data/{path}" }}}}'
    if fmt == "json":
        body = "{{ .Data.data | toJSON }}"
    elif fmt == "raw":
        assert key is not None  # the model and the checks refuse `raw` without a key
        body = f'{{{{ index .Data.data "{key}" }}}}'
    else:
        body = "{{ range $k, $v := .Data.data }}{{ $k }}={{ $v | toJSON }}\n{{ end }}"
    return f"{read}{body}{{{{ end }}}}"


def _q(text: str) -> str:
    """An HCL string literal: JSON's quoting is a subset of what HCL accepts."""
    return json.dumps(text)


def agent_config(
    login: AgentLogin,
    files: Sequence[AgentFile],
    mode: AgentMode,
    refresh_seconds: int,
    header: str = "",
) -> str:
    """The agent's HCL configuration for `mode`."""
    lines = [f"# {header}"] if header else []
    lines += [
        "vault {",
        f"  address = {_q(login.address)}",
        *([f"  ca_cert = {_q(login.ca_cert)}"] if login.ca_cert else []),
        "}",
        "",
        "auto_auth {",
        '  method "kubernetes" {',
        f"    mount_path = {_q('auth/' + login.auth_mount)}",
        "    config = {",
        f"      role       = {_q(login.role)}",
        f"      token_path = {_q(login.token_path)}",
        "    }",
        "  }",
        "}",
        "",
    ]
    if mode == "init":
        # Render once and exit 0: an init container must finish for the pod (and a Job) to go on.
        lines += ["exit_after_auth = true", ""]
    lines += [
        "template_config {",
        # A file that cannot be rendered fails the container instead of leaving it stale or empty.
        "  exit_on_retry_failure         = true",
    ]
    if mode == "sidecar":
        lines.append(f'  static_secret_render_interval = "{refresh_seconds}s"')
    lines.append("}")
    for f in files:
        lines += [
            "",
            "template {",
            f"  destination          = {_q(f.destination)}",
            f"  perms                = {_q(f.perms)}",
            "  error_on_missing_key = true",
            f"  contents             = {_q(f.contents)}",
            "}",
        ]
    return "\n".join(lines) + "\n"
