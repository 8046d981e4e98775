"""Every model and check diagnostic code, with its exact positioned message."""

from __future__ import annotations

from pathlib import Path

import pytest
from specutil import BASE, WORKLOAD, messages

FULL = BASE + WORKLOAD


def first(tmp_path: Path, text: str, code: str, environ: dict[str, str] | None = None) -> str:
    found = [m for m in messages(tmp_path, text, environ) if f"[{code}]" in m]
    assert found, f"no {code} in {messages(tmp_path, text, environ)}"
    return found[0]


CASES = [
    (
        "SA100",
        BASE.replace('version: "1.30"', 'version: "1.12"'),
        "spec.yaml:4:12: error[SA100]: kubernetes.version: Kubernetes 1.12 is not supported; secureai targets 1.19 to 1.37",
    ),
    (
        "SA100",
        FULL.replace(
            "image: ghcr.io/acme/train:1.0.0", "image: ghcr.io/acme/train:1.0.0\n    kind: Deploymnt"
        ),
        "spec.yaml:11:11: error[SA100]: workloads.trainer.kind: 'Deploymnt' is not one of 'Pod', 'Deployment', 'StatefulSet', 'Job', 'CronJob' (did you mean 'Deployment'?)",
    ),
    (
        "SA101",
        FULL.replace("image:", "imagee:"),
        "spec.yaml:10:5: error[SA101]: workloads.trainer: unknown field 'imagee' (did you mean 'image'?)",
    ),
    (
        "SA102",
        "version: 1\nproject: demo\n",
        "spec.yaml:1:1: error[SA102]: spec: missing required field 'kubernetes'",
    ),
    (
        "SA103",
        FULL + "access:\n  trainer:\n    namespace: ml\n    can: [{ verbs: [get], resources: [pods] }]\n",
        "spec.yaml:14:3: warning[SA103]: access 'trainer' has the name and namespace of workload 'trainer', so it is that workload's own service account: the workload gets its grants and an API token",
    ),
    (
        "SA104",
        BASE + "vault: {}\nvaultSecrets:\n  ai/hf:\n    data: { hf_token: hf_abc, tokenizer: bpe }\n",
        "spec.yaml:10:23: warning[SA104]: vaultSecrets.ai/hf.data.hf_token: a plain value under a key that names a credential; a secret written in the spec needs the opt-in",
    ),
    (
        "SA110",
        FULL.replace("namespace: ml", "namespace: mll"),
        "spec.yaml:9:16: error[SA110]: workload 'trainer' is in namespace 'mll' which is not declared (did you mean 'ml'?)",
    ),
    (
        "SA111",
        FULL + "    env:\n      DB: { secret: db, key: password }\n",
        "spec.yaml:14:21: error[SA111]: workload 'trainer' reads secret 'db' which is not declared",
    ),
    (
        "SA111",
        FULL + "    env:\n      DB: { secret: db-cred, key: password }\n"
        "secrets:\n  db-creds:\n    namespace: ml\n    data: { password: { fromEnv: DB_PASSWORD } }\n",
        "spec.yaml:14:21: error[SA111]: workload 'trainer' reads secret 'db-cred' which is not declared (did you mean 'db-creds'?)",
    ),
    (
        "SA112",
        FULL + "    env:\n      DB: { secret: db, key: pasword }\n"
        "secrets:\n  db:\n    namespace: ml\n    data: { password: { fromEnv: DB_PASSWORD } }\n",
        "spec.yaml:14:30: error[SA112]: workload 'trainer' reads key 'pasword' of secret 'db', which has no such key (did you mean 'password'?)",
    ),
    (
        "SA113",
        FULL + "    securityProfile: strict\n",
        "spec.yaml:13:22: error[SA113]: workload 'trainer' uses security profile 'strict' which is not declared",
    ),
    (
        "SA114",
        FULL + "    serviceAccount: runner\n",
        "spec.yaml:13:21: error[SA114]: workload 'trainer' runs as service account 'runner' which is not declared",
    ),
    (
        "SA115",
        FULL.replace("  ml: {}\n", "  ml: {}\n  other: {}\n")
        + "    env:\n      DB: { secret: db, key: password }\n"
        "secrets:\n  db:\n    namespace: other\n    data: { password: { fromEnv: DB_PASSWORD } }\n",
        "spec.yaml:15:21: error[SA115]: workload 'trainer' in namespace 'ml' reads secret 'db' from namespace 'other'; pods can only read secrets of their own namespace",
    ),
    (
        "SA116",
        BASE
        + "access:\n  reader:\n    namespace: ml\n    can:\n      - { verbs: [get], resources: [secrets], names: [db] }\n",
        "spec.yaml:11:55: warning[SA116]: service account 'reader' is granted secret 'db', which this spec does not declare in namespace 'ml'",
    ),
    (
        "SA120",
        BASE + "secrets:\n  tls:\n    namespace: ml\n    data: { ca: { fromFile: certs/ca.pem } }\n",
        "spec.yaml:10:29: error[SA120]: secrets.tls.data.ca: file 'certs/ca.pem' does not exist (paths are relative to the spec file)",
    ),
    (
        "SA121",
        BASE + "secrets:\n  db:\n    namespace: ml\n    data: { password: { fromEnv: DB_PASSWORD } }\n",
        "spec.yaml:10:34: warning[SA121]: secrets.db.data.password: environment variable DB_PASSWORD is not set",
    ),
    (
        "SA122",
        BASE + "secrets:\n  db:\n    namespace: ml\n    data: { password: { literal: hunter2 } }\n",
        "spec.yaml:10:34: error[SA122]: secrets.db.data.password: a literal secret value needs 'allowPlaintext: true'",
    ),
    (
        "SA123",
        BASE
        + "secrets:\n  db:\n    namespace: ml\n    data: { password: { literal: hunter2, allowPlaintext: true } }\n",
        "spec.yaml:10:34: warning[SA123]: secrets.db.data.password: secret value is stored in plain text in the spec",
    ),
    (
        "SA124",
        BASE
        + "secrets:\n  db:\n    namespace: ml\n    data: { password: { generate: {}, allowPlaintext: true } }\n",
        "spec.yaml:10:55: warning[SA124]: secrets.db.data.password: 'allowPlaintext' has no effect without 'literal'",
    ),
    (
        "SA130",
        FULL.replace("train:1.0.0", "train:latest"),
        "spec.yaml:10:12: warning[SA130]: workload 'trainer' uses image 'ghcr.io/acme/train:latest' without a pinned tag",
    ),
    (
        "SA131",
        FULL + "    kind: CronJob\n",
        "spec.yaml:13:11: error[SA131]: workload 'trainer' is a CronJob and needs a 'schedule'",
    ),
    (
        "SA132",
        FULL + "    kind: Job\n    replicas: 2\n",
        "spec.yaml:14:15: error[SA132]: workload 'trainer' is a Job; only a Deployment or StatefulSet takes 'replicas'",
    ),
    (
        "SA133",
        FULL + "    securityProfile: p\n    volumes:\n      host: { mountPath: /data, hostPath: /data/ai }\n"
        "securityProfiles:\n  p: {}\n",
        "spec.yaml:15:13: error[SA133]: workload 'trainer' mounts a hostPath volume 'host', which its security profile 'p' does not allow",
    ),
    (
        "SA134",
        FULL + "    securityProfile: p\n    volumes:\n      host: { mountPath: /data, hostPath: /etc }\n"
        "securityProfiles:\n  p: { volumes: [hostPath], allowedHostPaths: [{ pathPrefix: /data/ai }] }\n",
        "spec.yaml:15:43: error[SA134]: workload 'trainer' mounts host path '/etc', which is outside the profile's allowedHostPaths",
    ),
    (
        "SA135",
        FULL.replace('    resources: { limits: { cpu: "1", memory: 1Gi } }\n', ""),
        "spec.yaml:8:3: warning[SA135]: workload 'trainer' sets no resource requests or limits",
    ),
    (
        "SA137",
        FULL.replace("    runAsUser: 10001\n", ""),
        "spec.yaml:8:3: warning[SA137]: workload 'trainer' sets no runAsUser: its pods start only if the image's user is a non-zero number (runAsNonRoot is always on); an image that runs as root or as a user name is refused by the kubelet",
    ),
    (
        "SA136",
        FULL + "    vault: { read: [ai/params] }\n    volumes:\n      a: { mountPath: /data, emptyDir: {} }\n"
        "      b: { mountPath: /data/, emptyDir: {} }\n      c: { mountPath: /var/run/secrets/vault, emptyDir: {} }\n"
        "vault: {}\nvaultSecrets:\n  ai/params:\n    data: { a: 1 }\n",
        "spec.yaml:16:23: error[SA136]: workload 'trainer' mounts volume 'b' at /data, where volume 'a' is mounted already",
    ),
    (
        "SA141",
        FULL.replace('"1.30"', '"1.26"') + "securityProfiles:\n  p: {}\n",
        "spec.yaml:4:12: warning[SA141]: Kubernetes 1.26 has neither PodSecurityPolicy nor ValidatingAdmissionPolicy: profile rules beyond Pod Security Admission (volume allow-list, host path prefixes) are applied to the generated pods but not enforced by the cluster",
    ),
    (
        "SA142",
        FULL.replace('"1.30"', '"1.29"') + "securityProfiles:\n  p: {}\n",
        "spec.yaml:4:12: warning[SA142]: Kubernetes 1.29 serves ValidatingAdmissionPolicy as v1beta1 only when the cluster enables it",
    ),
    (
        "SA143",
        BASE.replace('"1.30"', '"1.22"').replace("  ml: {}", "  ml: { podSecurity: baseline }"),
        "spec.yaml:6:22: warning[SA143]: namespace 'ml' asks for the baseline Pod Security Standard, but Kubernetes 1.22 has no Pod Security Admission to enforce its labels",
    ),
    (
        "SA150",
        FULL
        + "network:\n  r:\n    namespace: ml\n    from: [{ pods: { role: ai } }]\n    to: [{ cidr: 10.0.0.0/8 }]\n",
        "spec.yaml:16:20: warning[SA150]: network rule 'r': no workload in namespace 'ml' has labels role=ai",
    ),
    (
        "SA151",
        FULL
        + "network:\n  r:\n    namespace: ml\n    from: [{ namespace: ml }]\n    to: [{ apiServer: true }]\n",
        "spec.yaml:17:23: error[SA151]: network rule 'r' names the API server, but 'kubernetes.apiServer' does not say where it is",
    ),
    (
        "SA152",
        BASE + "  kube-system: {}\n",
        "spec.yaml:7:16: error[SA152]: namespace 'kube-system' runs cluster DNS; 'network: default-deny' there would block every name lookup in the cluster",
    ),
    (
        "SA153",
        FULL
        + "network:\n  r:\n    namespace: ml\n    from: [{ namespace: ml }]\n    to: [{ fqdn: huggingface.co }]\n",
        "spec.yaml:17:18: error[SA153]: network rule 'r': domain 'huggingface.co' cannot be enforced by the "
        "kubernetes network backend (NetworkPolicies match addresses, not names)",
    ),
    (
        "SA160",
        BASE
        + "access:\n  reader:\n    namespace: ml\n    can:\n      - { verbs: [get], resources: [secrets] }\n",
        "spec.yaml:11:9: error[SA160]: service account 'reader' is granted secrets without naming them",
    ),
    (
        "SA161",
        BASE
        + "access:\n  reader:\n    namespace: ml\n    can:\n      - { verbs: [get, list], resources: [secrets] }\n",
        "spec.yaml:11:18: error[SA161]: service account 'reader' may list secrets, which returns the contents of every secret in reach",
    ),
    (
        "SA162",
        BASE
        + "access:\n  reader:\n    namespace: ml\n    allowSecretListing: true\n    can:\n      - { verbs: [watch], resources: [secrets] }\n",
        "spec.yaml:12:18: warning[SA162]: service account 'reader' may watch secrets (allowSecretListing)",
    ),
    (
        "SA163",
        BASE
        + "access:\n  admin:\n    namespace: ml\n    can:\n      - { verbs: ['*'], resources: [pods] }\n",
        "spec.yaml:11:9: warning[SA163]: service account 'admin' is granted a wildcard",
    ),
    (
        "SA254",
        FULL
        + "    vault: { read: [ai/params] }\nvault: { address: 'http://vault:8200' }\nvaultSecrets:\n  ai/params:\n    data: { a: 1 }\n",
        "spec.yaml:13:12: warning[SA254]: workload 'trainer' reads Vault from default-deny namespace 'ml', but 'vault.network' does not say where Vault is, so its login will be blocked",
    ),
    (
        "SA164",
        BASE
        + "access:\n  maker:\n    namespace: ml\n    can:\n      - { verbs: [get, create], resources: [configmaps], names: [cfg] }\n",
        "spec.yaml:11:65: warning[SA164]: service account 'maker': 'names' cannot limit create, so the rule grants nothing for them",
    ),
    (
        "SA300",
        BASE + "vaultSecrets:\n  ai/params:\n    data: { a: 1 }\n",
        "spec.yaml:7:1: error[SA300]: the spec declares vaultSecrets but has no 'vault' section",
    ),
    (
        "SA165",
        FULL
        + "access:\n  reader:\n    namespace: ml\n    clusterWide: true\n    can:\n      - { verbs: [get], resources: [secrets], names: [db] }\n",
        "spec.yaml:18:54: warning[SA165]: service account 'reader' is granted secrets db cluster-wide: a secret of that name in any namespace, not only the spec's",
    ),
    (
        "SA166",
        FULL
        + "    serviceAccount: reader\naccess:\n  reader:\n    namespace: ml\n    can:\n      - { verbs: [get], resources: [pods] }\n",
        "spec.yaml:8:3: warning[SA166]: workload 'trainer' gets an API token for the grants of 'reader', but default-deny namespace 'ml' lets it reach no API server",
    ),
    (
        "SA125",
        BASE + "secrets:\n  db:\n    namespace: ml\n    data: { p: { fromFile: /etc/shadow } }\n",
        "spec.yaml:10:28: warning[SA125]: secrets.db.data.p: fromFile reads a system or user credential file (password hashes, keys, cloud or cluster credentials)",
    ),
    (
        "SA126",
        BASE + "secrets:\n  db:\n    namespace: ml\n    data: { p: { fromEnv: VAULT_TOKEN } }\n",
        "spec.yaml:10:27: warning[SA126]: secrets.db.data.p: fromEnv reads VAULT_TOKEN, a credential the deploy or its CI authenticates with",
    ),
    (
        "SA300",
        BASE
        + "secrets:\n  db:\n    namespace: ml\n    data: { token: { fromVault: { path: ai/params, key: t } } }\n",
        "spec.yaml:10:33: error[SA300]: secrets.db.data.token: comes from Vault, but the spec has no 'vault' section",
    ),
    (
        "SA301",
        FULL
        + "    vault: { read: [ai/param] }\nvault: {}\nvaultSecrets:\n  ai/params:\n    data: { a: 1 }\n",
        "spec.yaml:13:21: warning[SA301]: workload 'trainer' reads Vault path 'ai/param' which is not declared in vaultSecrets (did you mean 'ai/params'?)",
    ),
    (
        "SA302",
        FULL + "    vault: { read: [ml/*] }\nvault: {}\nvaultSecrets:\n  ai/params:\n    data: { a: 1 }\n",
        "spec.yaml:13:21: warning[SA302]: workload 'trainer' reads Vault paths 'ml/*', which match no declared vaultSecrets",
    ),
    (
        "SA303",
        BASE + "vault: {}\nvaultSecrets:\n  secret/ai/params:\n    data: { a: 1 }\n",
        "spec.yaml:9:3: error[SA303]: vault secret 'secret/ai/params': write the logical path; secureai adds the mount and the KV v2 'data/' prefix itself",
    ),
]


