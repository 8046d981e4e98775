"""Image signatures (`namespaces.<ns>.images.signatures`): the shapes refused with positioned
messages, SA145, and the rendered Sigstore policy-controller ClusterImagePolicies.

The globs are checked with the verifier's own matching (policy-controller's pkg/apis/glob:
the glob translated to a regular expression, matched against the reference as
go-containerregistry names it), ported below, against the images the namespace's
ValidatingAdmissionPolicy admits (`registry_allowed`): the signed globs cover exactly what an
allowed prefix admits, so no admitted image escapes its signature check and no image of
another registry is held to it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from specutil import BASE, WORKLOAD, messages

from secureai.compile.build import compile_spec
from secureai.compile.kubernetes.signatures import normalised, prefix_globs
from secureai.compile.plan import Plan
from secureai.model.images import ImagePolicy, registry_allowed
from secureai.model.spec import Spec
from secureai.pipeline import compile_path

ROOT = Path(__file__).resolve().parent.parent
FULL = BASE + WORKLOAD
GITHUB = "https://token.actions.githubusercontent.com"
KEY = """\
-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEOjPeticFVVF+DGpXnm58Mvn4pTb7
mOp5XqWfbl8b/BvAmaCX7oGOj9d1F9Rwog6UT/OTx78yfMqcKo9z5qqJ5w==
-----END PUBLIC KEY-----
"""


def _signed(body: str) -> str:
    return FULL.replace(
        "  ml: {}\n", f"  ml:\n    images:\n      requireDigest: false\n      signatures: {body}\n"
    )


_PRE = "error[SA100]: namespaces.ml.images.signatures"
SIGNATURE_CASES = [
    (
        "SA100",
        _signed("{}"),
        f"spec.yaml:9:19: {_PRE}: signatures needs exactly one of 'keyless', 'publicKey'; found none",
    ),
    (
        "SA100",
        _signed("{ keyless: { issuer: http://a.example, subject: me } }"),
        f"spec.yaml:9:40: {_PRE}.keyless.issuer: 'http://a.example' is not an OIDC issuer URL such as "
        "https://token.actions.githubusercontent.com",
    ),
    (
        "SA100",
        _signed("{ keyless: { issuer: https://a.example, subject: me, subjectRegExp: m.+ } }"),
        f"spec.yaml:9:30: {_PRE}.keyless: a keyless identity needs exactly one of 'subject', "
        "'subjectRegExp'; found 'subject', 'subjectRegExp'",
    ),
    (
        "SA100",
        _signed("{ keyless: { issuer: https://a.example, subjectRegExp: 'a(b' } }"),
        f"spec.yaml:9:74: {_PRE}.keyless.subjectRegExp: 'a(b' is not a regular expression: missing ), "
        "unterminated subpattern at position 1",
    ),
    (
        "SA100",
        _signed("{ keyless: { issuer: https://a.example, subjectRegExp: '(?!x)a' } }"),
        f"spec.yaml:9:74: {_PRE}.keyless.subjectRegExp: '(?!x)a' uses a look-around or a back "
        "reference, which the verifier's regular expressions (Go RE2) do not have",
    ),
    (
        "SA100",
        _signed("{ publicKey: 'not a key' }"),
        f"spec.yaml:9:32: {_PRE}.publicKey: not a PEM public key (-----BEGIN PUBLIC KEY----- ... "
        "-----END PUBLIC KEY-----, as `cosign generate-key-pair` writes cosign.pub)",
    ),
    (
        "SA100",
        _signed("{ keyless: { issuer: https://a.example, subject: me }, registries: [acme/] }"),
        f"spec.yaml:9:87: {_PRE}.registries[0]: 'acme/' does not start with a registry host: write it "
        "in full, such as docker.io/acme/ or ghcr.io/acme/",
    ),
    (
        "SA145",
        FULL.replace(
            "  ml: {}\n",
            "  ml:\n    images: { requireDigest: false, signatures: { keyless: { issuer: "
            f"{GITHUB}, subjectRegExp: 'https://github.com/acme/.+' }} }} }}\n"
            "  serve:\n    images: { requireDigest: false, allowedRegistries: [ghcr.io/acme/models/], "
            f"signatures: {{ keyless: {{ issuer: {GITHUB}, subject: 'https://github.com/acme/x' }} }} }}\n",
        ),
        "spec.yaml:9:92: error[SA145]: the signature policies of namespaces 'ml' and 'serve' both cover "
        "'ghcr.io/acme/models/' with different signers: policy-controller holds every namespace it "
        "checks to both, so those images would need both signatures",
    ),
]


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    SIGNATURE_CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(SIGNATURE_CASES)],
)
def test_code_message(tmp_path: Path, code: str, text: str, expected: str) -> None:
    found = [m.split("\n")[0] for m in messages(tmp_path, text) if f"[{code}]" in m]
    assert expected in found, found


def _two(first: str, second: str) -> str:
    return FULL.replace(
        "  ml: {}\n",
        f"  ml:\n    images: {{ requireDigest: false, allowedRegistries: [{first}], "
        f"signatures: {{ publicKey: '{KEY.strip()}' }} }}\n"
        f"  serve:\n    images: {{ requireDigest: false, allowedRegistries: [{second}], "
        f"signatures: {{ keyless: {{ issuer: {GITHUB}, subject: me }} }} }}\n",
    ).replace("image: ghcr.io/acme/train:1.0.0", f"image: {first}train:1.0.0")


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        ("ghcr.io/acme/", "ghcr.io/acme-evil/", False),  # path boundaries, not text
        ("ghcr.io/acme/", "ghcr.io/other/", False),
        ("docker.io/acme/", "index.docker.io/acme/x/", True),  # Docker Hub's two names
        ("ghcr.io/acme/", "ghcr.io/acme/", True),
    ],
)
def test_sa145_only_where_the_signed_registries_overlap(
    tmp_path: Path, first: str, second: str, overlap: bool
) -> None:
    found = [m for m in messages(tmp_path, _two(first, second)) if "[SA145]" in m]
    assert bool(found) == overlap, found


def test_the_same_signer_may_cover_the_same_images(tmp_path: Path) -> None:
    same = "{ keyless: { issuer: https://a.example, subject: me } }"
    text = FULL.replace(
        "  ml: {}\n",
        f"  ml:\n    images: {{ requireDigest: false, signatures: {same} }}\n"
        f"  serve:\n    images: {{ requireDigest: false, signatures: {same} }}\n",
    )
    assert not [m for m in messages(tmp_path, text) if "[SA1" in m and "[SA121]" not in m]


# ------------------------------------------------------------- the verifier's matching, ported


def _glob_regexp(glob: str) -> re.Pattern[str]:
    """policy-controller pkg/apis/glob.Compile (v0.14.0), for the globs secureai renders."""
    assert re.fullmatch(r"[a-zA-Z0-9\-_:/*.@]+", glob), glob
    text = glob.replace(".", r"\.").replace("**", "#").replace("*", "[^/]*").replace("#", ".*")
    return re.compile(f"^{text}$")


def _matches(globs: list[str], image: str) -> bool:
    """glob.Match: the glob against the reference's Name(), else against the text as written."""
    return any(_glob_regexp(g).match(normalised(image)) or _glob_regexp(g).match(image) for g in globs)


