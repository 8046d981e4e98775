"""The validator cache (secureai.model.prebuilt): a cached run answers exactly as a built one,
pydantic builds nothing else for any example, and only a file the user alone can write is
trusted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from secureai.model import prebuilt

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [*sorted((ROOT / "specs").glob("*.yaml")), ROOT / "specs" / "org" / "secureai.yaml"]
BAD = """\
version: 1
project: demo
kubernetes: { version: "1.30", clusterDsn: {} }
vault: { address: 3, provder: x }
secrets:
  s: { namespace: ns, data: { k: { fromEnv: 7 } } }
workloads:
  w:
    namespace: ns
    image: ghcr.io/acme/x:1
    replicas: "2"
    probes: { liveness: { httpGet: { port: -1 } } }
    tolerations: [{ key: k, operator: Sometimes }]
"""


def _validate(files: list[Path], cache: str) -> tuple[int, object]:
    env = {**os.environ, "SECUREAI_CACHE_DIR": cache, "HF_TOKEN": "x", "REGISTRY_AUTH_JSON": "{}"}
    argv = [sys.executable, "-m", "secureai", "validate", "-f", "json", *map(str, files)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    assert done.stderr == ""
    return done.returncode, json.loads(done.stdout)


def test_a_cached_run_answers_as_a_built_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    cache = tmp_path / "cache"
    for files in ([*EXAMPLES], [bad]):
        built = _validate(files, "off")
        first = _validate(files, str(cache))  # builds and stores
        cached = _validate(files, str(cache))
        assert first == built
        assert cached == built
    (entry,) = cache.iterdir()
    assert entry.name == f"validators-{prebuilt.cache_key()}.pickle"
    assert entry.stat().st_mode & 0o777 == 0o600
    assert cache.stat().st_mode & 0o777 == 0o700
    assert built[0] == 1 and len(built[1]["diagnostics"]) > 5  # type: ignore[index]


PROBE = """
import sys
from pathlib import Path
from pydantic import BaseModel
from secureai.model import prebuilt
from secureai.pipeline import compile_path
from secureai.posture import compute_posture
from secureai.render import render_files
for spec in sys.argv[1:]:
    result = compile_path(Path(spec), {"HF_TOKEN": "x", "REGISTRY_AUTH_JSON": "{}"})
    assert result.value is not None, spec
    render_files(result.value.plan)
    compute_posture(result.value.plan)

def every(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from every(sub)
built = sorted({m.__name__ for m in every(BaseModel) if m.__module__.startswith("secureai.")
               and m.__pydantic_complete__} - {m.__name__ for m in prebuilt.MODELS})
print(built)
"""


def test_pydantic_builds_no_other_model_for_any_example(tmp_path: Path) -> None:
    """Every model the stages use on their own is in MODELS, so a cached run builds none."""
    env = {**os.environ, "SECUREAI_CACHE_DIR": str(tmp_path)}
    argv = [sys.executable, "-c", PROBE, *map(str, EXAMPLES)]
    for _ in range(2):  # the first run stores the cache, the second uses it
        done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, check=True)
        assert done.stdout.strip().splitlines()[-1] == "[]"


def _stored(tmp_path: Path) -> Path:
    prebuilt.ensure_built()  # the classes are built in this process already, or now
    path = tmp_path / "cache" / "v.pickle"
    prebuilt._store(path)
    return path


def test_a_file_others_can_write_is_not_loaded(tmp_path: Path) -> None:
    path = _stored(tmp_path)
    assert prebuilt._install(path)
    path.chmod(0o620)
    assert not prebuilt._install(path)
    path.chmod(0o600)
    path.parent.chmod(0o777)
    assert not prebuilt._install(path)


def test_a_broken_or_foreign_file_is_ignored(tmp_path: Path) -> None:
    path = _stored(tmp_path)
    path.write_bytes(path.read_bytes()[:100])
    assert not prebuilt._install(path)
    path.write_bytes(b"not a pickle")
    assert not prebuilt._install(path)
    import pickle

    path.write_bytes(pickle.dumps([]))  # holds none of the models
    assert not prebuilt._install(path)


def test_an_unwritable_cache_costs_nothing_but_time(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    prebuilt._store(blocked / "v.pickle")  # its folder is a file: nothing written, no error
    assert blocked.read_text(encoding="utf-8") == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [("off", None), ("/x/y", Path("/x/y"))],
)
def test_the_cache_folder(value: str, expected: Path | None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECUREAI_CACHE_DIR", value)
    assert prebuilt.cache_dir() == expected


def test_the_default_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SECUREAI_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert prebuilt.cache_dir() == tmp_path / "secureai"


def test_a_new_entry_replaces_the_others(tmp_path: Path) -> None:
    prebuilt.ensure_built()
    stale = tmp_path / "validators-old.pickle"
    stale.write_bytes(b"from another pydantic")
    other = tmp_path / "engine"
    other.mkdir()
    prebuilt._store(tmp_path / "validators-new.pickle")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["engine", "validators-new.pickle"]
