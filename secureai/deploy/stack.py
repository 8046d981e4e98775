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

import errno
import inspect
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

from secureai.compile.plan import Plan
from secureai.deploy.errors import DeployError, missing_passphrase
from secureai.pulumi.component import (
    CONFIG_NAMESPACE,
    generated_config_key,
    generated_refs,
    legacy_generated_config_key,
)
from secureai.resolve import VaultReader, generate

COMPONENT_NAME = "secureai"  # part of every URN: changing it would replace every resource
STATE_DIR = Path("~/.secureai/state")
WORKSPACE_DIR = Path("~/.secureai/workspaces")
PASSPHRASE = "PULUMI_CONFIG_PASSPHRASE"
PASSPHRASE_FILE = "PULUMI_CONFIG_PASSPHRASE_FILE"
BACKEND_URL = "PULUMI_BACKEND_URL"
# Pulumi's rule for a stack name, or for each part of `org/project/stack`.
_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}(?:/[A-Za-z0-9_.-]{1,100}){0,2}$")
# Every `pulumi.automation.Stack` method run.py calls, with the keyword arguments it may pass.
# An SDK lacking one would fail with a TypeError or AttributeError half-way through a
# deployment (the Python SDK grew `refresh=` in 2024 and `preview_destroy` in 2025, later than
# pyproject's lower bound), so `local_stack` checks the installed SDK against this table first.
ENGINE_CALLS: Mapping[str, frozenset[str]] = {
    "preview": frozenset({"on_event", "color", "parallel", "refresh"}),
    "up": frozenset({"on_event", "color", "parallel", "refresh", "show_secrets"}),
    "preview_destroy": frozenset({"on_event", "color", "parallel", "refresh", "show_secrets"}),
    "destroy": frozenset({"on_event", "color", "parallel", "refresh", "show_secrets"}),
}


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


WorkspaceFactory = Callable[[StackRequest], StackLike]


def backend_url(options: DeployOptions, environ: Mapping[str, str]) -> str:
    """--backend, else PULUMI_BACKEND_URL, else a local file backend under ~/.secureai."""
    url = options.backend or environ.get(BACKEND_URL)
    return absolute_file_url(url) if url else f"file://{STATE_DIR.expanduser()}"


def absolute_file_url(url: str) -> str:
    """A `file://` URL with its path made absolute; other URLs unchanged.

    The CLI runs in the workspace directory, so a relative `file://./state` would put state
    somewhere else than where the user typed it, and `~` is expanded so that the directory
    can be created before the CLI needs it (it refuses a missing one).
    """
    path = local_state_dir(url)
    if path is None:
        return url
    _, sep, query = url.partition("?")
    return f"file://{path.absolute()}{sep}{query}"


def local_state_dir(url: str) -> Path | None:
    if not url.startswith("file://"):
        return None
    return Path(url.removeprefix("file://").partition("?")[0]).expanduser()


def stack_name(options: DeployOptions, plan: Plan) -> str:
    """--env, else the spec's environment; refused early when Pulumi would refuse it."""
    name = options.env or plan.environment
    if not _STACK_NAME.fullmatch(name):
        raise DeployError(
            f"invalid stack name {name!r}",
            hint="--env takes letters, digits, '-', '_' and '.' (up to 100), or org/project/stack",
            kind="usage",
        )
    return name


def credential_values(environ: Mapping[str, str]) -> list[str]:
    """The credentials in the environment, so that engine text can be redacted of them: the
    passphrase (also when it comes from a file) and the Vault token."""
    values = [environ.get(PASSPHRASE, ""), environ.get("VAULT_TOKEN", "")]
    if environ.get(PASSPHRASE_FILE):
        with suppress(OSError):  # passphrase_env reports an unreadable file
            values.append(read_passphrase_file(_passphrase_file(environ)))
    return [v for v in values if v]


