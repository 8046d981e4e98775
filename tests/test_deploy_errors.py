"""Failures become DeployErrors with a message, a hint, and no secret in either.

Engine failures are built with the Automation API's own classes and classifier
(`create_command_error`), from the wording the Pulumi CLI and providers print.
"""

from __future__ import annotations

import pytest
from pulumi.automation import CommandResult
from pulumi.automation.errors import (
    CommandError,
    ConcurrentUpdateError,
    InvalidVersionError,
    StackNotFoundError,
    create_command_error,
)

from secureai.deploy.errors import (
    INSTALL_URL,
    WITHHELD,
    DeployError,
    clean,
    missing_passphrase,
    redact,
    to_deploy_error,
)
from secureai.diagnostics import error
from secureai.pulumi.component import ConfigurationError, MissingGeneratedSecretError, SpecError
from secureai.resolve import ResolveError

SECRET = "hunter2-very-secret"


def engine(stderr: str, stdout: str = "") -> CommandError:
    return create_command_error(CommandResult(stdout, stderr, 255))


def test_cli_not_installed() -> None:
    err = to_deploy_error(FileNotFoundError(2, "No such file or directory", "pulumi"))
    assert err.kind == "cli-missing"
    assert "the pulumi CLI is not installed" in err.message
    assert INSTALL_URL in (err.hint or "")
    assert err.exit_code == 2


def test_other_missing_files_are_not_the_cli() -> None:
    err = to_deploy_error(FileNotFoundError(2, "No such file or directory", "/tmp/spec.yaml"))
    assert err.kind == "internal"


@pytest.mark.parametrize(
    ("stderr", "command"),
    [
        (
            "error: no resource plugin 'kubernetes-v4.34.2' found in the workspace or on your $PATH, "
            "install the plugin using `pulumi plugin install resource kubernetes v4.34.2`",
            "pulumi plugin install resource kubernetes v4.34.2",
        ),
        (
            "error: could not load plugin for vault provider 'secureai-vault': no resource plugin "
            "'pulumi-resource-vault' found in the workspace or on your $PATH",
            "pulumi plugin install resource vault",
        ),
        (  # pulumi 3.274 with PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true, as the engine tests run it
            "pulumi:providers:kubernetes secureai-kubernetes  error: no resource plugin "
            "'pulumi-resource-kubernetes' found in the workspace at version v4.25.0",
            "pulumi plugin install resource kubernetes v4.25.0",
        ),
    ],
)
def test_missing_provider_plugin(stderr: str, command: str) -> None:
    err = to_deploy_error(engine(stderr))
    assert err.kind == "plugin-missing"
    assert command in (err.hint or "")


@pytest.mark.parametrize(
    "stderr",
    [
        "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) "
        "to end or delete the lock file with `pulumi cancel`.",
        "error: [409] Conflict: Another update is currently in progress.",
    ],
)
def test_stack_locked(stderr: str) -> None:
    exc = engine(stderr)
    assert isinstance(exc, ConcurrentUpdateError)
    err = to_deploy_error(exc, stack="dev")
    assert err.kind == "locked"
    assert "locked" in err.message and "dev" in err.message
    assert "pulumi cancel --stack dev" in (err.hint or "")


def test_stack_locked_names_the_holder() -> None:
    # The DIY backend lists each lock with who took it: pulumi 3.274.1 on moto's S3, verbatim
    # (with the AWS SDK's warning before it).
    stderr = (
        "SDK 2026/12/07 20:00:25 WARN Response has no supported checksum. Not validating response "
        "payload.\nerror: the stack is currently locked by 1 lock(s). Either wait for the other "
        "process(es) to end or delete the lock file with `pulumi cancel`.\n"
        "  s3://secureai-state/.pulumi/locks/organization/engine-state/ci/"
        "4d8dfe98-79b0-4c33-9a5a-a523dcd81c2f.json?disable_https=true&endpoint=http%3A%2F%2F127.0.0.1"
        "%3A43985&region=us-east-1&request_checksum_calculation=when_required&s3ForcePathStyle=true: "
        "created by alice@ci-runner-7 (pid 4242) at 2026-12-07T19:40:00Z"
    )
    exc = engine(stderr)
    assert isinstance(exc, ConcurrentUpdateError)
    err = to_deploy_error(exc, stack="ci")
    assert err.kind == "locked"
    assert err.message == (
        "the stack ci is locked by another update (alice@ci-runner-7, pid 4242, since 2026-12-07T19:40:00Z)"
    )
    assert "pulumi cancel --stack ci" in (err.hint or "")
    assert "PULUMI_BACKEND_URL" in (err.hint or "")
    assert "\n" not in err.text().split("\n  hint: ")[0]


