"""Secret value sources are usable: files exist, env is set (or warned), literals opted in.

Messages name the source (variable, file), never a value.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from secureai.diagnostics import Diagnostic, SpecPath, error, warning
from secureai.model.spec import Spec, ValueSource

_SHELL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def value_sources(spec: Spec) -> Iterator[tuple[SpecPath, ValueSource]]:
    for name, secret in spec.secrets.items():
        for key, source in secret.data.items():
            yield ("secrets", name, "data", key), source
    for path, vsecret in spec.vault_secrets.items():
        for key, value in vsecret.data.items():
            if isinstance(value, ValueSource):
                yield ("vaultSecrets", path, "data", key), value


# Words of a key name (`db_password`, `hfToken`, `API-KEY`) that say the value is a credential
# rather than a parameter; whole words, so `tokenizer` or `max_tokens` are parameters.
_CREDENTIAL_WORDS = {"password", "passwd", "passphrase", "secret", "token", "credential", "credentials"}
_CREDENTIAL_PAIRS = {("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key")}
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def names_a_credential(key: str) -> bool:
    words = [w.lower() for w in _WORD.findall(key)]
    return bool(_CREDENTIAL_WORDS & set(words)) or bool(_CREDENTIAL_PAIRS & set(itertools.pairwise(words)))


def written_secrets(spec: Spec) -> list[Diagnostic]:
    """The one rule for values written in the spec (they are in Git): a *secret* written there
    needs the opt-in beside it, `{ literal: ..., allowPlaintext: true }`, in `secrets` and
    `vaultSecrets` alike (SA122, SA123). `vaultSecrets` also holds parameters (learning rates,
    flags, names), written plainly and typed; a plain value under a key that names a credential
    is taken for a secret written without the opt-in."""
    out: list[Diagnostic] = []
    for path, vsecret in spec.vault_secrets.items():
        for key, value in vsecret.data.items():
            if isinstance(value, str) and names_a_credential(key):
                out.append(
                    warning(
                        "SA104",
                        f"vaultSecrets.{path}.data.{key}: a plain value under a key that names a "
                        "credential; a secret written in the spec needs the opt-in",
                        ("vaultSecrets", path, "data", key),
                        hint="take it from fromEnv, fromFile, generate or fromVault, or write "
                        "{ literal: ..., allowPlaintext: true } if plain text is meant",
                    )
                )
    return out


def check_values(spec: Spec, base_dir: Path, environ: Mapping[str, str]) -> list[Diagnostic]:
    out: list[Diagnostic] = [*written_secrets(spec)]
    for path, source in value_sources(spec):
        out.extend(_check_source(path, source, base_dir, environ))
        if source.from_vault is not None and spec.vault is None:
            out.append(
                error(
                    "SA300",
                    f"{'.'.join(map(str, path))}: comes from Vault, but the spec has no 'vault' section",
                    (*path, "fromVault"),
                    hint="add 'vault: {}' to use the defaults",
                )
            )
    return out


def _check_source(
    path: SpecPath, source: ValueSource, base_dir: Path, environ: Mapping[str, str]
) -> list[Diagnostic]:
    where = ".".join(str(p) for p in path)
    if source.from_file is not None:
        file = base_dir / source.from_file
        try:
            regular = file.is_file()
            problem = "is not a regular file" if file.exists() else "does not exist"
        except OSError as exc:  # a name longer than the system allows, a symlink loop
            regular, problem = False, f"cannot be looked up ({exc.strerror or type(exc).__name__})"
        if not regular:
            return [
                error(
                    "SA120",
                    f"{where}: file '{source.from_file}' {problem} (paths are relative to the spec file)",
                    (*path, "fromFile"),
                )
            ]
    if source.from_env is not None and source.from_env not in environ:
        # A name no shell could export is more likely the secret itself, pasted in the wrong
        # field: say where it is written instead of repeating it.
        variable = source.from_env if _SHELL_NAME.fullmatch(source.from_env) else "named in 'fromEnv'"
        return [
            warning(
                "SA121",
                f"{where}: environment variable {variable} is not set",
                (*path, "fromEnv"),
                hint="set it where secureai preview/apply runs; validate does not need it",
            )
        ]
    if source.literal is not None:
        if not source.allow_plaintext:
            return [
                error(
                    "SA122",
                    f"{where}: a literal secret value needs 'allowPlaintext: true'",
                    (*path, "literal"),
                    hint="prefer fromEnv, fromFile, generate or fromVault",
                )
            ]
        return [
            warning(
                "SA123",
                f"{where}: secret value is stored in plain text in the spec",
                (*path, "literal"),
                hint="fine for a throw-away dev cluster only",
            )
        ]
    if source.allow_plaintext:
        return [
            warning(
                "SA124",
                f"{where}: 'allowPlaintext' has no effect without 'literal'",
                (*path, "allowPlaintext"),
            )
        ]
    return []