def check_sdk(stack_class: type[Any]) -> None:
    """A clear error when the installed SDK lacks a method or argument run.py uses."""
    missing: list[str] = []
    for method, kwargs in ENGINE_CALLS.items():
        function = getattr(stack_class, method, None)
        if not callable(function):
            missing.append(f"Stack.{method}()")
            continue
        accepted = inspect.signature(function).parameters
        missing += [f"Stack.{method}({name}=...)" for name in sorted(kwargs) if name not in accepted]
    if missing:
        from importlib.metadata import version

        raise DeployError(
            f"the installed pulumi Python SDK ({version('pulumi')}) is too old: it has no "
            + ", ".join(missing),
            hint="upgrade it: pip install --upgrade pulumi (secureai is tested with pulumi 3.272)",
            kind="sdk-version",
        )


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
        path = _passphrase_file(environ)
        _check_passphrase_file(path)
        return {PASSPHRASE_FILE: str(path)}
    raise missing_passphrase()


def _passphrase_file(environ: Mapping[str, str]) -> Path:
    """Absolute: the CLI runs in the workspace directory, where a relative path points elsewhere."""
    return Path(environ[PASSPHRASE_FILE]).expanduser().absolute()


def kubeconfig_env(environ: Mapping[str, str]) -> dict[str, str]:
    """KUBECONFIG with each file made absolute, when it holds a relative one: the Kubernetes
    provider reads it in the workspace directory, not where the user set it."""
    value = environ.get("KUBECONFIG", "")
    files = value.split(os.pathsep)
    if all(not f or Path(f).expanduser().is_absolute() for f in files):
        return {}
    return {"KUBECONFIG": os.pathsep.join(str(Path(f).expanduser().absolute()) if f else f for f in files)}


MAX_PASSPHRASE_BYTES = 64 * 1024


def read_passphrase_file(path: Path) -> str:
    """The passphrase in `path`: a regular file only, read bounded, so `/dev/zero` cannot
    exhaust memory and a FIFO cannot hang the run; OSError for anything else."""
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(MAX_PASSPHRASE_BYTES + 1)
    finally:
        os.close(fd)
    if len(raw) > MAX_PASSPHRASE_BYTES:
        raise OSError(errno.EFBIG, "larger than 64 KiB, not a passphrase file", str(path))
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise OSError(errno.EINVAL, "not UTF-8 text", str(path)) from None


def _check_passphrase_file(path: Path) -> None:
    try:
        empty = not read_passphrase_file(path)
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
    # Absolute, as Pulumi.yaml's `main` names it and the CLI runs inside it.
    work_dir = Path(options.work_dir or WORKSPACE_DIR / plan.project).expanduser().absolute()
    return StackRequest(
        project=plan.project,
        stack=stack_name(options, plan),
        backend_url=url,
        work_dir=work_dir,
        secrets_provider=options.secrets_provider,
        program=program,
        # The backend goes both to Pulumi.yaml and the environment, so they cannot disagree.
        env_vars={**passphrase_env(options, environ), **kubeconfig_env(environ), BACKEND_URL: url},
    )


def local_stack(request: StackRequest) -> StackLike:
    """The real factory: a LocalWorkspace with an inline program (needs the pulumi CLI)."""
    from pulumi import automation as auto

    check_sdk(auto.Stack)
    request.work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    state_dir = local_state_dir(request.backend_url)
    if state_dir is not None:
        # The file backend does not create its directory: selecting a stack would fail.
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    settings = auto.ProjectSettings(
        name=request.project,
        runtime="python",
        # Left unset, the SDK writes the caller's working directory into Pulumi.yaml, which
        # then changes with every directory secureai runs from (noise in a shared work_dir).
        main=str(request.work_dir),
        backend=auto.ProjectBackend(url=request.backend_url),
    )
    opts = auto.LocalWorkspaceOptions(
        work_dir=str(request.work_dir),
        env_vars={**request.env_vars, **dynamic_provider_env(request.work_dir, request.env_vars)},
        secrets_provider=request.secrets_provider,
        project_settings=settings,
    )
    stack = auto.create_or_select_stack(
        request.stack, project_name=request.project, program=request.program, opts=opts
    )
    return cast(StackLike, stack)


