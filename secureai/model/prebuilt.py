"""The spec's pydantic validators, built once per machine instead of once per run.

Generating pydantic's core schema for `Spec` and the sub-models the compiler uses takes about
40 ms, a fifth of a `secureai validate` run, and gives the same schema every time for the same
model source and pydantic. So the first run stores the schemas in the user's cache
(`$XDG_CACHE_HOME/secureai`, else `~/.cache/secureai`; `SECUREAI_CACHE_DIR` moves it, `off`
turns it off), and later runs build the validators from them in pydantic-core (about 5 ms),
the way Python keeps bytecode. The key covers Python, pydantic and pydantic-core's versions
and the bytes of every model module, so an edit or an upgrade makes a new entry.

The schemas are pickled (they hold the model classes and validator functions, by name). A
pickle runs code when loaded, so one is loaded only from a folder and a file that the user owns
and nobody else can write, like ssh's keys; anything else (missing, foreign, unreadable, from
another pydantic) is ignored and the validators are built the usual way. A failure here never
fails a run: the cache only saves time.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

import pydantic
import pydantic_core
from pydantic import BaseModel

from secureai.model.containers import FieldRef, ResourceFieldRef, Resources
from secureai.model.expect import Workloads
from secureai.model.health import Probe
from secureai.model.scheduling import Affinity, Toleration, TopologySpreadConstraint
from secureai.model.security import SecurityProfile
from secureai.model.spec import Spec
from secureai.model.storage import EmptyDir
from secureai.model.target import ClusterDns
from secureai.model.vault import VaultSettings
from secureai.model.vault_delivery import AgentOptions, VaultFile

# Spec, and the sub-models the stages use on their own (defaults they construct, parts the
# compiler dumps): pydantic would build each of these again from scratch on first use. A test
# holds the list complete for every example.
MODELS: tuple[type[BaseModel], ...] = (
    Spec,
    Affinity,
    AgentOptions,
    ClusterDns,
    EmptyDir,
    FieldRef,
    Probe,
    ResourceFieldRef,
    Resources,
    SecurityProfile,
    Toleration,
    TopologySpreadConstraint,
    VaultFile,
    VaultSettings,
    Workloads,
)
_PLAIN_VALIDATOR_SER = "PlainValidator.__get_pydantic_core_schema__.<locals>.<lambda>"
_done = False


def ensure_built() -> None:
    """Give MODELS their validators: from the cache when it holds them, else built and stored."""
    global _done
    if _done:
        return
    _done = True
    if all(m.__pydantic_complete__ for m in MODELS):
        return
    folder = cache_dir()
    path = folder / f"validators-{cache_key()}.pickle" if folder else None
    if path is not None and _install(path):
        return
    for model in MODELS:
        model.model_rebuild()
    if path is not None:
        _store(path)


def cache_dir() -> Path | None:
    chosen = os.environ.get("SECUREAI_CACHE_DIR")
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "secureai"


def cache_key() -> str:
    """Versions, and every module of the model: what the schemas are made from. (Validator
    functions are stored by name, so the code they call elsewhere is not part of a schema.)"""
    digest = hashlib.sha256()
    for part in (sys.version, pydantic.VERSION, pydantic_core.__version__):
        digest.update(part.encode() + b"\0")
    for module in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(module.name.encode() + b"\0")
        digest.update(module.read_bytes())
    return digest.hexdigest()[:32]


def _install(path: Path) -> bool:
    """Install the stored validators; False when there are none we may trust."""
    try:
        with open(path, "rb") as handle:
            if not (_trusted(os.fstat(handle.fileno())) and _trusted(os.stat(path.parent))):
                return False
            entries = pickle.load(handle)
        built = [(model, schema, *_built(schema, config)) for model, schema, config in entries]
    except Exception:  # a stale or broken cache entry only costs the build
        return False
    if {model for model, *_ in built} != set(MODELS):
        return False
    for model, schema, validator, serializer in built:
        model.__pydantic_core_schema__ = schema
        model.__pydantic_validator__ = validator
        model.__pydantic_serializer__ = serializer
        model.__pydantic_complete__ = True
    return True


def _built(schema: Any, config: Any) -> tuple[Any, Any]:
    return pydantic_core.SchemaValidator(schema, config), pydantic_core.SchemaSerializer(schema, config)


def _trusted(info: os.stat_result) -> bool:
    """Owned by this user and writable by nobody else (the checks ssh makes of its keys)."""
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        # pydantic's PlainValidator serializes with a local `lambda v, h: h(v)`, which pickle
        # cannot name; this module's `_handled` is the same function.
        if getattr(obj, "__qualname__", None) == _PLAIN_VALIDATOR_SER:
            return _handled_by_name, ()
        return NotImplemented


def _handled(value: Any, handler: Any) -> Any:
    return handler(value)


def _handled_by_name() -> Any:
    return _handled


def _store(path: Path) -> None:
    """Write the schemas atomically (a temporary file renamed), readable by this user only."""
    entries = [(m, m.__pydantic_core_schema__, _core_config(m)) for m in MODELS]
    try:
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(entries)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _trusted(os.stat(path.parent)):
            return
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".validators-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(buffer.getvalue())
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        for stale in path.parent.glob("validators-*.pickle"):
            if stale != path:  # another version's or source's: keep one entry, not one per edit
                stale.unlink(missing_ok=True)
    except Exception:  # an unwritable cache (read-only home, CI) only costs time
        return


def _core_config(model: type[BaseModel]) -> Any:
    """The core config pydantic built the model's validator with (its title included)."""
    from pydantic._internal._config import ConfigWrapper

    return ConfigWrapper(model.model_config).core_config(title=model.__name__)
