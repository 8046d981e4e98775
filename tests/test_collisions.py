"""Two spec entries never silently share a generated name: the spec is refused, naming both."""

from __future__ import annotations

from pathlib import Path

import pytest
from specutil import messages

from secureai.compile.collisions import check_collisions
from secureai.compile.plan import SECRET_TYPES, Plan, Resource
from secureai.pipeline import compile_path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = [*sorted((ROOT / "specs").glob("*.yaml")), ROOT / "specs" / "org" / "secureai.yaml"]

VAULT = """\
version: 1
project: p
kubernetes: {{ version: "1.30" }}
namespaces: {{ {ns1}: {{}}, {ns2}: {{}} }}
vault: {{ podAddress: "https://vault.example:8200", network: [{{ cidr: 10.0.0.1/32 }}] }}
vaultSecrets:
  x/y: {{ data: {{ k: 1 }} }}
workloads:
  {w1}: {{ namespace: {ns1}, image: "i:1", runAsUser: 1000, resources: {{ limits: {{ cpu: "1" }} }}, vault: {{ read: [x/y] }} }}
  {w2}: {{ namespace: {ns2}, image: "i:1", runAsUser: 1000, resources: {{ limits: {{ cpu: "1" }} }}, vault: {{ read: [x/y] }} }}
"""


@pytest.mark.parametrize(
    ("ns1", "w1", "ns2", "w2", "name"),
    [("a", "b-c", "a-b", "c", "p-a-b-c"), ("x", "y-z-w", "x-y-z", "w", "p-x-y-z-w")],
)
def test_vault_names_that_meet_are_refused(
    tmp_path: Path, ns1: str, w1: str, ns2: str, w2: str, name: str
) -> None:
    found = [m for m in messages(tmp_path, VAULT.format(ns1=ns1, w1=w1, ns2=ns2, w2=w2)) if "SA255" in m]
    first = found[0].split("\n")[0]
    assert first.endswith(
        f"error[SA255]: workloads.{w2}.vault and workloads.{w1}.vault would both become Vault policy "
        f"'{name}'; one would silently replace the other"
    ), first
    assert any(f"Vault auth role '{name}'" in m for m in found)


def test_names_that_do_not_meet_pass(tmp_path: Path) -> None:
    text = VAULT.format(ns1="a", w1="b", ns2="a-b", w2="c")
    assert not [m for m in messages(tmp_path, text) if "SA255" in m]


def _secret(source: tuple[str, ...], namespace: str, name: str, logical: str) -> Resource:
    return Resource(
        type="kubernetes:core/v1:Secret",
        name=logical,
        properties={"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace}},
        source=source,
    )


@pytest.mark.parametrize(
    ("second", "collides"),
    [
        (_secret(("secrets", "t"), "ml", "s", "ml/t"), True),  # same object, other Plan key
        (_secret(("secrets", "t"), "ml", "t", "ml/s"), True),  # same Plan key
        (_secret(("secrets", "t"), "other", "s", "other/s"), False),
        (_secret(("secrets", "s"), "ml", "s", "ml/s"), False),  # one entry, not two
    ],
)
def test_plan_check_on_kubernetes_objects(second: Resource, collides: bool) -> None:
    first = _secret(("secrets", "s"), "ml", "s", "ml/s")
    plan = Plan(project="p", environment="dev", kubernetes_version="1.30", resources=(first, second))
    found = check_collisions(plan)
    assert bool(found) is collides
    if collides:
        assert found[0].code == "SA255" and found[0].path == ("secrets", "t")
        assert "secrets.t and secrets.s would both become Secret" in found[0].message


SHARED_VALUE = """\
version: 1
project: p
kubernetes: {{ version: "1.30" }}
namespaces: {{ {namespace}: {{}} }}
secrets:
  models:
    namespace: {namespace}
    data:
      k: {{ generate: {{ length: 24 }} }}
vault: {{ address: "http://127.0.0.1:8200" }}
vaultSecrets:
  {path}:
    data:
      k: {{ generate: {{ length: 24 }} }}
"""


@pytest.mark.parametrize(
    ("namespace", "path", "refused"),
    [
        ("vault", "models", True),  # both stored as vault/models/k
        ("ml", "models", False),
        ("vault", "models/v2", False),
    ],
)
def test_entries_that_would_share_a_generated_value_are_refused(
    tmp_path: Path, namespace: str, path: str, refused: bool
) -> None:
    found = [
        m for m in messages(tmp_path, SHARED_VALUE.format(namespace=namespace, path=path)) if "SA255" in m
    ]
    if not refused:
        assert found == []
        return
    assert found[0].split("\n")[0] == (
        "spec.yaml:14:10: error[SA255]: vaultSecrets.models.data.k and secrets.models.data.k would share one "
        "generated value (both are stored as 'vault/models/k'); each would silently get the other's"
    ), found


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.parent.name if p.parent.name == "org" else p.stem)
def test_secret_values_stand_only_in_secret_types(spec: Path) -> None:
    """The generated-value check looks only at SECRET_TYPES: no example places one elsewhere."""
    result = compile_path(spec, {"HF_TOKEN": "x", "REGISTRY_AUTH_JSON": "{}"})
    assert result.value is not None
    holders = {r.type for r in result.value.plan.resources if r.secret_paths()}
    assert holders <= SECRET_TYPES
