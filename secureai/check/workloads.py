"""Workloads are well-formed for their kind and stay inside their security profile."""

from __future__ import annotations

from secureai.diagnostics import Diagnostic, SpecPath, did_you_mean, error, warning
from secureai.model.labels import VAULT_TOKEN_DIR
from secureai.model.profile_scope import IMPLICIT_PROFILE, effective_profile, profile_namespaces
from secureai.model.spec import SecurityProfile, Spec, Workload
from secureai.model.workloads import CRONJOB_FIELDS, JOB_FIELDS

_REPLICATED = {"Deployment", "StatefulSet"}


def check_workloads(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    namespaces = profile_namespaces(spec)
    for name, w in spec.workloads.items():
        if w.external or w.image is None:
            continue  # no pod spec to check (check/external.py says so)
        base: SpecPath = ("workloads", name)
        out.extend(_kind_fields(name, w, base))
        out.extend(_shared_claims(name, w, base))
        out.extend(_service(name, w, base))
        out.extend(_image(name, w, base))
        out.extend(_mount_paths(name, w, base))
        profile_name = effective_profile(spec, name, namespaces)
        if profile_name is not None:
            profile = spec.security_profiles.get(profile_name) or SecurityProfile()
            out.extend(_volumes_in_profile(name, profile_name, w, profile, base))
        out.extend(_run_as_user(name, w, base))
        if not _sets_amounts(w):
            out.append(
                warning(
                    "SA135",
                    f"workload '{name}' sets no resource requests or limits",
                    base,
                    hint="without limits one pod can starve the node; add 'resources'",
                )
            )
    return out


def _run_as_user(name: str, w: Workload, base: SpecPath) -> list[Diagnostic]:
    """`runAsNonRoot` without `runAsUser` leaves the check to the kubelet, at start-up: an image
    whose user is root (most CUDA, PyTorch and vLLM images) or a name (`USER postgres`) is
    refused with CreateContainerConfigError, which validate can say before any cluster does."""
    if w.run_as_user is not None or w.relaxes("runAsNonRoot"):
        return []
    return [
        warning(
            "SA137",
            f"workload '{name}' sets no runAsUser: its pods start only if the image's user is a "
            "non-zero number (runAsNonRoot is always on); an image that runs as root or as a "
            "user name is refused by the kubelet",
            base,
            hint="set runAsUser to the uid the image runs as, or to a non-zero uid it can run as",
        )
    ]


def _sets_amounts(w: Workload) -> bool:
    """Whether any request or limit is set: `resources: {}` compiles to no resources at all."""
    if w.resources is None:
        return False
    amounts = (w.resources.requests, w.resources.limits)
    return any(amounts_ for amounts_ in amounts)


def _mount_paths(name: str, w: Workload, base: SpecPath) -> list[Diagnostic]:
    """Two volumes at one path are refused by the API server; so is one at the token's path."""
    # Only an application that logs in itself (`deliver: none`) has the token mounted.
    reads_itself = w.vault is not None and w.vault.deliver == "none"
    taken = {VAULT_TOKEN_DIR: "the Vault login token"} if reads_itself else {}
    out: list[Diagnostic] = []
    for vol_name, vol in w.volumes.items():
        where = vol.mount_path.rstrip("/") or "/"
        if where in taken:
            out.append(
                error(
                    "SA136",
                    f"workload '{name}' mounts volume '{vol_name}' at {where}, where {taken[where]} "
                    "is mounted already",
                    (*base, "volumes", vol_name, "mountPath"),
                )
            )
        taken.setdefault(where, f"volume '{vol_name}'")
    return out


def _shared_claims(name: str, w: Workload, base: SpecPath) -> list[Diagnostic]:
    """One ReadWriteOnce claim mounted by several replicas: the pods on other nodes never start."""
    if w.kind != "Deployment" or (w.replicas if w.replicas is not None else 1) <= 1:
        return []
    return [
        error(
            "SA176",
            f"workload '{name}' has {w.replicas} replicas sharing the ReadWriteOnce claim of volume "
            f"'{vol_name}': replicas on other nodes cannot mount it",
            (*base, "volumes", vol_name, "claim"),
            hint="make it a StatefulSet (one claim per replica), or use ReadWriteMany storage",
        )
        for vol_name, vol in w.volumes.items()
        if vol.claim is not None and set(vol.claim.access_modes) & {"ReadWriteOnce", "ReadWriteOncePod"}
    ]


def _service(name: str, w: Workload, base: SpecPath) -> list[Diagnostic]:
    if w.service is None:
        return []
    out: list[Diagnostic] = []
    names = [p.name for p in w.ports if p.name is not None]
    numbers = {p.port for p in w.ports}
    named = set(names)  # looked up once per Service port: a set, however many ports there are
    for i, port in enumerate(w.service.ports):
        if (isinstance(port, str) and port not in named) or (isinstance(port, int) and port not in numbers):
            suggestion = did_you_mean(port, names) if isinstance(port, str) else ""
            out.append(
                error(
                    "SA172",
                    f"workload '{name}' has no port {'named ' if isinstance(port, str) else ''}'{port}' "
                    f"for its Service{suggestion}",
                    (*base, "service", "ports", i),
                    hint="a Service port is one of the workload's 'ports', by name or number",
                )
            )
    if not w.ports:
        out.append(
            error(
                "SA172",
                f"workload '{name}' has a Service but no 'ports' to serve",
                (*base, "service"),
                hint="declare the ports the workload listens on",
            )
        )
    if w.service.type != "ClusterIP":
        out.append(
            warning(
                "SA177",
                f"workload '{name}' is exposed outside the cluster by a {w.service.type} Service",
                (*base, "service", "type"),
                hint="every node's address (NodePort) or a cloud load balancer now reaches these pods; "
                "ClusterIP behind an ingress keeps them inside",
            )
        )
    return out


def _kind_fields(name: str, w: Workload, base: SpecPath) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    kinds = {"Job": "a Job or CronJob", "CronJob": "a CronJob"}
    for field in (*JOB_FIELDS, *CRONJOB_FIELDS[1:]):
        wanted = "Job" if field in JOB_FIELDS else "CronJob"
        if field in w.model_fields_set and w.kind not in (wanted, "CronJob"):
            key = Workload.model_fields[field].alias or field
            out.append(
                error(
                    "SA132",
                    f"workload '{name}' is a {w.kind}; only {kinds[wanted]} takes '{key}'",
                    (*base, key),
                )
            )
    if w.service is not None and w.kind not in _REPLICATED:
        out.append(
            error(
                "SA132",
                f"workload '{name}' is a {w.kind}; only a Deployment or StatefulSet takes 'service'",
                (*base, "service"),
            )
        )
    if w.kind == "CronJob" and w.schedule is None:
        out.append(error("SA131", f"workload '{name}' is a CronJob and needs a 'schedule'", (*base, "kind")))
    if w.kind != "CronJob" and w.schedule is not None:
        out.append(
            error(
                "SA132",
                f"workload '{name}' is a {w.kind}; only a CronJob takes 'schedule'",
                (*base, "schedule"),
            )
        )
    if w.kind not in _REPLICATED and w.replicas is not None:
        out.append(
            error(
                "SA132",
                f"workload '{name}' is a {w.kind}; only a Deployment or StatefulSet takes 'replicas'",
                (*base, "replicas"),
            )
        )
    return out


def image_pinned(image: str) -> bool:
    """A digest, or a tag other than `latest`."""
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    return tag is not None and tag != "latest"


def _image(name: str, w: Workload, base: SpecPath) -> list[Diagnostic]:
    if w.image is not None and not image_pinned(w.image):
        return [
            warning(
                "SA130",
                f"workload '{name}' uses image '{w.image}' without a pinned tag",
                (*base, "image"),
                hint="pin a version tag or a digest (@sha256:...) so deploys are repeatable",
            )
        ]
    return []


def _volumes_in_profile(
    name: str, profile_name: str, w: Workload, profile: SecurityProfile, base: SpecPath
) -> list[Diagnostic]:
    implicit = w.security_profile is None
    hint = (
        f"workloads without a profile in namespace '{w.namespace}' run under the restricted "
        f"'{IMPLICIT_PROFILE}' profile, because the cluster admits there only pods with a profile; "
        "give the workload a securityProfile that allows it"
        if implicit
        else None
    )
    out: list[Diagnostic] = []
    if w.shm is not None and "emptyDir" not in profile.volumes:
        out.append(
            error(
                "SA133",
                f"workload '{name}' asks for shm, a memory-backed emptyDir volume, which its "
                f"security profile '{profile_name}' does not allow",
                (*base, "shm"),
                hint=hint,
            )
        )
    for vol_name, vol in w.volumes.items():
        path = (*base, "volumes", vol_name)
        if vol.type not in profile.volumes:
            out.append(
                error(
                    "SA133",
                    f"workload '{name}' mounts a {vol.type} volume '{vol_name}', which its "
                    f"security profile '{profile_name}' does not allow",
                    path,
                    hint=hint,
                )
            )
        elif vol.host_path is not None:
            out.extend(_host_path(name, vol_name, vol.host_path, not vol.writable, profile, path))
    return out


def _host_path(
    name: str, vol_name: str, host_path: str, read_only: bool, profile: SecurityProfile, path: SpecPath
) -> list[Diagnostic]:
    matching = [
        allowed
        for allowed in profile.allowed_host_paths
        if host_path == allowed.path_prefix.rstrip("/")
        or host_path.startswith(allowed.path_prefix.rstrip("/") + "/")
    ]
    # Like PodSecurityPolicy and the generated admission policy: any matching prefix that
    # allows writing allows it.
    if matching and not read_only and all(allowed.read_only for allowed in matching):
        return [
            error(
                "SA134",
                f"workload '{name}' mounts host path '{host_path}' writable; "
                f"its profile allows '{matching[0].path_prefix}' read-only",
                (*path, "readOnly"),
            )
        ]
    if matching:
        return []
    return [
        error(
            "SA134",
            f"workload '{name}' mounts host path '{host_path}', which is outside the "
            "profile's allowedHostPaths",
            (*path, "hostPath"),
        )
    ]
