"""Image signatures as Sigstore policy-controller ClusterImagePolicies (policy.sigstore.dev/v1beta1).

One policy `<project>.images.<namespace>` per namespace whose `images` declares `signatures`:
its globs are the signatures' `registries` (default: the namespace's allowedRegistries, or every
image), its one authority the keyless identity or the public key. policy-controller checks pods
only in namespaces labelled `policy.sigstore.dev/include: "true"`, which such a namespace gets.

policy-controller refuses an image of an included namespace that no policy matches (its
`no-match-policy` is `deny` unless configured). Which registries a namespace admits is the
ValidatingAdmissionPolicy's job, so a second policy `<project>.images.<namespace>.unsigned`
passes (`static: pass`) what the namespace admits unsigned: its other allowed registries and
its image exceptions. Every policy whose glob matches must pass, so that one never weakens a
signature policy: an image under a signed registry needs its signature, exception or not.

Globs are matched against the reference as go-containerregistry names it: Docker Hub as
`index.docker.io/`, official images under `library/`, a reference without tag or digest with
`:latest` (policy-controller's pkg/apis/glob).
"""

from __future__ import annotations

from secureai.compile.kubernetes.common import Manifest, key_of, resource
from secureai.compile.plan import Resource
from secureai.model.images import DOCKER_HUB, ImagePolicy
from secureai.model.signatures import ImageSignatures
from secureai.model.spec import Spec

API = "policy.sigstore.dev/v1beta1"
KIND = "ClusterImagePolicy"
INCLUDE_LABEL = "policy.sigstore.dev/include"
HUB = "index.docker.io"
UNSIGNED = ".unsigned"
FULCIO = "https://fulcio.sigstore.dev"


def _is_host(segment: str) -> bool:
    return "." in segment or ":" in segment or segment == "localhost"


def prefix_globs(prefix: str) -> list[str]:
    """The globs of one allowed registry prefix, as `secureai.model.images.image_tests` reads it:
    what is under the path, and without a trailing '/' the repository itself too."""
    entry = prefix.rstrip("/")
    host, _, rest = entry.partition("/")
    if host in DOCKER_HUB:
        host = HUB
    base = f"{host}/{rest}" if rest else host
    globs = [f"{base}/**"]
    if rest and not prefix.endswith("/"):
        repos = [base]
        if host == HUB and "/" not in rest:  # docker.io/postgres names library/postgres too
            repos.append(f"{HUB}/library/{rest}")
        globs += [g for r in repos for g in (f"{r}:*", f"{r}@*")]
    return globs


def normalised(image: str) -> str:
    """An image reference as go-containerregistry's `Reference.Name()` writes it."""
    first, _, rest = image.partition("/")
    if not rest or not _is_host(first):
        first, rest = HUB, image
    elif first in DOCKER_HUB:
        first = HUB
    if first == HUB and "/" not in rest.split("@")[0].split(":")[0]:
        rest = f"library/{rest}"
    last = rest.rsplit("/", 1)[-1]
    if "@" not in last and ":" not in last:
        rest += ":latest"
    return f"{first}/{rest}"


def globs_of(prefixes: list[str] | None) -> list[str]:
    if prefixes is None:
        return ["**"]
    return list(dict.fromkeys(g for p in prefixes for g in prefix_globs(p)))


def signed_globs(policy: ImagePolicy) -> list[str]:
    signatures = policy.signatures
    assert signatures is not None
    return globs_of(signatures.registries if signatures.registries is not None else policy.allowed_registries)


def unsigned_globs(policy: ImagePolicy) -> list[str]:
    """What the namespace admits without a signature (exceptions included); an image also
    under a signed glob must pass that policy too."""
    signed = set(signed_globs(policy))
    allowed = [g for g in globs_of(policy.allowed_registries) if g not in signed]
    return list(dict.fromkeys([*allowed, *(normalised(i) for i in policy.exempt)]))


def authority(signatures: ImageSignatures) -> dict[str, object]:
    if signatures.keyless is not None:
        who = signatures.keyless
        # The verifier's subjectRegExp is unanchored (Go's MatchString): anchored here, so that
        # the whole subject must match, as the spec's description says.
        identity = (
            {"issuer": who.issuer, "subject": who.subject}
            if who.subject is not None
            else {"issuer": who.issuer, "subjectRegExp": f"^(?:{who.subject_reg_exp})$"}
        )
        # The public Sigstore instance, written out (policy-controller's defaulting webhook
        # would add it): what is reviewed is what is stored.
        return {"name": "keyless", "keyless": {"url": FULCIO, "identities": [identity]}}
    return {"name": "key", "key": {"data": signatures.public_key, "hashAlgorithm": "sha256"}}


def signature_policy_name(spec: Spec, namespace: str) -> str:
    return f"{spec.project}.images.{namespace}"


def signed_namespaces(spec: Spec) -> list[str]:
    return [n for n in spec.namespaces if _signed(spec, n)]


def _signed(spec: Spec, namespace: str) -> bool:
    """One namespace's answer (asked per workload: listing them all each time was quadratic)."""
    declared = spec.namespaces.get(namespace)
    return declared is not None and declared.images is not None and bool(declared.images.signatures)


def compile_signatures(spec: Spec) -> list[Resource]:
    out: list[Resource] = []
    for namespace in signed_namespaces(spec):
        policy = spec.namespaces[namespace].images
        assert policy is not None and policy.signatures is not None
        out.append(_policy(spec, namespace, signed_globs(policy), [authority(policy.signatures)]))
        unsigned = unsigned_globs(policy)
        if unsigned:
            static: dict[str, object] = {"name": "unsigned", "static": {"action": "pass"}}
            out.append(_policy(spec, namespace, unsigned, [static], UNSIGNED))
    return out


def _policy(
    spec: Spec, namespace: str, globs: list[str], authorities: list[dict[str, object]], suffix: str = ""
) -> Resource:
    name = signature_policy_name(spec, namespace) + suffix
    body: Manifest = {
        "spec": {"mode": "enforce", "images": [{"glob": g} for g in globs], "authorities": authorities}
    }
    source = ("namespaces", namespace, "images", "signatures")
    return resource(API, KIND, name, None, body, source, logical=f"secureai.signatures.{namespace}{suffix}")


def signature_dependencies(spec: Spec, namespace: str) -> list[str]:
    """A workload's pods are created once its namespace's signature policies exist."""
    policy = spec.namespaces[namespace].images if _signed(spec, namespace) else None
    if policy is None:
        return []
    suffixes = ["", UNSIGNED] if unsigned_globs(policy) else [""]
    return [key_of(API, KIND, None, f"secureai.signatures.{namespace}{s}") for s in suffixes]


def signature_labels(spec: Spec, namespace: str) -> dict[str, str]:
    """The label that makes policy-controller check the namespace's pods."""
    return {INCLUDE_LABEL: "true"} if _signed(spec, namespace) else {}
