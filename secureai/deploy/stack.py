"""Select or create the Pulumi stack for a Plan: inline program, backend, secrets, config.

Everything that touches the Automation API's workspace goes through one `WorkspaceFactory`
(by default `local_stack`), so tests can hand in a fake stack and no code path needs the
`pulumi` CLI to be checked.

Where things live by default: state in a local file backend, `~/.secureai/state`; the
workspace (`Pulumi.yaml`, and `Pulumi.<stack>.yaml` holding stack config, i.e. the generated
secrets, encrypted) in `~/.secureai/workspaces/<project>`. The workspace must persist: an
inline program's default temporary directory would lose the generated secrets between runs
and regenerate them. A team sharing a remote backend should point `work_dir` at a directory
it shares (the encrypted config file is safe to commit).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

from secureai.compile.plan import Plan
from secureai.deploy.errors import DeployError, missing_passphrase
from secureai.pulumi.component import CONFIG_NAMESPACE, generated_config_key, generated_refs
from secureai.resolve import VaultReader, generate

COMPONENT_NAME = "secureai"  # part of every URN: changing it would replace every resource
STATE_DIR = Path("~/.secureai/state")
WORKSPACE_DIR = Path("~/.secureai/workspaces")
PASSPHRASE = "PULUMI_CONFIG_PASSPHRASE"
PASSPHRASE_FILE = "PULUMI_CONFIG_PASSPHRASE_FILE"
BACKEND_URL = "PULUMI_BACKEND_URL"


@dataclass(frozen=True)
class DeployOptions:
    """What the CLI passes down: flags and the environment to read settings from."""

    env: str | None = None  # --env: stack name, overrides the spec's environment
    backend: str | None = None  # --backend URL, else PULUMI_BACKEND_URL, else local files
    secrets_provider: str | None = None  # --secrets-provider; None means passphrase
    work_dir: str | os.PathLike[str] | None = None  # holds Pulumi.yaml and stack config
    environ: Mapping[str, str] | None = field(default=None, repr=False)  # None: os.environ
    expect_no_changes: bool = False  # preview: changes are drift
    parallel: int | None = None
    refresh: bool = False
    vault_reader: VaultReader | None = field(default=None, repr=False)

    def environment(self) -> dict[str, str]:
        return dict(os.environ if self.environ is None else self.environ)


@dataclass(frozen=True)
class StackRequest:
    """Everything needed to select or create one stack. `env_vars` may hold the passphrase,
    so it is kept out of repr."""

    project: str
    stack: str
    backend_url: str
    work_dir: Path
    secrets_provider: str | None
    program: Callable[[], None] = field(repr=False)
    env_vars: Mapping[str, str] = field(default_factory=dict, repr=False)


class StackLike(Protocol):
    """The part of `pulumi.automation.Stack` this package uses."""

    name: str

    def preview(self, **kwargs: Any) -> Any: ...
    def up(self, **kwargs: Any) -> Any: ...
    def preview_destroy(self, **kwargs: Any) -> Any: ...
    def destroy(self, **kwargs: Any) -> Any: ...
    def get_all_config(self) -> Mapping[str, Any]: ...
    def set_config(self, key: str, value: Any, *, path: bool = False) -> None: ...
    def cancel(self) -> None: ...


WorkspaceFactory = Callable[[StackRequest], StackLike]


def backend_url(options: DeployOptions, environ: Mapping[str, str]) -> str:
    """--backend, else PULUMI_BACKEND_URL, else a local file backend under ~/.secureai."""
    url = options.backend or environ.get(BACKEND_URL)
    return url or f"file://{STATE_DIR.expanduser()}"


def passphrase_env(options: DeployOptions, environ: Mapping[str, str]) -> dict[str, str]:
    """The passphrase variable to hand to the CLI; a clear error when there is none.

    An empty passphrase is refused even though Pulumi accepts one: it encrypts nothing.
    """
    if options.secrets_provider not in (None, "passphrase"):
        return {}
    if PASSPHRASE in environ:
        if not environ[PASSPHRASE]:
            raise DeployError(
                f"{PASSPHRASE} is set but empty; an empty passphrase does not protect secrets",
                hint=f"set a real passphrase, or unset it and use {PASSPHRASE_FILE}",
                kind="passphrase",
            )
        return {PASSPHRASE: environ[PASSPHRASE]}
    if environ.get(PASSPHRASE_FILE):
        _check_passphrase_file(Path(environ[PASSPHRASE_FILE]))
        return {PASSPHRASE_FILE: environ[PASSPHRASE_FILE]}
    raise missing_passphrase()


def _check_passphrase_file(path: Path) -> None:
    try:
        empty = not path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise DeployError(
            f"cannot read {PASSPHRASE_FILE} {path}: {exc.strerror or type(exc).__name__}",
            kind="passphrase",
        ) from None
    if empty:
        raise DeployError(f"{PASSPHRASE_FILE} {path} is empty", kind="passphrase")


def stack_request(plan: Plan, options: DeployOptions, program: Callable[[], None]) -> StackRequest:
    environ = options.environment()
    url = backend_url(options, environ)
    work_dir = Path(options.work_dir or WORKSPACE_DIR / plan.project).expanduser()
    return StackRequest(
        project=plan.project,
        stack=options.env or plan.environment,
        backend_url=url,
        work_dir=work_dir,
        secrets_provider=options.secrets_provider,
        program=program,
        # The backend goes both to Pulumi.yaml and the environment, so they cannot disagree.
        env_vars={**passphrase_env(options, environ), BACKEND_URL: url},
    )


def local_stack(request: StackRequest) -> StackLike:
    """The real factory: a LocalWorkspace with an inline program (needs the pulumi CLI)."""
    from pulumi import automation as auto

    request.work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if request.backend_url.startswith("file://"):
        Path(request.backend_url.removeprefix("file://")).expanduser().mkdir(
            parents=True, exist_ok=True, mode=0o700
        )
    settings = auto.ProjectSettings(
        name=request.project,
        runtime="python",
        backend=auto.ProjectBackend(url=request.backend_url),
    )
    opts = auto.LocalWorkspaceOptions(
        work_dir=str(request.work_dir),
        env_vars=dict(request.env_vars),
        secrets_provider=request.secrets_provider,
        project_settings=settings,
    )
    stack = auto.create_or_select_stack(
        request.stack, project_name=request.project, program=request.program, opts=opts
    )
    return cast(StackLike, stack)


def make_program(
    plan: Plan,
    options: DeployOptions,
    generated: Mapping[str, str],
    base_dir: Path | None,
) -> Callable[[], None]:
    """The inline Pulumi program: one SecuritySpec for the whole Plan."""

    def program() -> None:
        import pulumi

        from secureai.pulumi.component import SecuritySpec

        spec = SecuritySpec(
            COMPONENT_NAME,
            plan,
            environ=options.environment(),
            generated=generated,
            vault_reader=options.vault_reader,
            base_dir=base_dir,
        )
        pulumi.export("resources", sorted(spec.resources))
        pulumi.export("namespaces", spec.namespaces)

    return program


def ensure_generated_secrets(stack: StackLike, plan: Plan) -> dict[str, str]:
    """Generate each generated secret the stack's config lacks and store it there as a
    secret; return every generated value by ref (for the program, and for redaction)."""
    from pulumi.automation import ConfigValue

    wanted = generated_refs(plan)
    if not wanted:
        return {}
    config = stack.get_all_config()
    values: dict[str, str] = {}
    for ref, secret in wanted.items():
        key = f"{CONFIG_NAMESPACE}:{generated_config_key(ref)}"
        stored = config.get(key)
        if stored is not None and getattr(stored, "value", None):
            values[ref] = stored.value
            continue
        values[ref] = generate(secret.length or 32, secret.charset or "alphanumeric")
        stack.set_config(key, ConfigValue(value=values[ref], secret=True))
    return values
