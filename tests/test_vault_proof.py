"""Proof on a real OpenBao server: each generated policy reads exactly its workload's paths.

Every example spec with Vault content is compiled and rendered; the rendered artefacts are loaded
into the server as they are (policy HCL, KV data, auth-role JSON), then a token per policy (and
nothing else, not even `default`) must read each granted path, with values and types intact,
and be denied everything near it: a sibling, the parent, the metadata, writes, deletes, lists,
and every other workload's paths.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hvac  # type: ignore[import-untyped]
import pytest
import yaml
from hvac.exceptions import Forbidden  # type: ignore[import-untyped]
from vault_server import BaoServer, bao_fixture, vault_fixture  # noqa: F401  (fixtures)

from secureai.check.vault import grant_regex
from secureai.compile.naming import vault_policy_name
from secureai.compile.plan import SecretValue
from secureai.compile.vault import AUTH_ROLE
from secureai.pipeline import Compiled, compile_path
from secureai.render.vault import vault_files
from secureai.resolve import ResolveContext, ResolveError, resolve
from secureai.vaultio import vault_reader

# hvac's kv.patch reads with the old default itself; the warning is hvac's, not ours.
pytestmark = pytest.mark.filterwarnings("ignore:The raise_on_deleted_version:DeprecationWarning")

SPECS = Path(__file__).resolve().parent.parent / "specs"
GENERATED = "generated-test-value-0123456789abcdef"


class FakeEnviron(Mapping[str, str]):
    """Every variable is set, to a value naming it: the proof needs values, not real ones."""

    def __getitem__(self, name: str) -> str:
        return f"test-value-of-{name}"

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def has_vault_content(path: Path) -> bool:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    workloads = (data.get("workloads") or {}).values()
    return bool(data.get("vaultSecrets")) or any("vault" in (w or {}) for w in workloads)


VAULT_SPECS = sorted(p for p in SPECS.glob("*.yaml") if has_vault_content(p))


def compile_ok(path: Path) -> Compiled:
    result = compile_path(path, FakeEnviron())
    assert result.value is not None, [d.text() for d in result.diagnostics]
    return result.value


def reveal_for(compiled: Compiled) -> Any:
    ctx = ResolveContext(base_dir=compiled.base_dir, environ=FakeEnviron(), generated=_Generated())
    return lambda value: resolve(value, ctx)


class _Generated(Mapping[str, str]):
    def __getitem__(self, ref: str) -> str:
        return GENERATED

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


# ----------------------------------------------------------------------------- loading


@dataclass
class Loaded:
    compiled: Compiled
    tokens: dict[str, str]  # policy name -> token holding that policy only
    data: dict[tuple[str, str], dict[str, Any]]  # (mount, path) -> the data written

    @property
    def mount(self) -> str:
        assert self.compiled.spec.vault is not None
        mount: str = self.compiled.spec.vault.kv_mount
        return mount


def load(client: Any, compiled: Compiled) -> Loaded:
    """Write the rendered artefacts into the server exactly as rendered."""
    files = vault_files(compiled.plan, reveal_for(compiled))
    data = {}
    for name, text in files.items():
        kind, rest = name.split("/", 2)[1:]
        if kind == "policies":
            load_policy(client, rest.removesuffix(".hcl"), text)
        elif kind == "kv":
            mount, path = rest.removesuffix(".json").split("/", 1)
            data[(mount, path)] = load_kv(client, mount, path, text)
    for role in (r for r in compiled.plan.resources if r.type == AUTH_ROLE):
        name = role.properties["role_name"]
        load_role(client, role.properties["backend"], name, files[f"vault/auth-roles/{name}.json"])
    policies = [
        n.removeprefix("vault/policies/").removesuffix(".hcl")
        for n in files
        if n.startswith("vault/policies/")
    ]
    return Loaded(compiled, {p: mint(client, [p]) for p in policies}, data)


def load_policy(client: Any, name: str, text: str) -> None:
    client.sys.create_or_update_policy(name, text)
    assert client.sys.read_policy(name)["data"]["rules"] == text  # stored byte for byte


def load_kv(client: Any, mount: str, path: str, text: str) -> dict[str, Any]:
    if f"{mount}/" not in client.sys.list_mounted_secrets_engines()["data"]:
        client.sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
    data: dict[str, Any] = json.loads(text)
    client.secrets.kv.v2.create_or_update_secret(path=path, secret=data, mount_point=mount)
    return data


def load_role(client: Any, backend: str, name: str, text: str) -> None:
    if f"{backend}/" not in client.sys.list_auth_methods()["data"]:
        client.sys.enable_auth_method("kubernetes", path=backend)
    body = json.loads(text)
    client.write_data(f"auth/{backend}/role/{name}", data=body)
    # Vault ignores parameters it does not know; reading every one back proves none was.
    stored = client.read(f"auth/{backend}/role/{name}")["data"]
    assert {key: stored.get(key) for key in body} == body


def mint(client: Any, policies: list[str]) -> str:
    reply = client.auth.token.create(policies=policies, no_default_policy=True, ttl="10m")
    token: str = reply["auth"]["client_token"]
    return token


def as_token(bao: BaoServer, token: str) -> Any:
    return hvac.Client(url=bao.address, token=token)


# ----------------------------------------------------------------------------- what is granted


def grants_of(compiled: Compiled, workload: str) -> list[str]:
    settings = compiled.spec.workloads[workload].vault
    return list(settings.read) if settings else []


def granted(grants: list[str], path: str) -> bool:
    return any(grant_regex(g).match(path) for g in grants)


def readers(compiled: Compiled) -> list[str]:
    return [n for n, w in compiled.spec.workloads.items() if w.vault is not None]


def declared_paths_of(compiled: Compiled, workload: str) -> list[str]:
    grants = grants_of(compiled, workload)
    return [p for p in compiled.spec.vault_secrets if granted(grants, p)]


def same_typed(got: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    return got == want and all(type(got[k]) is type(want[k]) for k in want)


def read(client: Any, mount: str, path: str) -> dict[str, Any]:
    reply = client.secrets.kv.v2.read_secret_version(
        path=path, mount_point=mount, raise_on_deleted_version=True
    )
    data: dict[str, Any] = reply["data"]["data"]
    return data


def can_read(client: Any, mount: str, path: str) -> bool:
    return not denied(lambda: read(client, mount, path))


def denied(action: Any) -> bool:
    try:
        action()
    except Forbidden:
        return True
    return False


# ----------------------------------------------------------------------------- the proof


def assert_reads_exactly_its_paths(bao: BaoServer, root: Any, loaded: Loaded, workload: str) -> None:
    compiled, mount = loaded.compiled, loaded.mount
    grants = grants_of(compiled, workload)
    client = as_token(bao, loaded.tokens[vault_policy_name(compiled.spec, workload)])
    for path in declared_paths_of(compiled, workload):
        assert same_typed(read(client, mount, path), loaded.data[(mount, path)]), path
        for near in near_paths(path, grants):
            root.secrets.kv.v2.create_or_update_secret(path=near, secret={"k": "v"}, mount_point=mount)
            assert not can_read(client, mount, near), f"{workload} read {near}"
        assert_cannot_touch(client, mount, path, workload)
        assert same_typed(read(root, mount, path), loaded.data[(mount, path)])  # still intact
    for other in readers(compiled):
        for path in declared_paths_of(compiled, other):
            if not granted(grants, path):
                assert not can_read(client, mount, path), f"{workload} read {path}"


def near_paths(path: str, grants: list[str]) -> list[str]:
    """The sibling and the parent of `path` that no grant covers."""
    parent, _, last = path.rpartition("/")
    candidates = [f"{parent}/{last}-sibling" if parent else f"{last}-sibling"]
    candidates += [parent] if parent else []
    return [c for c in candidates if not granted(grants, c)]


def assert_cannot_touch(client: Any, mount: str, path: str, workload: str) -> None:
    kv = client.secrets.kv.v2
    parent = path.rpartition("/")[0]
    attempts = {
        "metadata": lambda: kv.read_secret_metadata(path=path, mount_point=mount),
        "write": lambda: kv.create_or_update_secret(path=path, secret={"x": 1}, mount_point=mount),
        "patch": lambda: kv.patch(path=path, secret={"x": 1}, mount_point=mount),
        "delete": lambda: kv.delete_latest_version_of_secret(path=path, mount_point=mount),
        "destroy": lambda: kv.destroy_secret_versions(path=path, versions=[1], mount_point=mount),
        "delete all": lambda: kv.delete_metadata_and_all_versions(path=path, mount_point=mount),
        "list": lambda: kv.list_secrets(path=parent, mount_point=mount),
    }
    for what, attempt in attempts.items():
        assert denied(attempt), f"{workload} could {what} {path}"


def test_example_specs_with_vault_content_are_found() -> None:
    assert {p.name for p in VAULT_SPECS} >= {"ai-platform.yaml", "004-model-parameters.yaml"}


@pytest.mark.parametrize("spec_file", VAULT_SPECS, ids=[p.stem for p in VAULT_SPECS])
def test_policies_read_exactly_their_paths(bao: BaoServer, vault: Any, spec_file: Path) -> None:
    loaded = load(vault, compile_ok(spec_file))
    assert readers(loaded.compiled), "an example spec with Vault content has a reader"
    for workload in readers(loaded.compiled):
        assert_reads_exactly_its_paths(bao, vault, loaded, workload)


def test_seed_004_end_to_end(bao: BaoServer, vault: Any) -> None:
    loaded = load(vault, compile_ok(SPECS / "004-model-parameters.yaml"))
    spec = loaded.compiled.spec
    readers_of_params = [
        name
        for name, token in loaded.tokens.items()
        if can_read(as_token(bao, token), "secret", "ai/model-parameters")
    ]
    assert readers_of_params == [vault_policy_name(spec, "trainer")]
    trainer = as_token(bao, loaded.tokens[vault_policy_name(spec, "trainer")])
    params = read(trainer, "secret", "ai/model-parameters")
    assert same_typed(params, {"learning_rate": 0.01, "epochs": 100, "activation_function": "relu"})
    default_only = vault.auth.token.create(policies=["default"], ttl="10m")["auth"]["client_token"]
    assert not can_read(as_token(bao, default_only), "secret", "ai/model-parameters")
    assert_reads_exactly_its_paths(bao, vault, loaded, "trainer")


WILDCARD_SPEC = """\
version: 1
project: globs
kubernetes: { version: "1.30" }
vault: {}
namespaces:
  ml: {}