@pytest.mark.parametrize(
    ("image", "name"),
    [
        ("postgres:16.4", "index.docker.io/library/postgres:16.4"),
        ("postgres", "index.docker.io/library/postgres:latest"),
        ("docker.io/rayproject/ray:2.9.0", "index.docker.io/rayproject/ray:2.9.0"),
        ("library/postgres@sha256:" + "a" * 64, "index.docker.io/library/postgres@sha256:" + "a" * 64),
        ("localhost:5000/x", "localhost:5000/x:latest"),
        ("ghcr.io/acme/vllm:0.6", "ghcr.io/acme/vllm:0.6"),
    ],
)
def test_references_are_named_as_go_containerregistry_names_them(image: str, name: str) -> None:
    assert normalised(image) == name


PREFIXES = [
    "ghcr.io/acme/",
    "quay.io/openbao/openbao",
    "docker.io/library/postgres",
    "docker.io/rayproject/",
    "docker.io/postgres",
    "docker.io/library/",
    "docker.io",
    "localhost:5000/",
]
IMAGES = [
    "ghcr.io/acme/vllm:0.6",
    "ghcr.io/acme/deep/path@sha256:" + "b" * 64,
    "ghcr.io/acme-evil/vllm:0.6",
    "ghcr.io/acme",
    "quay.io/openbao/openbao:2.7.2",
    "quay.io/openbao/openbao",
    "quay.io/openbao/openbao-evil:1",
    "quay.io/openbao/openbao/sub:1",
    "postgres:16.4",
    "docker.io/postgres:16",
    "library/postgres",
    "postgres-evil:1",
    "rayproject/ray:2.9.0",
    "docker.io/rayproject/ray:2.9.0",
    "index.docker.io/rayproject/ray:2.9.0",
    "rayproject-evil/ray:1",
    "busybox:1.36",
    "localhost:5000/x:1",
    "localhost:5001/x:1",
    "evil.example/rayproject/ray:1",
]