# The state backend's failures. BACKEND_DOWN and NO_BUCKET_LIST are verbatim from pulumi 3.274.1
# (the engine tests' build) under `secureai preview`: an S3 endpoint nothing listens on, and
# moto's S3 without the bucket (backend/diy reads .pulumi/meta.yaml, then lists the stacks, when
# it opens the backend; gocloud.dev 0.46 maps NoSuchBucket to NotFound). The others are older
# wordings (AWS SDK v1) quoted in pulumi/pulumi#8144, #13007 and #15141.
BACKEND_DOWN = (
    'error: read ".pulumi/meta.yaml": blob (key ".pulumi/meta.yaml") '
    "(code=Unknown): operation error S3: GetObject, exceeded maximum number of attempts, 3, "
    "https response error StatusCode: 0, RequestID: , HostID: , request send failed, Get "
    '"http://127.0.0.1:50311/secureai-state/.pulumi/meta.yaml?x-id=GetObject": dial tcp '
    "127.0.0.1:50311: connect: connection refused"
)
NO_BUCKET_LIST = (
    "error: error listing stacks: could not list bucket: blob (code=NotFound): operation error S3: "
    "ListObjectsV2, https response error StatusCode: 404, RequestID: "
    "haZNqjk1SJ1eSX97TAYQUs7QRtMc5ysuKGDRGH5noJdlDenoRmFr, HostID: 9Gjjt1m+cjU4OPvX9O9/8RuvnG41MRb/"
    "18Oux2o5H5MY7ISNTlXN+Dz9IG62/ILVxhAGI0qyPfg=, NoSuchBucket: The specified bucket does not exist"
)
NO_BUCKET_V1 = (
    "error: could not create stack: An IO error occurred while writing the new snapshot file: "
    'blob (key ".pulumi/stacks/new-stack.json") (code=NotFound): NoSuchBucket: The specified '
    "bucket does not exist\n\tstatus code: 404, request id: YF8PG2RG935H5FTK, host id: 4M1ieQ7c"
)
DENIED = (
    'error: read ".pulumi\\\\meta.yaml": blob (key ".pulumi/meta.yaml") (code=Unknown): '
    "AccessDenied: Access Denied\n        status code: 403, request id: 3K2R9, host id: aGVsbG8="
)
NO_REGION = (
    'error: read ".pulumi/meta.yaml": blob (key ".pulumi/meta.yaml") (code=Unknown): '
    "MissingRegion: could not find region configuration"
)


def _one_line(err: DeployError) -> None:
    assert err.exit_code == 2
    message, _, hint = err.text().partition("\n  hint: ")
    assert "\n" not in message and "\n" not in hint, err.text()


def test_backend_unreachable_is_not_blamed_on_the_cluster() -> None:
    err = to_deploy_error(engine(BACKEND_DOWN), stack="ci")
    assert err.kind == "backend-unreachable"
    assert err.message == "the state backend is unreachable"
    assert "--backend (or PULUMI_BACKEND_URL)" in (err.hint or "")
    assert "connection refused" in (err.hint or "")  # the engine's own reason, as detail
    assert "Kubernetes" not in err.text() and "KUBECONFIG" not in err.text()
    _one_line(err)


@pytest.mark.parametrize("stderr", [NO_BUCKET_LIST, NO_BUCKET_V1])
def test_backend_bucket_missing(stderr: str) -> None:
    err = to_deploy_error(engine(stderr), stack="ci")
    assert err.kind == "backend-no-bucket"
    assert err.message == "the state backend's bucket does not exist"
    assert "create the bucket first" in (err.hint or "")
    _one_line(err)


