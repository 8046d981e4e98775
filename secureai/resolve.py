"""Turn `SecretValue` placeholders into real values, at the last moment and only on request.

This is the one module that reads secret material (environment, files, Vault). Render calls
it only under `--include-secret-values`; the Pulumi component calls it and wraps each value in
`pulumi.Output.secret` at once. Errors name the *source* of a value, never the value.
"""

from __future__ import annotations

import os
import secrets
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from secureai.compile.plan import SecretValue
from secureai.loader import read_bounded

CHARSETS = {
    "alphanumeric": string.ascii_letters + string.digits,
    "hex": "0123456789abcdef",
    "base64url": string.ascii_letters + string.digits + "-_",
    "printable": string.ascii_letters + string.digits + string.punctuation,
}

VaultReader = Callable[[str, str], str]
"""(path, key) -> value; given by the caller because it needs a Vault client."""


# Kubernetes refuses a Secret whose data exceeds 1 MiB, so no single value may be larger.
MAX_VALUE_BYTES = 1024 * 1024


class ResolveError(Exception):
    """A value could not be obtained. The message names its source, never a value.

    `problems` holds one line per value that could not be obtained (one or more)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]

    @classmethod
    def of(cls, problems: list[str]) -> ResolveError:
        if len(problems) == 1:
            return cls(problems[0])
        listed = "".join(f"\n  - {p}" for p in problems)
        return cls(f"{len(problems)} secret values are not available:{listed}", problems)


def _read_file(path: Path) -> str:
    """A fromFile value, read bounded: a huge file or a device must not exhaust memory."""
    try:
        raw = read_bounded(path, MAX_VALUE_BYTES + 1)
        if len(raw) > MAX_VALUE_BYTES:
            raise ResolveError(f"cannot read {path}: larger than 1 MiB, more than a Kubernetes Secret holds")
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ResolveError(
            f"cannot read {path}: {getattr(exc, 'strerror', None) or exc.__class__.__name__}"
        ) from None


def vault_address(spec_address: str | None, environ: Mapping[str, str]) -> str:
    """Where VAULT_TOKEN may be sent: the one server both the spec and VAULT_ADDR name.

    The token belongs to the server VAULT_ADDR names. A spec (which anyone who can open a pull
    request may edit) naming another server would have the token sent there, so when both are
    set they must agree: the user chooses by changing one of them. Plain http is refused unless
    the server is on this machine (loopback), where nothing crosses a network.
    """
    env_address = environ.get("VAULT_ADDR", "").strip()
    if spec_address and env_address and _canonical(spec_address) != _canonical(env_address):
        raise ResolveError(
            f"the spec's vault.address is {spec_address} but VAULT_ADDR is {env_address}; "
            "VAULT_TOKEN is sent to neither until they agree: set VAULT_ADDR to the spec's "
            "address, or change or remove vault.address in the spec"
        )
    address = spec_address or env_address
    if not address:
        raise ResolveError("no Vault address: set VAULT_ADDR (or vault.address in the spec)")
    _check_channel(address)
    return address


def _canonical(address: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(address.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _check_channel(address: str) -> None:
    import ipaddress
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(address)
        host = parts.hostname or ""
    except ValueError:
        raise ResolveError("the Vault address is not a URL such as https://vault.example:8200") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ResolveError("the Vault address is not a URL such as https://vault.example:8200")
    if parts.scheme == "https":
        return
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ResolveError(
            f"refusing to send VAULT_TOKEN over plain http to {host}: anyone on the network "
            "path could read it; use https, or reach Vault through 127.0.0.1 (a port-forward)"
        )


def generate(length: int, charset: str) -> str:
    alphabet = CHARSETS[charset]
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass
class ResolveContext:
    base_dir: Path
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    # Generated values already stored (in stack config), keyed by SecretValue.ref.
    generated: Mapping[str, str] = field(default_factory=dict)
    vault_reader: VaultReader | None = None


def resolve(value: SecretValue, ctx: ResolveContext) -> str:
    if value.source == "env":
        if value.ref not in ctx.environ:
            raise ResolveError(f"environment variable {value.ref} is not set")
        text = ctx.environ[value.ref]
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # os.environ keeps undecodable bytes as surrogates
            raise ResolveError(f"environment variable {value.ref} is not valid UTF-8") from None
        return text
    if value.source == "file":
        return _read_file(ctx.base_dir / value.ref)
    if value.source == "generate":
        return ctx.generated.get(value.ref) or generate(value.length, value.charset)
    if value.source == "vault":
        if ctx.vault_reader is None:
            raise ResolveError(
                f"{value.ref} comes from Vault, and no Vault client is configured: set VAULT_ADDR "
                "(or vault.address in the spec) and VAULT_TOKEN"
            )
        vault_path, _, key = value.ref.partition("#")
        return ctx.vault_reader(vault_path, key)
    if value.source == "literal":
        return value.literal
    raise ResolveError(f"unknown secret source {value.source!r}")


def resolve_all(values: Iterable[SecretValue], ctx: ResolveContext) -> dict[tuple[str, str], str]:
    """Every value at once, by `(source, ref)`, so that all missing ones are reported together
    (a user should not fix one unset variable per run). One generated value per ref, shared by
    every user of that ref. Raises `ResolveError` listing every problem, sources only."""
    found: dict[tuple[str, str], str] = {}
    problems: dict[str, None] = {}  # ordered, without repeats
    for value in values:
        key = (value.source, value.ref)
        if key in found:
            continue
        try:
            found[key] = resolve(value, ctx)
        except ResolveError as exc:
            problems[str(exc)] = None
    if problems:
        raise ResolveError.of(list(problems))
    return found