vaultSecrets:
  ai/a/params: { data: { lr: 0.1 } }
  ai/b/params: { data: { lr: 0.2 } }
  ai/a/other: { data: { k: v } }
  ai/params: { data: { k: v } }
  ai/a/params/deep: { data: { k: v } }
  ai/a/b/params: { data: { k: v } }
  ai/models: { data: { k: v } }
  ai/models/x: { data: { n: 1 } }
  ai/models/y/z: { data: { n: 2 } }
  ai/modelsx: { data: { k: v } }
workloads:
  per-team:
    namespace: ml
    image: ghcr.io/acme/train:1.0.0
    runAsUser: 10001
    resources: { limits: { cpu: "1", memory: 1Gi } }
    vault: { read: [ai/+/params], deliver: none }  # the app lists and reads itself
  all-models:
    namespace: ml
    image: ghcr.io/acme/train:1.0.0
    runAsUser: 10001
    resources: { limits: { cpu: "1", memory: 1Gi } }
    vault: { read: [ai/models/*], deliver: none }
"""


def test_wildcard_grants_match_what_they_should_and_no_more(
    bao: BaoServer, vault: Any, tmp_path: Path
) -> None:
    path = tmp_path / "globs.yaml"
    path.write_text(textwrap.dedent(WILDCARD_SPEC), encoding="utf-8")
    loaded = load(vault, compile_ok(path))
    spec = loaded.compiled.spec
    expected = {
        "per-team": {"ai/a/params", "ai/b/params"},
        "all-models": {"ai/models/x", "ai/models/y/z"},
    }
    for workload, paths in expected.items():
        client = as_token(bao, loaded.tokens[vault_policy_name(spec, workload)])
        readable = {p for p in spec.vault_secrets if can_read(client, "secret", p)}
        assert readable == paths, workload
        # secureai's own glob model (used by its checks) agrees with the server.
        assert {p for p in spec.vault_secrets if granted(grants_of(loaded.compiled, workload), p)} == paths
        assert_reads_exactly_its_paths(bao, vault, loaded, workload)


# ----------------------------------------------------------------------------- vaultio


def test_vault_reader_reads_typed_values_as_text(bao: BaoServer, vault: Any) -> None:
    loaded = load(vault, compile_ok(SPECS / "004-model-parameters.yaml"))
    token = loaded.tokens[vault_policy_name(loaded.compiled.spec, "trainer")]
    reader = vault_reader(bao.address, token, "secret")
    assert [reader("ai/model-parameters", k) for k in ("learning_rate", "epochs", "activation_function")] == [
        "0.01",
        "100",
        "relu",
    ]
    ctx = ResolveContext(base_dir=SPECS, vault_reader=reader)
    assert resolve(SecretValue("vault", "ai/model-parameters#epochs"), ctx) == "100"


@pytest.mark.parametrize(
    ("path", "key", "message"),
    [
        ("ai/model-parameters", "momentum", "Vault secret secret/ai/model-parameters has no key 'momentum'"),
        ("ai/other", "k", "Vault denied access to ai/other"),
    ],
)
def test_vault_reader_errors_name_path_and_key_never_values(
    bao: BaoServer, vault: Any, path: str, key: str, message: str
) -> None:
    loaded = load(vault, compile_ok(SPECS / "004-model-parameters.yaml"))
    vault.secrets.kv.v2.create_or_update_secret(path="ai/other", secret={"k": "hidden"}, mount_point="secret")
    token = loaded.tokens[vault_policy_name(loaded.compiled.spec, "trainer")]
    with pytest.raises(ResolveError) as caught:
        vault_reader(bao.address, token, "secret")(path, key)
    assert str(caught.value) == message
    for value in ("hidden", "0.01", "relu"):
        assert value not in str(caught.value)


def test_vault_reader_missing_path_and_unreachable_server(bao: BaoServer, vault: Any) -> None:
    with pytest.raises(ResolveError, match=r"^Vault has no secret at ai/none \(KV v2 mount 'secret'\)$"):
        vault_reader(bao.address, bao.token, "secret")("ai/none", "k")
    with pytest.raises(ResolveError, match=r"^cannot reach Vault at http://127\.0\.0\.1:9 to read ai/x: "):
        vault_reader("http://127.0.0.1:9", bao.token, "secret")("ai/x", "k")
