"""Compose a root spec and the files it includes into one document, and check who declares what.

A root spec (the platform team's) lists its parts under `include`, each with the namespaces
and Vault paths its files may declare in:

    include:
      - { files: teams/ml.yaml, owns: [ml-*], vaultPaths: [ml/*] }

A part holds only the sections that name things (`namespaces`, `secrets`, `workloads`, ...);
what the whole organisation shares (version, project, target, Vault settings, security
profiles) is the root's. Entries are merged by name into one document whose source map
remembers, for each entry, the file that declared it, so every later diagnostic names the
right file and position. Composition errors (a missing file, a cycle, a second declaration,
a declaration outside what the part owns) stop the pipeline at the load stage, before the
model sees a half-composed spec.

The raw data is read leniently here: a malformed `include` entry is skipped and reported by
the model with its position, as any other field.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from secureai.diagnostics import Diagnostic, Position, Result, SpecPath, error, misspelling_of, quoted_list
from secureai.loader.sourcemap import SourceMap

# The sections a part may hold: each is a mapping of named entries.
SECTIONS = (
    "namespaces",
    "secrets",
    "configMaps",
    "vaultSecrets",
    "workloads",
    "network",
    "access",
    "expect",
)
# What the organisation shares: set once, in the root.
ROOT_ONLY = ("version", "project", "environment", "kubernetes", "vault", "securityProfiles", "include")


@dataclass(frozen=True)
class Grant:
    """One `include` entry as the root wrote it: what its files may declare."""

    index: int
    owns: tuple[str, ...]
    vault_paths: tuple[str, ...]
    allow_outside_root: bool

    def owns_namespace(self, namespace: str) -> bool:
        return any(fnmatchcase(namespace, p) for p in self.owns)

    def owns_vault_path(self, path: str) -> bool:
        return any(fnmatchcase(path, p) for p in self.vault_paths)


class Sources(SourceMap):
    """The source map of a composed spec: the root's, plus the part that declared each entry."""

    def __init__(self, root: SourceMap) -> None:
        super().__init__(root.file, root.values, root.keys, root.aliases, root.merged_from, root.blocks)
        self.parts: dict[tuple[str, str], SourceMap] = {}
        self.files: list[str] = [root.file]

    def source_of(self, path: SpecPath) -> SourceMap | None:
        """The part that declared the entry `path` lies in; None for the root."""
        if len(path) >= 2 and isinstance(path[0], str) and isinstance(path[1], str):
            return self.parts.get((path[0], path[1]))
        return None

    def locate(self, path: SpecPath, *, key: bool = False) -> Position | None:
        part = self.source_of(path)
        return part.locate(path, key=key) if part else super().locate(path, key=key)

    def place(self, path: SpecPath, *, key: bool = False) -> tuple[str, Position | None]:
        part = self.source_of(path)
        return (part.file, part.locate(path, key=key)) if part else super().place(path, key=key)


Loader = Callable[[Path, str], Result[Any]]
"""Loads one file: (path to read, name to show) -> Result[Document]."""


def compose(document: Any, root_path: Path | None, load: Loader) -> Result[Any]:
    """The root `document` with every included part merged in (a `Document` again).

    `root_path` is the root's file (None for standard input: its includes are relative to the
    working directory and none can be the root itself).
    """
    from secureai.loader import Document  # the package imports this module

    entries = document.data.get("include")
    if not isinstance(entries, list) or not entries:
        return Result(document, [])
    shown_dir = os.path.dirname(document.source_map.file) if root_path is not None else ""
    root_dir = Path(shown_dir or ".").resolve()
    root_real = root_path.resolve() if root_path is not None else None
    sources = Sources(document.source_map)
    merged = _copy_sections(document.data)
    declared: dict[tuple[str, str], SourceMap] = {
        (section, name): document.source_map
        for section in SECTIONS
        if isinstance(merged.get(section), dict)
        for name in merged[section]
        if isinstance(name, str)
    }
    found: list[Diagnostic] = []
    included: dict[Path, int] = {}
    for index, entry in enumerate(entries):
        grant = _grant(index, entry)
        if grant is None:
            continue  # the model reports the entry's shape
        pattern: str = entry["files"]
        at: SpecPath = ("include", index, "files")
        matches = _matches(shown_dir, pattern)
        if not matches:
            found.append(_no_match(document.source_map, at, pattern))
            continue
        for shown in matches:
            real = Path(shown).resolve()
            if real == root_real:
                found.append(
                    _at(
                        document.source_map,
                        at,
                        "SA012",
                        f"include cycle: '{pattern}' matches the root spec itself",
                        "name the parts' files or folder (teams/*.yaml), not a pattern that matches the root",
                    )
                )
                continue
            if not grant.allow_outside_root and not real.is_relative_to(root_dir):
                found.append(
                    _at(
                        document.source_map,
                        at,
                        "SA014",
                        f"'{shown}' is outside the root spec's directory",
                        "move it below the root's directory, or set allowOutsideRoot: true on this "
                        "entry if a file elsewhere is meant to shape this posture",
                    )
                )
                continue
            if real in included:
                found.append(
                    _at(
                        document.source_map,
                        at,
                        "SA013",
                        f"'{shown}' is included twice: also by include[{included[real]}]",
                        "a file belongs to one entry: its owner is then unambiguous",
                    )
                )
                continue
            included[real] = index
            loaded = load(Path(shown), shown)
            # Read, even when empty or broken: a folder walk must not check it again on its own.
            sources.files.append(shown)
            if loaded.value is None and _empty(loaded.diagnostics):
                continue  # a team's file with nothing in it yet declares nothing
            found.extend(loaded.diagnostics)
            if loaded.value is None:
                continue
            found.extend(
                _merge(loaded.value, grant, merged, sources, declared, _relative_dir(real.parent, root_dir))
            )
    return Result(Document(merged, sources, document.base_dir, [Path(f) for f in sources.files[1:]]), found)


