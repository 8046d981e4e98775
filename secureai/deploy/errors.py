"""Turn whatever a deployment raised into a `DeployError`: what went wrong, and what to do.

The engine's own text can quote inputs, so every message built from it is stripped of colour
markup, cut short, and redacted against the secret values this run knows about. Redaction
replaces whole values only, and only values long enough that replacing them reveals nothing:
when the run knows a shorter one (a one-letter passphrase would turn every matching letter into
[secret] and spell itself out by elimination), engine text is withheld instead. Text of
exceptions secureai did not write itself is never printed: only its type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from pulumi.automation import errors as auto_errors

from secureai.pulumi.component import (
    ConfigurationError,
    MissingGeneratedSecretError,
    SpecError,
)
from secureai.resolve import ResolveError

INSTALL_URL = "https://www.pulumi.com/docs/install/"
REDACTED = "[secret]"
# Shorter values occur by chance in ordinary text, so replacing them garbles it and reveals them.
MIN_MASKABLE = 8
WITHHELD = (
    "(detail withheld: a secret value of this run is too short to mask safely; "
    "run the pulumi CLI on the stack to see it)"
)
_COLOUR = re.compile(r"<\{%[^%]*%\}>")
# Pulumi's wording: "no resource plugin 'kubernetes-v4.34.2' found in the workspace or on your
# $PATH, install the plugin using `pulumi plugin install resource kubernetes v4.34.2`".
_PLUGIN_MISSING = re.compile(
    r"no resource plugin '(?P<plugin>[^']+)'|"
    r"could not (?:automatically )?download and install resource plugin '(?P<plugin2>[^']+)'",
    re.IGNORECASE,
)
# The real engine (3.274, automatic download off) names the version apart: "no resource plugin
# 'pulumi-resource-kubernetes' found in the workspace at version v4.25.0".
_PLUGIN_VERSION = re.compile(r"found in the workspace at version (?P<version>v?\d[\w.+-]*)")
_PLUGIN_INSTALL = re.compile(
    r"pulumi plugin install resource (?P<name>[\w.-]+)(?: (?P<version>v?\d[\w.+-]*))?"
)
_UNREACHABLE = re.compile(
    r"cluster is unreachable|unreachable cluster|unable to load kubernetes client configuration|"
    r"connection refused|no such host|i/o timeout|unable to connect to the server|"
    r"context \"[^\"]*\" does not exist|no configuration has been provided",
    re.IGNORECASE,
)
# Text only Vault's client and the Vault provider produce ("Error making API request. URL: PUT
# http://…/v1/sys/policies/acl/x Code: 403. Errors: * permission denied"; "failed to create
# limited child token: …"). A bare "vault" is not enough: every URN of a Vault resource has it.
_VAULT_TEXT = re.compile(
    r"error making api request|limited child token|lookup token|/v1/(?:auth|sys|identity)/|"
    r"vault server|vault token|vault_addr|vault_token|:8200\b",
    re.IGNORECASE,
)
_VAULT_AUTH = re.compile(
    r"code: 403|permission denied|missing client token|invalid token",
    re.IGNORECASE,
)
_CHILD_TOKEN = re.compile(r"limited child token", re.IGNORECASE)
_PASSPHRASE = re.compile(
    r"incorrect passphrase|passphrase must be set|PULUMI_CONFIG_PASSPHRASE", re.IGNORECASE
)
# The state backend (a DIY backend: S3, GCS, Azure Blob, file), in the words of the CLI and of
# gocloud's blob package under it: `problem logging in: read ".pulumi/meta.yaml": blob (key
# ".pulumi/meta.yaml") (code=Unknown): ...`; `could not create stack: An IO error occurred while
# writing the new snapshot file: blob (key ".pulumi/stacks/dev.json") (code=NotFound):
# NoSuchBucket: ...`; `error listing stacks: could not list bucket: blob (code=NotFound): ...`;
# `unable to open bucket "s3://...": ...`. Checked before the cluster's connection errors:
# "connection refused" from the storage endpoint is not the cluster's.
_BACKEND_TEXT = re.compile(
    r"problem logging in|unable to open (?:bucket|state directory|state database)|open S3 bucket|"
    r"could not list bucket|error listing stacks|"
    r"blob \((?:key \"[^\"]*\"\) )?\(code=|\.pulumi[/\\]+(?:meta\.yaml|stacks|history|backups)\b",
    re.IGNORECASE,
)
_BACKEND_NO_BUCKET = re.compile(
    r"NoSuchBucket|specified bucket does not exist|ContainerNotFound|"
    r"bucket (?:doesn't|does not) exist",
    re.IGNORECASE,
)
_BACKEND_UNREACHABLE = re.compile(
    r"connection refused|no such host|i/o timeout|dial tcp|request send failed|"
    r"network is unreachable|connection reset|TLS handshake timeout|"
    r"timeout awaiting response headers|exceeded maximum number of attempts",
    re.IGNORECASE,
)
_BACKEND_DENIED = re.compile(
    r"AccessDenied|Access Denied|InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken|"
    r"AuthorizationPermissionMismatch|AuthenticationFailed|NoCredentialProviders|"
    r"failed to retrieve credentials|failed to refresh cached credentials|"
    r"MissingRegion|could not find region|StatusCode: 40[13]\b|status code: 40[13]\b",
    re.IGNORECASE,
)
# The lock holder, from the DIY backend's "...: created by alice@ci-7 (pid 4242) at 2026-...".
_LOCK_HOLDER = re.compile(r"created by (?P<who>\S+) \(pid (?P<pid>\d+)\) at (?P<at>\S+)")
_BACKEND_HINT = "--backend (or PULUMI_BACKEND_URL)"


@dataclass
class DeployError(Exception):
    """A deployment failed; `message` says what, `hint` what to do. Never holds a secret."""

    message: str
    hint: str | None = None
    kind: str = "deploy"
    exit_code: int = 2

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def text(self) -> str:
        return f"error: {self.message}" + (f"\n  hint: {self.hint}" if self.hint else "")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with each known secret value (longest first, also as JSON escapes it) replaced
    by [secret]; the whole text withheld if a known value is too short to mask."""
    values = {s for s in secrets if s}
    if any(len(v) < MIN_MASKABLE for v in values):
        return WITHHELD if text.strip() else text
    forms = values | {json.dumps(v)[1:-1] for v in values}
    for value in sorted(forms, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return text


def clean(text: str, secrets: Iterable[str] = (), limit: int = 600) -> str:
    """Engine text fit for a message: colour markup gone, secrets redacted, length bounded."""
    text = redact(_COLOUR.sub("", text), secrets).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def missing_cli() -> DeployError:
    return DeployError(
        "the pulumi CLI is not installed (no `pulumi` on PATH); preview, apply and destroy "
        "drive the Pulumi engine through it",
        hint=f"install it from {INSTALL_URL}, or build it from Go modules with "
        "`bash scripts/engine/build.sh` in a secureai checkout (it goes to "
        "~/.cache/secureai/engine/pulumi-<version>/; put that folder on PATH); then "
        "`pulumi version` must work",
        kind="cli-missing",
    )


def missing_passphrase() -> DeployError:
    return DeployError(
        "no passphrase for the stack's encrypted state and config",
        hint="set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE (not empty), "
        "or pass --secrets-provider (e.g. awskms://..., gcpkms://..., hashivault://...)",
        kind="passphrase",
    )


def to_deploy_error(
    exc: BaseException, *, stack: str | None = None, secrets: Iterable[str] = ()
) -> DeployError:
    """The DeployError that explains `exc` to a user."""
    secrets = list(secrets)
    if isinstance(exc, DeployError):
        return exc
    if isinstance(exc, FileNotFoundError) and _mentions_pulumi(exc):
        return missing_cli()
    # ResolveError, SpecError and the component's errors are secureai's own words: they name
    # where a value comes from, never the value, so they are shown as written.
    if isinstance(exc, ResolveError):
        what = "a secret value is not available: " if len(exc.problems) == 1 else ""
        return DeployError(
            what + clean(str(exc), limit=4000),
            hint="set the variables and files the spec names, and VAULT_ADDR and VAULT_TOKEN for "
            "fromVault values (values are never printed)",
            kind="resolve",
        )
    if isinstance(exc, SpecError):
        return DeployError(clean(str(exc), limit=4000), kind="spec")
    if isinstance(exc, MissingGeneratedSecretError | ConfigurationError):
        return DeployError(clean(str(exc)), kind="config")
    if isinstance(exc, auto_errors.CommandError):
        return _command_error(exc, stack, secrets)
    if isinstance(exc, auto_errors.InvalidVersionError):
        return DeployError(
            f"the installed pulumi CLI cannot do this: {clean(str(exc), secrets)}",
            hint=f"upgrade it ({INSTALL_URL}); inline programs need pulumi 3.181 or later for destroy",
            kind="cli-version",
        )
    # Its text could carry a value (a failed parse quotes its input): the type only.
    return DeployError(
        f"internal error: {type(exc).__name__}",
        hint="SECUREAI_DEBUG=1 shows the traceback",
        kind="internal",
    )


def _mentions_pulumi(exc: FileNotFoundError) -> bool:
    return "pulumi" in f"{exc.filename or ''} {exc}"


def _command_error(exc: auto_errors.CommandError, stack: str | None, secrets: list[str]) -> DeployError:
    text = str(exc)
    where = f" {stack}" if stack else ""
    if isinstance(exc, auto_errors.ConcurrentUpdateError):
        return DeployError(
            f"the stack{where} is locked by another update{_lock_holder(text, secrets)}",
            hint="wait for it to finish; if none is running, remove the stale lock with "
            f"`pulumi cancel{' --stack ' + stack if stack else ''}` against the same backend "
            "(PULUMI_BACKEND_URL set to the --backend URL)",
            kind="locked",
        )
    if isinstance(exc, auto_errors.StackNotFoundError):
        return DeployError(
            f"stack{where} does not exist in this backend",
            hint="check --env and --backend (or PULUMI_BACKEND_URL)",
            kind="stack-missing",
        )
    if _BACKEND_TEXT.search(text):
        return _backend_error(text, secrets)
    missing = _PLUGIN_MISSING.search(text)
    if missing:
        return _plugin_error(text, missing["plugin"] or missing["plugin2"])
    if _PASSPHRASE.search(text):
        return DeployError(
            "cannot decrypt the stack's secrets: the passphrase is wrong or missing",
            hint="use the passphrase the stack was created with "
            "(PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE)",
            kind="passphrase",
        )
    vault_down = _vault_unreachable(text)
    if vault_down:
        return DeployError(
            "the Vault server is unreachable",
            hint="check VAULT_ADDR (or the vault address in the spec) and that Vault is up; "
            "detail: " + clean(vault_down, secrets),
            kind="vault-unreachable",
        )
    if _UNREACHABLE.search(text):
        return DeployError(
            "the Kubernetes cluster is unreachable",
            hint="check the kube context in the spec (kubernetes.context), KUBECONFIG, and "
            "`kubectl cluster-info`; detail: " + _detail(text, secrets),
            kind="cluster-unreachable",
        )
    if _VAULT_TEXT.search(text) and _VAULT_AUTH.search(text):
        return _vault_denied(text, secrets)
    return DeployError(
        f"the Pulumi engine failed: {_detail(text, secrets)}",
        hint="re-run with the same command to see the full change list; "
        "`pulumi stack --show-urns` helps locate resources",
        kind="engine",
    )


def _lock_holder(text: str, secrets: list[str]) -> str:
    """` (alice@ci-7, pid 4242, since <time>)` when the engine named who holds the lock."""
    holder = _LOCK_HOLDER.search(text)
    if holder is None:
        return ""
    said = clean(f"{holder['who']}, pid {holder['pid']}, since {holder['at']}", secrets, limit=200)
    return "" if said == WITHHELD else f" ({said})"


def _backend_error(text: str, secrets: list[str]) -> DeployError:
    """The state backend failed: unreachable, no bucket, access refused, or something else.
    These fail before anything is deployed (the stack cannot even be selected) or, mid-update,
    when a snapshot cannot be written."""
    detail = _detail(text, secrets)
    if _BACKEND_NO_BUCKET.search(text):
        return DeployError(
            "the state backend's bucket does not exist",
            hint=f"create the bucket first (secureai never creates one), or fix its name in {_BACKEND_HINT}; "
            f"detail: {detail}",
            kind="backend-no-bucket",
        )
    if _BACKEND_UNREACHABLE.search(text):
        return DeployError(
            "the state backend is unreachable",
            hint=f"check the endpoint in {_BACKEND_HINT} and that the storage service is up; "
            f"detail: {detail}",
            kind="backend-unreachable",
        )
    if _BACKEND_DENIED.search(text):
        return DeployError(
            "the state backend refused access",
            hint="check the storage credentials and region the pulumi CLI reads (for s3://: "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE, AWS_REGION or "
            f"`region=` in the URL) and {_BACKEND_HINT}; detail: {detail}",
            kind="backend-denied",
        )
    return DeployError(
        f"the state backend failed: {detail}",
        hint=f"check {_BACKEND_HINT}",
        kind="backend",
    )


def _vault_unreachable(text: str) -> str | None:
    """The line saying Vault could not be reached, if there is one: a connection error on a
    line about Vault, so that it is not blamed on the Kubernetes cluster."""
    for line in text.splitlines():
        if _UNREACHABLE.search(line) and _VAULT_TEXT.search(line):
            return line.strip()
    return None


def _vault_denied(text: str, secrets: list[str]) -> DeployError:
    hint = (
        "check VAULT_ADDR and VAULT_TOKEN: the token needs a policy that can write the KV mount, "
        "policies and the Kubernetes auth roles"
    )
    if _CHILD_TOKEN.search(text):
        # The Vault provider first makes a short-lived child token; a token that may not do
        # that (a batch token, or no `update` on auth/token/create) fails before anything else.
        hint = (
            "the Vault provider could not create its short-lived child token: the token needs "
            "`update` on auth/token/create (batch tokens cannot have children)"
        )
    return DeployError(
        "Vault refused the request (authentication or permission denied)",
        hint=f"{hint}; detail: {_detail(text, secrets)}",
        kind="vault-auth",
    )


def _plugin_error(text: str, plugin: str) -> DeployError:
    install = _PLUGIN_INSTALL.search(text)
    if install:
        name, command = install["name"], install.group(0)
    else:
        name = re.sub(r"^pulumi-resource-|-v?\d[\w.+-]*$", "", plugin)
        version = _PLUGIN_VERSION.search(text)
        command = f"pulumi plugin install resource {name}" + (f" {version['version']}" if version else "")
    return DeployError(
        f"the Pulumi provider plugin '{name}' is not installed",
        hint=f"run `{command}` (plugins are downloaded once per machine; add `--file BINARY` "
        "for a plugin built locally)",
        kind="plugin-missing",
    )


def _detail(text: str, secrets: list[str]) -> str:
    """The engine's `error:` lines (the useful part of a CommandError), cleaned."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [m.group(0) for ln in lines if (m := re.search(r"error: .*", ln))]
    chosen = errors[-3:] or lines[-1:]
    return clean(" | ".join(chosen), secrets) or "(no output)"