DYNAMIC_PROVIDER = "pulumi-resource-pulumi-python"
IGNORE_AMBIENT = "PULUMI_IGNORE_AMBIENT_PLUGINS"


def dynamic_provider_env(work_dir: Path, env_vars: Mapping[str, str]) -> dict[str, str]:
    """PATH for the pulumi child with a dynamic-provider host, when none is installed.

    The built-in Vault provider is a dynamic provider: the engine runs it through the
    executable `pulumi-resource-pulumi-python`, found next to the pulumi binary or on PATH. The
    official CLI ships one; a CLI built from Go modules does not. Then secureai writes its own
    into the work dir, running this interpreter's SDK host (the same SDK that pickled the
    provider) through `secureai.pulumi.dynamic_host`, and puts it first on the child's PATH only.
    """
    path = env_vars.get("PATH", os.environ.get("PATH", ""))
    pulumi = shutil.which("pulumi", path=path)
    beside = Path(pulumi).resolve().parent / DYNAMIC_PROVIDER if pulumi else None
    if shutil.which(DYNAMIC_PROVIDER, path=path) or (beside is not None and beside.exists()):
        return {}
    bin_dir = work_dir / ".secureai-bin"
    bin_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    script = bin_dir / DYNAMIC_PROVIDER
    text = f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -u -m secureai.pulumi.dynamic_host "$@"\n'
    if not script.exists() or script.read_text(encoding="utf-8") != text:
        script.write_text(text, encoding="utf-8")
    script.chmod(0o700)
    env = {"PATH": os.pathsep.join([str(bin_dir), path])}
    ignore = env_vars.get(IGNORE_AMBIENT, os.environ.get(IGNORE_AMBIENT, ""))
    if ignore.strip().lower() not in ("", "0", "false"):
        # The engine looks on PATH for a plugin only when ambient plugins are allowed, and the
        # host cannot go into the plugin cache (`pulumi plugin install` refuses bundled ones).
        env[IGNORE_AMBIENT] = "false"
    return env


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
        legacy = config.get(f"{CONFIG_NAMESPACE}:{legacy_generated_config_key(ref)}")
        stored = config.get(key)
        if stored is not None and getattr(stored, "value", None):
            values[ref] = stored.value
            continue
        if legacy is not None and getattr(legacy, "value", None):
            values[ref] = legacy.value  # a stack from before readable keys keeps its value
            continue
        values[ref] = generate(secret.length or 32, secret.charset or "alphanumeric")
        set_secret_config(stack, key, values[ref], ConfigValue)
    return values


def set_secret_config(stack: StackLike, key: str, value: str, config_value: Any) -> None:
    """Store `value` as secret stack config without putting it on a command line.

    The Automation API's `set_config` runs `pulumi config set KEY -- VALUE`, which every user
    of the machine can read in the process list. The CLI reads the value from standard input
    when that is not a terminal, so for a real workspace the value goes down a pipe; the
    child's arguments and environment hold only the key and what the workspace always passes.
    Other `StackLike`s (test doubles) run no child process and get `set_config`.
    """
    workspace = getattr(stack, "workspace", None)
    command = getattr(getattr(workspace, "pulumi_command", None), "command", None)
    if workspace is None or not isinstance(command, str):
        stack.set_config(key, config_value(value=value, secret=True))
        return
    import subprocess

    from pulumi.automation import CommandResult
    from pulumi.automation import errors as auto_errors

    env = {**os.environ}
    if getattr(workspace, "pulumi_home", None):
        env["PULUMI_HOME"] = str(workspace.pulumi_home)
    env.update(getattr(workspace, "env_vars", None) or {})
    env["PULUMI_AUTOMATION_API"] = "true"
    if os.path.isabs(command):
        env["PATH"] = os.pathsep.join([os.path.dirname(command), env.get("PATH", "")])
    args = [command, "--non-interactive", "config", "set", key, "--secret", "--stack", stack.name]
    done = subprocess.run(
        args, input=value, cwd=workspace.work_dir, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        result = CommandResult(stdout=done.stdout, stderr=done.stderr, code=done.returncode)
        raise auto_errors.create_command_error(result)