def _empty(diagnostics: list[Diagnostic]) -> bool:
    """The loader's only complaint is that the file is empty (or only comments)."""
    return len(diagnostics) == 1 and diagnostics[0].code == "SA002" and "is empty" in diagnostics[0].message


def _copy_sections(data: dict[str, Any]) -> dict[str, Any]:
    """The root's data with its sections copied, so merging never changes the root's own."""
    out = dict(data)
    for section in SECTIONS:
        if isinstance(out.get(section), dict):
            out[section] = dict(out[section])
    return out


def _grant(index: int, entry: Any) -> Grant | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("files"), str):
        return None
    owns = entry.get("owns")
    vault = entry.get("vaultPaths", [])
    if not isinstance(owns, list) or not isinstance(vault, list):
        return None
    return Grant(
        index,
        tuple(str(p) for p in owns),
        tuple(str(p) for p in vault),
        entry.get("allowOutsideRoot") is True,
    )


def _matches(shown_dir: str, pattern: str) -> list[str]:
    """The files `pattern` names, as the user would write them (below the root's directory)."""
    joined = os.path.join(shown_dir, pattern)
    if not glob.has_magic(pattern):
        return [joined] if os.path.lexists(joined) else []
    return sorted(p for p in glob.glob(joined, recursive=True) if os.path.isfile(p))


def _no_match(smap: SourceMap, at: SpecPath, pattern: str) -> Diagnostic:
    if glob.has_magic(pattern):
        return _at(smap, at, "SA011", f"'{pattern}' matches no file", "check the pattern against the folder")
    hint = "paths are relative to the root spec"
    return _at(smap, at, "SA010", f"included file '{pattern}' does not exist", hint)


def _relative_dir(folder: Path, root_dir: Path) -> str:
    try:
        return folder.relative_to(root_dir).as_posix()
    except ValueError:
        return folder.as_posix()


def _merge(
    part: Any,
    grant: Grant,
    merged: dict[str, Any],
    sources: Sources,
    declared: dict[tuple[str, str], SourceMap],
    relative_dir: str,
) -> list[Diagnostic]:
    smap: SourceMap = part.source_map
    found: list[Diagnostic] = []
    for section, value in part.data.items():
        if section in ROOT_ONLY:
            found.append(
                _at(
                    smap,
                    (section,),
                    "SA015",
                    f"'{section}' is set by the root spec ({sources.file}), not by an included file",
                    f"an included file declares only: {', '.join(SECTIONS)}",
                    key=True,
                )
            )
            continue
        if section not in SECTIONS:
            meant = misspelling_of(str(section), SECTIONS)
            slip = f" (did you mean '{meant}'?)" if meant else ""
            found.append(
                _at(
                    smap,
                    (section,),
                    "SA101",
                    f"spec: unknown field '{section}' in an included file{slip}",
                    f"an included file declares only: {', '.join(SECTIONS)}",
                    key=True,
                )
            )
            continue
        if not isinstance(value, dict):
            found.append(_at(smap, (section,), "SA100", f"{section}: expected a mapping"))
            continue
        target = merged.setdefault(section, {})
        if not isinstance(target, dict):
            continue  # the root's own section is malformed: the model says so
        for name, entry in value.items():
            if not isinstance(name, str):
                continue
            path = (section, name)
            first = declared.get(path)
            if first is not None:
                where = first.locate(path, key=True)
                at = f"{first.file}:{where.line}:{where.column}" if where else first.file
                found.append(
                    _at(
                        smap,
                        path,
                        "SA017",
                        f"{section}.{name}: declared twice: here and at {at}",
                        "one file declares each entry; reference it from the others",
                        key=True,
                    )
                )
                continue
            denied = _not_owned(section, name, entry, grant)
            if denied is not None:
                where_path, message = denied
                found.append(
                    _at(
                        smap,
                        (*path, *where_path),
                        "SA016",
                        f"{section}.{name}: {message}",
                        _owns_hint(grant, sources.file),
                        key=not where_path,
                    )
                )
                continue
            if relative_dir not in ("", ".") and section in ("secrets", "vaultSecrets"):
                entry = _rebased(entry, relative_dir)
            target[name] = entry
            declared[path] = smap
            sources.parts[path] = smap
    return found


