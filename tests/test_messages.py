"""Messages that must not mislead (issue 12, points 10 and 11): suggestions only for slips,
what a PVC string means, optional rule namespaces, accounts made explicit, one rule for
values written in the spec and for undeclared Vault paths."""

from __future__ import annotations

from pathlib import Path

from specutil import BASE, WORKLOAD, messages

from secureai.diagnostics import misspelling_of

GOOD = BASE + WORKLOAD
REFERENCE = 'the README\'s spec reference ("The spec") lists every field'


def test_a_field_from_another_tool_gets_no_suggestion_but_the_reference(tmp_path: Path) -> None:
    found = messages(tmp_path, GOOD.replace("    image:", "    serviceName: web\n    image:"))
    assert found[0].splitlines()[0] == (
        "spec.yaml:10:5: error[SA101]: workloads.trainer: unknown field 'serviceName': it is not part of the secureai spec"
    )
    assert found[0].splitlines()[1].endswith(REFERENCE)
    top = messages(tmp_path, "apiVersion: v1\n" + GOOD)
    assert top[0].splitlines()[0] == (
        "spec.yaml:1:1: error[SA101]: spec: unknown field 'apiVersion': it is not part of the secureai spec"
    )


def test_a_slip_still_gets_its_suggestion(tmp_path: Path) -> None:
    found = messages(tmp_path, GOOD.replace("image:", "imagee:"))
    assert found[0].splitlines()[0] == (
        "spec.yaml:10:5: error[SA101]: workloads.trainer: unknown field 'imagee' (did you mean 'image'?)"
    )


def test_misspelling_of_is_edits_not_shared_letters() -> None:
    fields = ["serviceAccount", "version", "image", "namespace", "securityProfile"]
    assert misspelling_of("imagee", fields) == "image"
    assert misspelling_of("namspace", fields) == "namespace"
    assert misspelling_of("nmaespace", fields) == "namespace"  # a swap is one edit
    assert misspelling_of("SecurityProfile", fields) == "securityProfile"
    assert misspelling_of("service", fields) is None
    assert misspelling_of("apiVersion", fields) is None


def test_a_claim_mapping_says_the_string_is_a_claim_name(tmp_path: Path) -> None:
    volume = "    volumes:\n      data: { mountPath: /data, persistentVolumeClaim: { claimName: data } }\n"
    assert messages(tmp_path, GOOD + volume) == [
        "spec.yaml:14:56: error[SA100]: workloads.trainer.volumes.data.persistentVolumeClaim: "
        "expected the name of an existing PersistentVolumeClaim (a string), got a mapping\n"
        "  hint: write persistentVolumeClaim: <name>, e.g. persistentVolumeClaim: model-store"
    ]


RULE = (
    "network:\n  r:\n"
    "    from: [{ namespace: ml, pods: { app.kubernetes.io/name: trainer } }]\n"
    "    to: [{ namespace: ml, pods: { app.kubernetes.io/name: trainer } }, { cidr: 10.0.0.0/8 }]\n"
)


def test_a_rule_needs_no_namespace_when_every_peer_names_its_own(tmp_path: Path) -> None:
    assert messages(tmp_path, GOOD + RULE) == []


def test_a_pods_peer_without_any_namespace_is_pointed_at(tmp_path: Path) -> None:
    rule = RULE.replace("from: [{ namespace: ml, pods:", "from: [{ pods:")
    assert messages(tmp_path, GOOD + rule) == [
        "spec.yaml:15:12: error[SA102]: network rule 'r': this pods peer names no namespace, and the "
        "rule has no 'namespace' for it\n"
        "  hint: add 'namespace' to the peer, or to the rule (the namespace of every pods peer that names none)"
    ]
    assert messages(tmp_path, GOOD + rule.replace("  r:\n", "  r:\n    namespace: ml\n")) == []


ACCESS = "access:\n  trainer:\n    namespace: ml\n    can: [{ verbs: [get], resources: [pods] }]\n"


def test_an_access_entry_named_like_a_workload_is_said_or_explicit(tmp_path: Path) -> None:
    # SA166 (no flow to the API server from default-deny `ml`) is beside the point here.
    found = [m for m in messages(tmp_path, GOOD + ACCESS) if "SA166" not in m]
    assert [m.split(": ", 2)[1] for m in found] == ["warning[SA103]"]
    assert "hint: if that is meant, say so with 'serviceAccount: trainer' on the workload" in found[0]
    explicit = GOOD.replace("    image:", "    serviceAccount: trainer\n    image:")
    assert [m for m in messages(tmp_path, explicit + ACCESS) if "SA166" not in m] == []
    elsewhere = ACCESS.replace("namespace: ml", "namespace: other")
    assert not any("SA103" in m for m in messages(tmp_path, GOOD + elsewhere))


def test_values_written_in_the_spec_follow_one_rule(tmp_path: Path) -> None:
    vault = "vault: {}\nvaultSecrets:\n  ai/p:\n    data:\n"
    # Parameters are written plainly; a credential needs the opt-in, as in `secrets`.
    assert messages(tmp_path, BASE + vault + "      lr: 0.01\n      tokenizer: bpe\n") == []
    assert "warning[SA104]" in messages(tmp_path, BASE + vault + "      api_key: abc\n")[0]
    literal = messages(tmp_path, BASE + vault + "      api_key: { literal: abc }\n")
    assert (
        "error[SA122]: vaultSecrets.ai/p.data.api_key: a literal secret value needs 'allowPlaintext: true'"
        in literal[0]
    )
    opted = messages(tmp_path, BASE + vault + "      api_key: { literal: abc, allowPlaintext: true }\n")
    assert [m.split(": ", 2)[1] for m in opted] == ["warning[SA123]"]


def test_undeclared_vault_paths_are_one_policy(tmp_path: Path) -> None:
    """Exact grant, wildcard grant, fromVault: each may name a path written outside the spec."""
    text = (
        GOOD
        + "    vault: { read: [ai/elsewhere, ml/*] }\n"
        + "    env:\n      T: { secret: s, key: t }\n"
        + "vault: { address: http://vault.vault.svc:8200 }\nvaultSecrets:\n  ai/p:\n    data: { a: 1 }\n"
        + "secrets:\n  s:\n    namespace: ml\n    data: { t: { fromVault: { path: ai/other, key: t } } }\n"
    )
    found = [m for m in messages(tmp_path, text) if "SA254" not in m]  # no vault.network: beside the point
    assert sorted(m.split(": ", 2)[1] for m in found) == [
        "warning[SA301]",
        "warning[SA302]",
        "warning[SA310]",
    ]
    assert all(
        "hint: fine if the secret is written outside this spec; otherwise fix the path" in m for m in found
    )
