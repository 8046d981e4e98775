"""Image signatures: SA145, two namespaces whose signature policies cover the same images with
different signers.

policy-controller's ClusterImagePolicies are cluster-wide: in every namespace it checks, an
image must pass every policy whose glob matches it. A namespace's signature policy therefore
also holds in the other namespaces that declare signatures; with different signers over the
same registries, their images would need both signatures, and working images would be refused.
"""

from __future__ import annotations

from secureai.diagnostics import Diagnostic, error
from secureai.model.images import DOCKER_HUB
from secureai.model.signatures import ImageSignatures
from secureai.model.spec import Spec

EVERY = "every image"


def _path(prefix: str) -> str:
    """The prefix as a path, Docker Hub's two host names as one."""
    host, _, rest = prefix.rstrip("/").partition("/")
    return f"{DOCKER_HUB[0] if host in DOCKER_HUB else host}/{rest}".rstrip("/")


def _overlap(a: list[str] | None, b: list[str] | None) -> str | None:
    """A prefix both cover (on path boundaries), or EVERY when one covers every image."""
    if a is None or b is None:
        return (b or a or [EVERY])[0]
    for x in a:
        for y in b:
            px, py = _path(x), _path(y)
            if px == py or px.startswith(py + "/") or py.startswith(px + "/"):
                return x if len(px) >= len(py) else y
    return None


def check_signatures(spec: Spec) -> list[Diagnostic]:
    signed: list[tuple[str, ImageSignatures, list[str] | None]] = []
    out: list[Diagnostic] = []
    for name, ns in spec.namespaces.items():
        policy = ns.images
        if policy is None or policy.signatures is None:
            continue
        sig = policy.signatures
        covers = sig.registries if sig.registries is not None else policy.allowed_registries
        for other, other_sig, other_covers in signed:
            both = _overlap(covers, other_covers)
            if both is None or (sig.keyless, sig.public_key) == (other_sig.keyless, other_sig.public_key):
                continue
            out.append(
                error(
                    "SA145",
                    f"the signature policies of namespaces '{other}' and '{name}' both cover "
                    f"'{both}' with different signers: policy-controller holds every namespace it "
                    "checks to both, so those images would need both signatures",
                    ("namespaces", name, "images", "signatures"),
                    hint="give both namespaces the same signer, or set signatures.registries so "
                    "that their registries do not overlap",
                )
            )
        signed.append((name, sig, covers))
    return out
