"""Which images a namespace's pods may run: pinned by digest, from allowed registries.

The policy is checked by `validate` on every container secureai renders and enforced by a
ValidatingAdmissionPolicy on every pod created in the namespace, whoever creates it. Both read
the same `ImageTests`, so what validate accepts is what the cluster admits.

An image reference is matched as written in the pod (the API server does not normalise it).
Docker Hub references have short forms (`postgres:16`, `qdrant/qdrant:v1`), so an allowed
`docker.io/...` prefix also admits the short forms that name the same repositories.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, WithJsonSchema

from secureai.model.base import Model, empty_list
from secureai.model.names import FreeText, Image
from secureai.model.signatures import ImageSignatures

DIGEST = "@sha256:"
DOCKER_HUB = ("docker.io", "index.docker.io")
# A registry host (with an optional port), then repository path segments, optional trailing '/'.
_PREFIX = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*/?")


def _is_host(segment: str) -> bool:
    """How container runtimes tell a registry host from a Docker Hub namespace."""
    return "." in segment or ":" in segment or segment == "localhost"


def _registry_prefix(value: str) -> str:
    if not _PREFIX.fullmatch(value):
        raise ValueError(
            f"'{value}' is not a registry or repository prefix such as registry.example.com/ml/ "
            "(no tag or digest)"
        )
    if not _is_host(value.split("/")[0]):
        raise ValueError(
            f"'{value}' does not start with a registry host: write it in full, such as "
            f"docker.io/{value.rstrip('/')}/ or ghcr.io/{value.rstrip('/')}/"
        )
    return value


RegistryPrefix = Annotated[str, AfterValidator(_registry_prefix), WithJsonSchema({"type": "string"})]


class ImageException(Model):
    """One image (the exact reference, as pods write it) exempt from the namespace's policy."""

    image: Image
    reason: FreeText = Field(min_length=10, description="why this image cannot follow the policy")


class ImagePolicy(Model):
    """What every pod in the namespace may run, enforced by the cluster (Kubernetes 1.28+)."""

    require_digest: StrictBool = Field(
        True,
        description="every image is pinned by digest (name@sha256:...), so a tag moved in "
        "the registry cannot change what runs",
    )
    allowed_registries: list[RegistryPrefix] | None = Field(
        None,
        min_length=1,
        description="registry or repository prefixes images must start with, such as "
        "registry.example.com/ml/; matched on path boundaries; default: any registry",
    )
    exceptions: list[ImageException] = Field(default_factory=empty_list)
    signatures: ImageSignatures | None = Field(
        None,
        description="who must have signed every image under allowedRegistries, verified by "
        "Sigstore policy-controller; default: no signature is verified",
    )

    @property
    def exempt(self) -> list[str]:
        return [e.image for e in self.exceptions]


@dataclass(frozen=True)
class ImageTest:
    """One way an image reference can fall under an allowed prefix.

    kind: `prefix` (starts with text), `repo` (is the repository text, with a tag or digest or
    neither), `bare` (a Docker Hub official image written without '/'), `library` (any official
    Docker Hub image), `hub` (any Docker Hub image).
    """

    kind: Literal["prefix", "repo", "bare", "library", "hub"]
    text: str = ""


def _repo_tests(repo: str) -> list[ImageTest]:
    return [ImageTest("prefix", repo + "/"), ImageTest("repo", repo)]


def image_tests(prefix: str) -> list[ImageTest]:
    """The tests of one allowed prefix, Docker Hub short forms included.

    `registry.example.com/ml/` admits what is under that path; `quay.io/openbao/openbao`
    (no trailing '/') also that repository itself, with any tag or digest.
    """
    entry = prefix.rstrip("/")
    host, _, rest = entry.partition("/")
    tests = _repo_tests(entry)
    if host in DOCKER_HUB:
        tests += _hub_tests(host, rest)
    # With a trailing '/', only what is under the path; without, the repository itself too.
    # A `repo` test needs a '/' in its text: `name:` could be a registry host and port.
    exact = not prefix.endswith("/")
    return [
        t for t in tests if t.kind not in ("repo", "bare") or (exact and (t.kind == "bare" or "/" in t.text))
    ]


def _hub_tests(host: str, rest: str) -> list[ImageTest]:
    """The other ways to write the Docker Hub prefix `host/rest`."""
    if not rest:
        return [ImageTest("hub")]
    other = DOCKER_HUB[1] if host == DOCKER_HUB[0] else DOCKER_HUB[0]
    tests = _repo_tests(f"{other}/{rest}")
    if not _is_host(rest.split("/")[0]):  # `rest` alone would name another registry
        tests += _repo_tests(rest)
    if rest == "library":
        tests.append(ImageTest("library"))
    elif rest.startswith("library/") and rest.count("/") == 1:
        name = rest.removeprefix("library/")  # docker.io/postgres and postgres name it too
        tests += [ImageTest("bare", name), *(ImageTest("repo", f"{h}/{name}") for h in DOCKER_HUB)]
    return tests


NOT_HUB = re.compile(r"^(localhost|[^/]*[.:][^/]*)/")
HUB_OFFICIAL = re.compile(r"^(index\.)?docker\.io/[^/]+$")


def passes(test: ImageTest, image: str) -> bool:
    """`test` on an image reference, exactly as the admission policy's CEL evaluates it."""
    t = test.text
    if test.kind == "prefix":
        return image.startswith(t)
    if test.kind == "repo":
        return image == t or image.startswith((t + ":", t + "@"))
    if test.kind == "bare":
        return "/" not in image and (image == t or image.startswith((t + ":", t + "@")))
    if test.kind == "library":
        return "/" not in image or bool(HUB_OFFICIAL.search(image))
    # hub
    return not NOT_HUB.search(image) or image.startswith(tuple(h + "/" for h in DOCKER_HUB))


def registry_allowed(policy: ImagePolicy, image: str) -> bool:
    if policy.allowed_registries is None or image in policy.exempt:
        return True
    return any(passes(t, image) for p in policy.allowed_registries for t in image_tests(p))


def digest_ok(policy: ImagePolicy, image: str) -> bool:
    return not policy.require_digest or DIGEST in image or image in policy.exempt