@pytest.mark.parametrize(
    ("code", "text", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_code_message(tmp_path: Path, code: str, text: str, expected: str) -> None:
    assert first(tmp_path, text, code).split("\n")[0] == expected


def test_every_registered_check_code_is_tested() -> None:
    from test_images import IMAGE_CASES
    from test_quota import QUOTA_CASES
    from test_signatures import SIGNATURE_CASES
    from test_unmanaged import UNMANAGED_CASES
    from test_vault_checks import VAULT_PATH_CASES
    from test_vault_delivery_checks import VAULT_DELIVERY_CASES
    from test_workloads import WORKLOAD_CASES

    from secureai.codes import CODES

    tested = (
        {c[0] for c in CASES}
        | {c[0] for c in VAULT_PATH_CASES}
        | {c[0] for c in VAULT_DELIVERY_CASES}
        | {c[0] for c in WORKLOAD_CASES}
        | {c[0] for c in UNMANAGED_CASES}
        | {c[0] for c in IMAGE_CASES}
        | {c[0] for c in QUOTA_CASES}
        | {c[0] for c in SIGNATURE_CASES}
    )
    loader_codes = {f"SA00{i}" for i in range(9)}
    untested = {c for c in CODES if c.startswith(("SA1", "SA3"))} - tested - loader_codes
    assert not untested, f"codes without an exact-message test: {sorted(untested)}"


def test_all_problems_of_a_file_in_one_run(tmp_path: Path) -> None:
    text = FULL.replace("image:", "imagee:").replace("project: demo", "project: Demo")
    found = messages(tmp_path, text)
    assert [m.split(": ")[1] for m in found] == ["error[SA100]", "error[SA101]"]


def test_a_misspelt_required_field_is_one_problem(tmp_path: Path) -> None:
    """'imagee' is unknown and 'image' missing: the first message says both, the second is noise."""
    found = [m.split("\n")[0] for m in messages(tmp_path, FULL.replace("image:", "imagee:"))]
    assert found == [
        "spec.yaml:10:5: error[SA101]: workloads.trainer: unknown field 'imagee' (did you mean 'image'?)"
    ]
    # Without the misspelling, the missing image is reported, at the key of the workload (an
    # image is required unless `managedBy` says someone else creates the pods).
    found = [
        m.split("\n")[0]
        for m in messages(tmp_path, FULL.replace("    image: ghcr.io/acme/train:1.0.0\n", ""))
    ]
    assert found == ["spec.yaml:8:3: error[SA191]: workload 'trainer' has no 'image'"]


def test_secret_values_never_appear_in_messages(tmp_path: Path) -> None:
    text = (
        BASE + "secrets:\n  db:\n    namespace: ml\n    data:\n      a: { literal: s3cr3t-value }\n"
        "      b: { literal: 12345678 }\n      c: { literal: s3cr3t-value, fromEnv: X }\n"
    )
    joined = "\n".join(messages(tmp_path, text))
    assert "s3cr3t" not in joined and "12345678" not in joined
    assert "[SA100]" in joined and "[SA122]" not in joined  # schema errors stop the pipeline first


def test_no_env_missing_warning_when_set(tmp_path: Path) -> None:
    text = BASE + "secrets:\n  db:\n    namespace: ml\n    data: { password: { fromEnv: DB_PASSWORD } }\n"
    assert not [m for m in messages(tmp_path, text, {"DB_PASSWORD": "x"}) if "SA121" in m]


def test_every_code_the_source_emits_is_registered() -> None:
    import re

    from secureai.codes import CODES

    source = Path(__file__).resolve().parents[1] / "secureai"
    emitted = {m for f in source.rglob("*.py") for m in re.findall(r'"(SA\d{3})"', f.read_text())}
    assert emitted <= set(CODES), sorted(emitted - set(CODES))


def test_wildcard_resources_are_secrets_too(tmp_path: Path) -> None:
    text = (
        BASE
        + "access:\n  reader:\n    namespace: ml\n    can:\n      - { verbs: [list], resources: ['*'] }\n"
    )
    assert (
        first(tmp_path, text, "SA161")
        .split("\n")[0]
        .endswith(
            "error[SA161]: service account 'reader' may list every resource ('*'), secrets included, "
            "which returns the contents of every secret in reach"
        )
    )


def test_any_writable_matching_host_path_prefix_allows_writing(tmp_path: Path) -> None:
    text = FULL + (
        "    securityProfile: p\n    volumes:\n      host: { mountPath: /data, hostPath: /data/ai/x, readOnly: false }\n"
        "securityProfiles:\n  p:\n    volumes: [hostPath]\n"
        "    allowedHostPaths: [{ pathPrefix: /data }, { pathPrefix: /data/ai, readOnly: false }]\n"
    )
    assert not [m for m in messages(tmp_path, text) if "SA134" in m]


def test_selectors_may_use_the_labels_secureai_adds(tmp_path: Path) -> None:
    text = (
        FULL
        + "network:\n  r:\n    namespace: ml\n    from: [{ pods: { app.kubernetes.io/name: trainer } }]\n    to: [{ cidr: 10.0.0.0/8 }]\n"
    )
    assert not [m for m in messages(tmp_path, text) if "SA150" in m]


def test_creating_secrets_needs_no_names(tmp_path: Path) -> None:
    """Names cannot limit `create` (SA164), and creating shows no secret: no SA160 either,
    else a spec that needs to create secrets could never pass."""
    grant = "      - { verbs: [create], resources: [secrets] }\n"
    found = messages(tmp_path, BASE + f"access:\n  maker:\n    namespace: ml\n    can:\n{grant}")
    assert not [m for m in found if "SA16" in m], found
    both = grant.replace("[create]", "[create, get]")
    found = messages(tmp_path, BASE + f"access:\n  maker:\n    namespace: ml\n    can:\n{both}")
    assert [m.split(": ", 1)[1] for m in found if "SA160" in m] == [
        "error[SA160]: service account 'maker' is granted secrets without naming them\n"
        "  hint: add 'names: [...]' with the secrets it needs"
    ]


def test_from_file_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    text = BASE + "secrets:\n  tls:\n    namespace: ml\n    data: { ca: { fromFile: certs } }\n"
    assert first(tmp_path, text, "SA120").split("\n")[0] == (
        "spec.yaml:10:29: error[SA120]: secrets.tls.data.ca: file 'certs' is not a regular file "
        "(paths are relative to the spec file)"
    )


@pytest.mark.parametrize("resources", ["{}", "{ limits: {} }", "{ requests: {}, limits: {} }"])
def test_empty_resources_are_no_resources(tmp_path: Path, resources: str) -> None:
    """Compile writes no `resources` for these, so they are warned about like a missing one."""
    text = FULL.replace('resources: { limits: { cpu: "1", memory: 1Gi } }', f"resources: {resources}")
    assert first(tmp_path, text, "SA135").split("\n")[0] == (
        "spec.yaml:8:3: warning[SA135]: workload 'trainer' sets no resource requests or limits"
    )


def test_no_runasuser_warning_where_the_user_is_given_or_non_root_is_relaxed(tmp_path: Path) -> None:
    """SA137 only where the kubelet decides: not with a runAsUser, not with runAsNonRoot relaxed."""
    without = FULL.replace("    runAsUser: 10001\n", "")
    relaxed = without + (
        "    exceptions:\n"
        "      - { rule: runAsNonRoot, because: the vendor image runs as root and writes /opt }\n"
    )
    assert not [m for m in messages(tmp_path, FULL) if "[SA137]" in m]
    assert not [m for m in messages(tmp_path, relaxed) if "[SA137]" in m]
    hint = first(tmp_path, without, "SA137").split("\n")[1]
    assert hint == "  hint: set runAsUser to the uid the image runs as, or to a non-zero uid it can run as"
