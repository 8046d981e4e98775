"""Image policies: every container secureai renders in a namespace with `images` follows it.

SA138 an image without the digest the namespace requires; SA139 an image from a registry the
namespace does not allow; SA144 a target whose cluster cannot enforce the policy. The tests are
the ones the admission policy's CEL runs, so validate and the cluster agree.
"""

from __future__ import annotations

from collections.abc import Iterator

from secureai.diagnostics import Diagnostic, SpecPath, error, warning
from secureai.model.images import ImagePolicy, digest_ok, registry_allowed
from secureai.model.spec import Spec, Workload
from secureai.model.versions import VAP_BETA, VAP_GA


def rendered_images(name: str, w: Workload) -> Iterator[tuple[str, str, SpecPath]]:
    """(who, image, where) of every container secureai renders for workload `name`."""
    base: SpecPath = ("workloads", name)
    if w.external or w.image is None:
        return
    yield f"workload '{name}'", w.image, (*base, "image")
    for c_name, c in w.init_containers.items():
        yield (
            f"init container '{c_name}' of workload '{name}'",
            c.image,
            (*base, "initContainers", c_name, "image"),
        )
    for c_name, c in w.sidecars.items():
        yield f"sidecar '{c_name}' of workload '{name}'", c.image, (*base, "sidecars", c_name, "image")
    if w.vault is not None and w.vault.deliver == "agent":
        where = (
            (*base, "vault", "agent", "image")
            if "image" in w.vault.agent.model_fields_set
            else (*base, "vault")
        )
        yield f"the Vault agent of workload '{name}'", w.vault.agent.image, where


def check_images(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name, ns in spec.namespaces.items():
        if ns.images is not None:
            out += _enforcement(spec, name)
    for name, w in spec.workloads.items():
        found = spec.namespaces.get(w.namespace)
        policy = found.images if found is not None else None
        if policy is None:
            continue
        for who, image, where in rendered_images(name, w):
            out += _image(w.namespace, policy, who, image, where)
    return out


def _image(namespace: str, policy: ImagePolicy, who: str, image: str, where: SpecPath) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    if not digest_ok(policy, image):
        out.append(
            error(
                "SA138",
                f"{who} uses image '{image}' without a digest, which namespace '{namespace}' requires",
                where,
                hint="pin it as name@sha256:<digest> (`crane digest` or `docker buildx imagetools "
                "inspect` print it), or list it in the namespace's images.exceptions with a reason",
            )
        )
    if not registry_allowed(policy, image):
        shown = ", ".join(policy.allowed_registries or []) or "none"
        out.append(
            error(
                "SA139",
                f"{who} uses image '{image}', which is not under a registry namespace "
                f"'{namespace}' allows ({shown})",
                where,
                hint="use a mirror under an allowed registry, add its registry to allowedRegistries, "
                "or list it in the namespace's images.exceptions with a reason",
            )
        )
    return out


def _enforcement(spec: Spec, namespace: str) -> list[Diagnostic]:
    version = spec.kubernetes.version
    where = ("namespaces", namespace, "images")
    if spec.minor < VAP_BETA:
        return [
            warning(
                "SA144",
                f"Kubernetes {version} has no ValidatingAdmissionPolicy: the image policy of namespace "
                f"'{namespace}' is checked on the spec's workloads but not enforced by the cluster",
                where,
                hint="target 1.28 or later for enforcement, or enforce it with an admission webhook",
            )
        ]
    if spec.minor < VAP_GA and not spec.security_profiles:  # with profiles, SA142 says it
        return [
            warning(
                "SA144",
                f"Kubernetes {version} enforces the image policy of namespace '{namespace}' only when "
                "the cluster serves ValidatingAdmissionPolicy v1beta1",
                where,
                hint="enable the admissionregistration.k8s.io/v1beta1 API and the "
                "ValidatingAdmissionPolicy feature gate, or target 1.30+",
            )
        ]
    return []