@pytest.mark.parametrize("stderr", [DENIED, NO_REGION])
def test_backend_refusing_access(stderr: str) -> None:
    err = to_deploy_error(engine(stderr), stack="ci")
    assert err.kind == "backend-denied"
    assert "AWS_ACCESS_KEY_ID" in (err.hint or "") and "AWS_REGION" in (err.hint or "")
    _one_line(err)


def test_other_backend_failures_keep_the_engine_line() -> None:
    stderr = (
        'error: unable to open state directory "file:///srv/state": '
        "stat /srv/state: no such file or directory"
    )
    err = to_deploy_error(engine(stderr))
    assert err.kind == "backend"
    assert "no such file or directory" in err.message


def test_stack_not_found() -> None:
    exc = engine("error: no stack named 'prod' found")
    assert isinstance(exc, StackNotFoundError)
    assert to_deploy_error(exc, stack="prod").kind == "stack-missing"


def test_cluster_unreachable() -> None:
    stdout = (
        "  kubernetes:core/v1:Namespace (ai-data-pipeline):\n"
        "    error: configured Kubernetes cluster is unreachable: unable to load schema information "
        'from the API server: Get "https://127.0.0.1:6443/openapi/v2?timeout=32s": dial tcp '
        "127.0.0.1:6443: connect: connection refused\n"
    )
    err = to_deploy_error(engine("", stdout))
    assert err.kind == "cluster-unreachable"
    assert "KUBECONFIG" in (err.hint or "")


def test_vault_auth_failed() -> None:
    stdout = (
        "  vault:index/policy:Policy (ai-platform-trainer):\n"
        "    error: error writing to Vault: Error making API request.\n\n"
        "URL: PUT http://127.0.0.1:8200/v1/sys/policies/acl/ai-platform-trainer\n"
        "Code: 403. Errors:\n\n* 1 error occurred:\n\t* permission denied\n"
    )
    err = to_deploy_error(engine("", stdout))
    assert err.kind == "vault-auth"
    assert "VAULT_TOKEN" in (err.hint or "")


def test_vault_child_token_refused() -> None:
    # The Vault provider's first call; a token without auth/token/create fails here.
    stdout = (
        "  pulumi:providers:vault (secureai-vault):\n"
        "    error: failed to create limited child token: Error making API request.\n\n"
        "URL: POST http://127.0.0.1:8200/v1/auth/token/create\n"
        "Code: 403. Errors:\n\n* 1 error occurred:\n\t* permission denied\n"
    )
    err = to_deploy_error(engine("", stdout))
    assert err.kind == "vault-auth"
    assert "auth/token/create" in (err.hint or "")


def test_vault_unreachable_is_not_blamed_on_the_cluster() -> None:
    stdout = (
        "  kubernetes:core/v1:Namespace (ai-data-pipeline):\n"
        "  pulumi:providers:vault (secureai-vault):\n"
        '    error: failed to lookup token, err=Get "http://127.0.0.1:8200/v1/auth/token/lookup-self": '
        "dial tcp 127.0.0.1:8200: connect: connection refused\n"
    )
    err = to_deploy_error(engine("", stdout))
    assert err.kind == "vault-unreachable"
    assert "VAULT_ADDR" in (err.hint or "")
    assert "Kubernetes" not in err.message


def test_a_file_permission_error_is_not_a_vault_refusal() -> None:
    # A stack with Vault resources has "vault" in every progress line; that is not enough.
    stdout = (
        "  vault:index/policy:Policy (ai-platform-trainer):\n"
        "  kubernetes:core/v1:Namespace (ai-data-pipeline):\n"
        "    error: open /home/u/.pulumi/plugins/lock: permission denied\n"
    )
    err = to_deploy_error(engine("", stdout))
    assert err.kind == "engine"
    assert "permission denied" in err.message


def test_cli_too_old_for_inline_destroy() -> None:
    exc = InvalidVersionError(
        "The installed version of the CLI does not support this operation. Please upgrade to at "
        "least version 3.181.0."
    )
    err = to_deploy_error(exc)
    assert err.kind == "cli-version"
    assert "3.181.0" in err.message
    assert INSTALL_URL in (err.hint or "")


def test_wrong_passphrase() -> None:
    err = to_deploy_error(engine("error: getting secrets manager: incorrect passphrase"))
    assert err.kind == "passphrase"


