"""Vault usage is declared: a vault section exists, read grants name declared paths."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

from secureai.diagnostics import Diagnostic, did_you_mean, error, warning
from secureai.model.spec import Spec


def grant_regex(grant: str) -> re.Pattern[str]:
    """Vault's policy glob: `+` is one segment, a trailing `*` is any suffix."""
    star = grant.endswith("*")
    body = grant[:-1] if star else grant
    parts = [r"[^/]+" if seg == "+" else re.escape(seg) for seg in body.split("/")]
    return re.compile("/".join(parts) + (".*" if star else "") + "$")


def check_vault(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for path in spec.vault_secrets:
        if path.startswith(("data/", "metadata/")) or (
            spec.vault and path.startswith(f"{spec.vault.kv_mount}/")
        ):
            out.append(
                error(
                    "SA303",
                    f"vault secret '{path}': write the logical path; secureai adds the "
                    "mount and the KV v2 'data/' prefix itself",
                    ("vaultSecrets", path),
                )
            )
    if spec.vault_secrets and spec.vault is None:
        out.append(
            error(
                "SA300",
                "the spec declares vaultSecrets but has no 'vault' section",
                ("vaultSecrets",),
                hint="add 'vault: {}' to use the defaults",
            )
        )
    declared = _Declared(spec.vault_secrets)
    for name, w in spec.workloads.items():
        if w.vault is None:
            continue
        if spec.vault is None:
            out.append(
                error(
                    "SA300",
                    f"workload '{name}' reads Vault, but the spec has no 'vault' section",
                    ("workloads", name, "vault"),
                    hint="add 'vault: {}' to use the defaults",
                )
            )
        for index, grant in enumerate(w.vault.read):
            out.extend(_grant(spec, name, grant, ("workloads", name, "vault", "read", index), declared))
    return out


class _Declared:
    """The declared Vault paths, sorted once, to ask whether a wildcard grant matches any:
    only the paths that start with the grant's literal head are tried, and each distinct grant
    is answered once (workloads often share their grants)."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = sorted(paths)
        self._matched: dict[str, bool] = {}

    def any_matched_by(self, grant: str) -> bool:
        if grant not in self._matched:
            head = re.split(r"[*+]", grant, maxsplit=1)[0]
            pattern = grant_regex(grant)
            found = False
            for path in self.paths[bisect.bisect_left(self.paths, head) :]:
                if not path.startswith(head):
                    break
                if pattern.fullmatch(path):
                    found = True
                    break
            self._matched[grant] = found
        return self._matched[grant]


# One policy for every Vault path the spec does not declare, whether granted exactly, by
# wildcard, or read by fromVault (SA301, SA302, SA310): a warning, because another team or
# pipeline may write it; --strict makes it fail.
UNDECLARED_HINT = "fine if the secret is written outside this spec; otherwise fix the path"


def _grant(
    spec: Spec, workload: str, grant: str, path: tuple[str | int, ...], declared: _Declared
) -> list[Diagnostic]:
    if "*" not in grant and "+" not in grant:
        if grant in spec.vault_secrets:
            return []
        return [
            warning(
                "SA301",
                f"workload '{workload}' reads Vault path '{grant}' which is not declared in "
                f"vaultSecrets{did_you_mean(grant, spec.vault_secrets)}",
                path,
                hint=UNDECLARED_HINT,
            )
        ]
    if not declared.any_matched_by(grant):
        return [
            warning(
                "SA302",
                f"workload '{workload}' reads Vault paths '{grant}', which match no declared vaultSecrets",
                path,
                hint=UNDECLARED_HINT,
            )
        ]
    return []