# Over-covered on purpose: `docker.io/postgres` is Docker Hub's official postgres, which the
# admission policy admits only as written with a host (`docker.io/postgres:16`); policy-controller
# names both `index.docker.io/library/postgres`, so the glob covers the short forms too (images
# the admission policy refuses anyway: covering more can only ask a signature of them).
OVER = {"docker.io/postgres": ["postgres:16.4", "library/postgres"]}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_the_signed_globs_cover_what_the_prefix_admits(prefix: str) -> None:
    """What the admission policy admits under `prefix`, policy-controller checks the signature of;
    what it does not admit under `prefix` is not held to that signer (but for OVER)."""
    policy = ImagePolicy.model_validate({"allowedRegistries": [prefix]})
    globs = prefix_globs(prefix)
    disagree = [i for i in IMAGES if _matches(globs, i) != registry_allowed(policy, i)]
    assert disagree == OVER.get(prefix, []), (prefix, globs, disagree)
    assert all(_matches(globs, i) for i in disagree)


# ----------------------------------------------------------------------------- rendered policies

SPEC = {
    "version": 1,
    "project": "demo",
    "kubernetes": {"version": "1.30"},
    "namespaces": {
        "ml": {
            "images": {
                "require_digest": False,
                "allowed_registries": ["ghcr.io/acme/", "quay.io/openbao/openbao"],
                "exceptions": [{"image": "busybox:1.36", "reason": "the vendor's debug image"}],
                "signatures": {
                    "registries": ["ghcr.io/acme/"],
                    "keyless": {"issuer": GITHUB, "subject_reg_exp": "https://github.com/acme/.+"},
                },
            }
        },
        "keyed": {"images": {"require_digest": False, "signatures": {"public_key": KEY}}},
        "open": {},
    },
    "workloads": {
        "w": {"namespace": "ml", "image": "ghcr.io/acme/train:1", "run_as_user": 10001},
        "o": {"namespace": "open", "image": "ghcr.io/acme/train:1", "run_as_user": 10001},
    },
}


@pytest.fixture(scope="module")
def plan() -> Plan:
    compiled = compile_spec(Spec.model_validate(SPEC))
    assert compiled.value is not None
    return compiled.value


def _policies(plan: Plan) -> dict[str, dict[str, Any]]:
    return {
        r.properties["metadata"]["name"]: dict(r.properties)
        for r in plan.resources
        if r.properties.get("kind") == "ClusterImagePolicy"
    }


def test_a_keyless_policy_with_the_anchored_subject(plan: Plan) -> None:
    policy = _policies(plan)["demo.images.ml"]
    assert policy["apiVersion"] == "policy.sigstore.dev/v1beta1"
    assert policy["spec"] == {
        "mode": "enforce",
        "images": [{"glob": "ghcr.io/acme/**"}],
        "authorities": [
            {
                "name": "keyless",
                "keyless": {
                    "url": "https://fulcio.sigstore.dev",
                    "identities": [{"issuer": GITHUB, "subjectRegExp": "^(?:https://github.com/acme/.+)$"}],
                },
            }
        ],
    }
    # The verifier matches subjectRegExp unanchored (Go's MatchString): anchored, a subject that
    # merely contains acme's is refused.
    (identity,) = policy["spec"]["authorities"][0]["keyless"]["identities"]
    subject = re.compile(identity["subjectRegExp"])
    assert subject.search("https://github.com/acme/app/.github/workflows/release.yaml@refs/tags/v1")
    assert not subject.search("https://evil.example/x?https://github.com/acme/app")