def _owns_hint(grant: Grant, root: str) -> str:
    owns = quoted_list(list(grant.owns))
    vault = quoted_list(list(grant.vault_paths)) if grant.vault_paths else "none"
    return (
        f"include[{grant.index}] of {root} owns namespaces {owns} and Vault paths {vault}; "
        "declare it in the file that owns it, or in the root spec"
    )


def _not_owned(section: str, name: str, entry: Any, grant: Grant) -> tuple[SpecPath, str] | None:
    """Where an entry steps outside what its file owns, and how; None when it does not."""
    if section == "expect":
        return None  # an assertion opens nothing
    if section == "namespaces":
        if not grant.owns_namespace(name):
            return (), f"namespace '{name}' is not owned by this file"
        guardrails = sorted(k for k in entry if k != "labels") if isinstance(entry, dict) else []
        if guardrails:
            # A namespace's Pod Security level, network default, image policy and quota are the
            # guardrails its owner works within: a team file that set them could loosen them.
            return (guardrails[0],), (
                f"'{guardrails[0]}' is a guardrail the root spec sets; a team's file declares its "
                "namespaces with the secure defaults (and labels), or the root declares the namespace"
            )
        return None
    if section == "vaultSecrets":
        if grant.owns_vault_path(name):
            return None
        return (), f"Vault path '{name}' is not owned by this file"
    if not isinstance(entry, dict):
        return None  # the model reports the shape
    if section == "access" and entry.get("clusterWide") is True:
        return ("clusterWide",), "cluster-wide access is granted by the root spec only"
    if section == "network":
        return _network_not_owned(entry, grant)
    namespace = entry.get("namespace")
    if isinstance(namespace, str) and not grant.owns_namespace(namespace):
        return ("namespace",), f"namespace '{namespace}' is not owned by this file"
    for where, path in _vault_reads(section, entry):
        if not grant.owns_vault_path(path):
            return where, (
                f"reads Vault path '{path}', which this file does not own; a read of another "
                "team's path is granted in the root spec or by a vaultPaths entry there"
            )
    return None


def _vault_reads(section: str, entry: dict[str, Any]) -> list[tuple[SpecPath, str]]:
    """The Vault paths (and grants) an entry makes its pods or Secrets read, with where."""
    found: list[tuple[SpecPath, str]] = []
    if section == "workloads" and isinstance(entry.get("vault"), dict):
        reads = entry["vault"].get("read")
        for i, grant in enumerate(reads if isinstance(reads, list) else []):
            if isinstance(grant, str):
                found.append((("vault", "read", i), grant))
    if section == "secrets" and isinstance(entry.get("data"), dict):
        for key, value in entry["data"].items():
            ref = value.get("fromVault") if isinstance(value, dict) else None
            if isinstance(ref, dict) and isinstance(ref.get("path"), str):
                found.append((("data", key, "fromVault", "path"), ref["path"]))
    return found


def _network_not_owned(rule: dict[str, Any], grant: Grant) -> tuple[SpecPath, str] | None:
    """A part's flow stays between namespaces it owns: a flow to or from another team's
    namespace opens that team's pods, so it is the root's (the platform team's) to declare."""
    namespace = rule.get("namespace")
    if isinstance(namespace, str) and not grant.owns_namespace(namespace):
        return ("namespace",), f"namespace '{namespace}' is not owned by this file"
    for side in ("from", "to"):
        peers = rule.get(side)
        for i, peer in enumerate(peers if isinstance(peers, list) else []):
            if not isinstance(peer, dict):
                continue
            if "namespaceLabels" in peer:
                return (side, i, "namespaceLabels"), (
                    "a flow to namespaces chosen by label may reach other teams' namespaces; "
                    "it is declared in the root spec"
                )
            other = peer.get("namespace")
            if isinstance(other, str) and not grant.owns_namespace(other):
                return (side, i, "namespace"), (
                    f"a flow with namespace '{other}', which this file does not own, "
                    "is declared in the root spec"
                )
    return None


def _rebased(entry: Any, relative_dir: str) -> Any:
    """A secret whose `fromFile` paths are relative to the part's folder, made relative to the
    root's (where values are read from): a team writes paths as seen from its own file."""
    if not isinstance(entry, dict) or not isinstance(entry.get("data"), dict):
        return entry
    data = {}
    for key, value in entry["data"].items():
        source = value.get("fromFile") if isinstance(value, dict) else None
        if isinstance(source, str) and source and not os.path.isabs(source):
            value = {**value, "fromFile": f"{relative_dir}/{source}"}
        data[key] = value
    return {**entry, "data": data}


def _at(
    smap: SourceMap,
    path: SpecPath,
    code: str,
    message: str,
    hint: str | None = None,
    *,
    key: bool = False,
) -> Diagnostic:
    return error(code, message, path=path, hint=hint).located(smap.file, smap.locate(path, key=key))
