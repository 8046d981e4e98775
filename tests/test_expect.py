"""`expect` assertions: evaluated by validate on the compiled posture, errors at the assertion."""

from __future__ import annotations

from pathlib import Path

import pytest
from specutil import messages as all_messages

from secureai.pipeline import compile_path

ROOT = Path(__file__).resolve().parent.parent

SPEC = """\
version: 1
project: demo
kubernetes: { version: "1.30", apiServer: { cidrs: [172.18.0.2/32], port: 6443 } }
namespaces:
  ml: {}
  ops: {}
secrets:
  db: { namespace: ml, data: { password: { fromEnv: DB_PASSWORD }, user: { fromEnv: DB_USER } } }
workloads:
  trainer:
    namespace: ml
    image: ghcr.io/acme/train:1.0.0
    runAsUser: 10001
    labels: { role: train }
    env: { DB_PASSWORD: { secret: db, key: password } }
  store:
    namespace: ml
    image: ghcr.io/acme/store:1.0.0
    runAsUser: 10001
    labels: { role: store }
    ports: [5432]
  watcher:
    namespace: ops
    image: ghcr.io/acme/watch:1.0.0
    runAsUser: 10001
    serviceAccount: watcher
network:
  train-to-store:
    namespace: ml
    from: [{ pods: { role: train } }]
    to: [{ pods: { role: store } }]
    ports: [5432]
  watcher-out:
    namespace: ops
    from: [{ pods: { app.kubernetes.io/name: watcher } }]
    to: [{ apiServer: true }, { cidr: 10.0.0.0/8 }]
access:
  watcher:
    namespace: ops
    can: [{ verbs: [get], resources: [secrets], names: [db] }]
"""
ENV = {"DB_PASSWORD": "x", "DB_USER": "y"}


def messages(tmp_path: Path, text: str, environ: dict[str, str]) -> list[str]:
    """The SA4xx diagnostics (the spec's other warnings are not what these tests are about)."""
    return [m for m in all_messages(tmp_path, text, environ) if "[SA4" in m]


def check(tmp_path: Path, expect: str) -> list[str]:
    return messages(tmp_path, SPEC + "expect:\n" + expect, ENV)


@pytest.mark.parametrize("name", ["ai-platform", "llm-platform"])
def test_the_examples_keep_their_promises(name: str) -> None:
    example = ROOT / "specs" / f"{name}.yaml"
    assert "expect:" in example.read_text()
    found = compile_path(example, {})
    assert found.value is not None and not [d for d in found.diagnostics if d.is_error]


def test_a_broken_promise_in_an_example_is_caught(tmp_path: Path) -> None:
    text = (ROOT / "specs" / "llm-platform.yaml").read_text()
    broken = text.replace(
        "- { workload: qdrant, ports: [6333, 6334] }", "- { workload: qdrant, ports: [6333] }"
    )
    assert broken != text
    found = [m for m in all_messages(tmp_path, broken, {}) if "[SA4" in m]
    assert len(found) == 1 and "llm-serving/vllm can connect to vector-db/qdrant on TCP/6334" in found[0]


def test_holding_expectations_pass(tmp_path: Path) -> None:
    assert (
        check(
            tmp_path,
            """\
  password:
    onlyReaders: { secret: db, key: password, readers: [trainer] }
  isolated:
    unreachable: { from: { namespace: ops }, to: { namespace: ml } }
  store-only-on-5432:
    unreachable: { from: { workload: trainer }, to: { workload: store }, ports: [5433, 53/UDP] }
  no-token:
    noTokenIn: { namespace: ml }
  trainer:
    reachesOnly: { from: { workload: trainer }, to: [{ workload: store, ports: [5432] }] }
  watcher:
    reachesOnly: { from: { workload: watcher }, to: [{ cidr: 10.0.0.0/8 }, { cidr: 172.16.0.0/12, ports: [6443] }] }
""",
        )
        == []
    )


def test_only_readers_names_each_other_reader_and_its_grant(tmp_path: Path) -> None:
    # The Role of `watcher` is in ops, so it reaches no secret in ml: only trainer's env read counts.
    assert check(tmp_path, "  everything:\n    onlyReaders: { secret: db, readers: [] }\n") == [
        "spec.yaml:43:18: error[SA400]: expectation 'everything': workload ml/trainer can read ml/db/password by env (env DB_PASSWORD (trainer)), granted by Deployment ml/trainer; nobody may\n"
        "  hint: remove that grant, or add the reader to 'readers' if it is intended"
    ]