def test_what_the_namespace_admits_unsigned_passes_statically(plan: Plan) -> None:
    """The other allowed registry and the exception pass (policy-controller denies an image no
    policy matches in a checked namespace); acme's images still need the signature."""
    unsigned = _policies(plan)["demo.images.ml.unsigned"]["spec"]
    assert unsigned["authorities"] == [{"name": "unsigned", "static": {"action": "pass"}}]
    assert [i["glob"] for i in unsigned["images"]] == [
        "quay.io/openbao/openbao/**",
        "quay.io/openbao/openbao:*",
        "quay.io/openbao/openbao@*",
        "index.docker.io/library/busybox:1.36",
    ]


def test_a_public_key_policy_covers_every_image_when_no_registry_is_named(plan: Plan) -> None:
    policy = _policies(plan)["demo.images.keyed"]["spec"]
    assert policy["images"] == [{"glob": "**"}]
    assert policy["authorities"] == [{"name": "key", "key": {"data": KEY, "hashAlgorithm": "sha256"}}]
    assert "demo.images.keyed.unsigned" not in _policies(plan)  # nothing is admitted unsigned


def test_only_signed_namespaces_are_included_and_their_pods_wait_for_the_policies(plan: Plan) -> None:
    labels = {
        r.properties["metadata"]["name"]: r.properties["metadata"].get("labels", {})
        for r in plan.resources
        if r.properties.get("kind") == "Namespace"
    }
    included = {n for n, labels in labels.items() if labels.get("policy.sigstore.dev/include") == "true"}
    assert included == {"ml", "keyed"}
    (w,) = [r for r in plan.resources if r.properties.get("kind") == "Deployment" and r.name.endswith("w")]
    policies = {r.key for r in plan.resources if r.properties.get("kind") == "ClusterImagePolicy"}
    assert {k for k in w.depends_on if "ClusterImagePolicy" in k} == {k for k in policies if ".ml" in k}
    (o,) = [r for r in plan.resources if r.properties.get("kind") == "Deployment" and r.name.endswith("o")]
    assert not [k for k in o.depends_on if "ClusterImagePolicy" in k]


def test_absent_means_no_signature_policy(tmp_path: Path) -> None:
    """The secure default: no policy nobody asked for, no namespace opted in."""
    (tmp_path / "spec.yaml").write_text(FULL, encoding="utf-8")
    result = compile_path(tmp_path / "spec.yaml", {})
    assert result.value is not None
    rendered = yaml.safe_dump([dict(r.properties) for r in result.value.plan.resources])
    assert "ClusterImagePolicy" not in rendered and "policy.sigstore.dev" not in rendered


def test_the_gpu_example_verifies_acme_images_keyless() -> None:
    result = compile_path(ROOT / "specs" / "llm-platform.yaml", {})
    assert result.value is not None
    policies = _policies(result.value.plan)
    assert set(policies) == {"llm-platform.images.llm-serving", "llm-platform.images.llm-serving.unsigned"}
    (authority,) = policies["llm-platform.images.llm-serving"]["spec"]["authorities"]
    assert authority["keyless"]["identities"][0]["issuer"] == GITHUB


def check_cluster_image_policy(doc: dict[str, Any]) -> None:
    """policy-controller's ClusterImagePolicy is not in the Kubernetes schemas: its structure by
    hand here (the engine tests validate it against policy-controller's real CRD)."""
    assert doc["apiVersion"] == "policy.sigstore.dev/v1beta1" and doc["kind"] == "ClusterImagePolicy"
    assert set(doc["metadata"]) == {"name", "labels"}
    spec = doc["spec"]
    assert set(spec) == {"mode", "images", "authorities"} and spec["mode"] == "enforce"
    assert spec["images"] and all(set(i) == {"glob"} for i in spec["images"])
    (authority,) = spec["authorities"]
    assert set(authority) in ({"name", "keyless"}, {"name", "key"}, {"name", "static"})
    for identity in authority.get("keyless", {}).get("identities", []):
        assert set(identity) in ({"issuer", "subject"}, {"issuer", "subjectRegExp"})