def test_missing_passphrase_message() -> None:
    err = missing_passphrase()
    assert "PULUMI_CONFIG_PASSPHRASE" in (err.hint or "")
    assert "--secrets-provider" in (err.hint or "")


def test_missing_environment_value() -> None:
    err = to_deploy_error(ResolveError("environment variable DB_PASSWORD is not set"))
    assert err.kind == "resolve"
    assert "DB_PASSWORD" in err.message


def test_spec_and_config_errors() -> None:
    diagnostic = error("SA100", "unknown key 'imagee'").located("spec.yaml", None)
    spec_error = SpecError(f"spec.yaml does not compile:\n{diagnostic.text()}", [diagnostic])
    assert "unknown key 'imagee'" in to_deploy_error(spec_error).message
    assert to_deploy_error(MissingGeneratedSecretError("x")).kind == "config"
    assert to_deploy_error(ConfigurationError("set VAULT_ADDR")).kind == "config"


def test_unknown_engine_failure_keeps_the_error_lines_only() -> None:
    stdout = "Updating (dev)\n  + 3 to create\n"
    err = to_deploy_error(engine("error: <{%fg 1%}>something broke<{%reset%}>", stdout))
    assert err.kind == "engine"
    assert "something broke" in err.message
    assert "<{%" not in err.message
    assert "Updating" not in err.message


def test_no_secret_in_any_message() -> None:
    cases: list[BaseException] = [
        engine(f"error: value {SECRET} rejected"),
        engine("", f"error: configured Kubernetes cluster is unreachable: token {SECRET}"),
        engine("", f"vault:index/policy:Policy: error: Code: 403. permission denied for {SECRET}"),
        engine(BACKEND_DOWN.replace("secureai-state", SECRET)),
        engine(f"{NO_BUCKET_LIST} {SECRET}"),
        engine(f"{DENIED} {SECRET}"),
        engine(f"error: problem logging in: {SECRET}"),
        RuntimeError(f"boom {SECRET}"),
        ValueError(f"could not convert string to float: '{SECRET}'"),
    ]
    for exc in cases:
        err = to_deploy_error(exc, secrets=[SECRET])
        assert SECRET not in err.text(), type(exc)


def test_redact_and_clean() -> None:
    assert redact("a hunter2-long b hunter-long", ["hunter-long", "hunter2-long"]) == "a [secret] b [secret]"
    assert redact("nothing", ["", "x" * 0]) == "nothing"
    assert clean("<{%bold%}>x<{%reset%}>" + "y" * 1000, limit=10) == "xyyyyyy..."


@pytest.mark.parametrize("short", ["a", "e", "pw", "1234567"])
def test_short_values_are_never_masked_letter_by_letter(short: str) -> None:
    """Replacing a short value inside text spells it out by elimination: withhold the text."""
    text = "error: resource default/trainer failed: deadline exceeded"
    assert redact(text, [short, "a-long-enough-secret"]) == WITHHELD
    err = to_deploy_error(engine(f"error: {text}"), secrets=[short])
    assert "[secret]" not in err.text() and "deadline" not in err.text()
    assert WITHHELD in err.text()


@pytest.mark.parametrize(
    "value", ['line one\nline two with "quotes"', "tab\there-and-more", "back\\slash-value"]
)
def test_values_are_masked_as_json_escapes_them(value: str) -> None:
    import json

    text = f"error: invalid manifest: {json.dumps({'data': value})}"
    assert value not in redact(text, [value])
    assert json.dumps(value)[1:-1] not in redact(text, [value])


@pytest.mark.parametrize(
    "exc",
    [
        RuntimeError("password=hunter2-very-secret"),
        KeyError("hunter2-very-secret"),
        UnicodeDecodeError("utf-8", b"hunter2-very-secret\xff", 19, 20, "invalid start byte"),
    ],
)
def test_unexpected_exception_text_is_never_printed(exc: BaseException) -> None:
    err = to_deploy_error(exc)  # even when the run does not know the value
    assert err.kind == "internal"
    assert err.message == f"internal error: {type(exc).__name__}"
    assert "hunter2" not in err.text()


def test_deploy_error_text() -> None:
    err = DeployError("it failed", hint="do this")
    assert str(err) == "it failed"
    assert err.text() == "error: it failed\n  hint: do this"