def test_failing_expectations_point_at_the_assertion(tmp_path: Path) -> None:
    spec = SPEC.replace("namespace: ops\n    can:", "namespace: ml\n    can:").replace(
        "serviceAccount: watcher", "serviceAccount: watcher\n    labels: { role: train }"
    )
    spec = spec.replace(
        "  watcher:\n    namespace: ops\n    image", "  watcher:\n    namespace: ml\n    image"
    )
    found = messages(
        tmp_path,
        spec
        + """\
expect:
  password:
    onlyReaders: { secret: db, key: password, readers: [trainer] }
  isolated:
    unreachable: { from: { workload: watcher }, to: { workload: store } }
  no-token:
    noTokenIn: { namespace: ml }
  trainer:
    reachesOnly: { from: { workload: trainer }, to: [{ workload: store, ports: [5433] }] }
""",
        ENV,
    )
    assert found == [
        "spec.yaml:44:18: error[SA400]: expectation 'password': workload ml/watcher can read ml/db/password by rbac (RBAC read of db in namespace ml), granted by Role watcher via RoleBinding ml/watcher; only trainer may\n"
        "  hint: remove that grant, or add the reader to 'readers' if it is intended",
        "spec.yaml:46:18: error[SA401]: expectation 'isolated': ml/watcher can connect to ml/store on TCP/5432, allowed by NetworkPolicy ml/train-to-store-egress, NetworkPolicy ml/train-to-store-ingress\n"
        "  hint: narrow the network rule (or the namespace's network: open) that allows it",
        "spec.yaml:48:16: error[SA402]: expectation 'no-token': workload ml/watcher mounts an API token of service account ml/watcher\n"
        "  hint: secureai mounts the token only for accounts with access grants: run the workload as an account without them",
        "spec.yaml:50:18: error[SA403]: expectation 'trainer': ml/trainer can connect to ml/store on TCP/5432, allowed by NetworkPolicy ml/train-to-store-egress, NetworkPolicy ml/train-to-store-ingress\n"
        "  hint: narrow the rule that allows it, or list the destination in 'to'",
    ]


def test_reaches_only_names_outside_allowances(tmp_path: Path) -> None:
    assert check(
        tmp_path, "  w:\n    reachesOnly: { from: { workload: watcher }, to: [{ cidr: 10.0.0.0/16 }] }\n"
    ) == [
        "spec.yaml:43:18: error[SA403]: expectation 'w': ops/watcher can connect out to 10.0.0.0/8 on all, allowed by NetworkPolicy ops/watcher-out-egress\n"
        "  hint: narrow the rule that allows it, or list the destination in 'to'",
        "spec.yaml:43:18: error[SA403]: expectation 'w': ops/watcher can connect out to 172.18.0.2/32 on TCP/6443, allowed by NetworkPolicy ops/watcher-out-egress\n"
        "  hint: narrow the rule that allows it, or list the destination in 'to'",
    ]


def test_unknown_names_are_errors_not_vacuous_passes(tmp_path: Path) -> None:
    assert check(
        tmp_path,
        """\
  a:
    onlyReaders: { secret: dbb, readers: [] }
  b:
    onlyReaders: { secret: db, key: pasword, readers: [trainr] }
  c:
    noTokenIn: { workload: trainr }
  d:
    unreachable: { from: { namespace: mll }, to: { namespace: ml } }
  e:
    onlyReaders: { vault: ai/params, readers: [] }
""",
    ) == [
        "spec.yaml:43:28: error[SA412]: expectation names secret 'dbb', which the spec does not declare (did you mean 'db'?)",
        "spec.yaml:45:56: error[SA410]: expectation names workload 'trainr', which the spec does not deploy (did you mean 'trainer'?)",
        "spec.yaml:47:28: error[SA410]: expectation names workload 'trainr', which the spec does not deploy (did you mean 'trainer'?)",
        "spec.yaml:49:39: error[SA411]: expectation names namespace 'mll', which the spec does not have (did you mean 'ml'?)",
        "spec.yaml:51:27: error[SA413]: expectation names Vault path 'ai/params', which vaultSecrets does not declare",
    ]
