"""Pod-level security: the pod security context, seccomp, host namespaces, the API token's volume."""

from __future__ import annotations

from secureai.compile.kubernetes.common import Manifest
from secureai.compile.kubernetes.pod_context import PodContext
from secureai.diagnostics import error, warning
from secureai.model.security import SecurityProfile
from secureai.model.versions import BOUND_TOKENS_MINOR

# The first non-system group on Debian, Ubuntu and Alpine, so the primary group of the usual
# `useradd app` image user: for such images the default changes nothing; for images whose user
# has group 0 it takes root's group away.
DEFAULT_GROUP = 1000


def pod_security_context(ctx: PodContext) -> Manifest:
    w, profile = ctx.workload, ctx.profile
    out: Manifest = {"seccompProfile": _seccomp(ctx)}
    if profile.run_as_non_root and "runAsNonRoot" not in ctx.relaxed:
        out["runAsNonRoot"] = True
    for key, value in (
        ("runAsUser", w.run_as_user),
        ("runAsGroup", default_group(w.run_as_user, w.run_as_group, w.fs_group)),
        ("fsGroup", w.fs_group),
    ):
        if value is not None:
            out[key] = value
    return out


def default_group(run_as_user: int | None, run_as_group: int | None, fs_group: int | None) -> int:
    """The pod's primary group: the spec's, else never the image's.

    Without runAsGroup a container runs with its image's primary group, often 0 (root's), and
    files the image left group-writable for root become the workload's. The default is the
    user's own id when the spec names one, else the fsGroup the spec already trusts with its
    volumes, else DEFAULT_GROUP.
    """
    if run_as_group is not None:
        return run_as_group
    if run_as_user:  # 0 is root's group too
        return run_as_user
    return fs_group if fs_group else DEFAULT_GROUP


def _seccomp(ctx: PodContext) -> Manifest:
    if ctx.profile.seccomp_profile == "RuntimeDefault":
        return {"type": "RuntimeDefault"}
    path = ctx.profile.localhost_profile_path(ctx.profile_name)
    ctx.diagnostics.append(
        warning(
            "SA251",
            f"workload '{ctx.name}' uses a Localhost seccomp profile: every node must have "
            f"'{path}' under the kubelet's seccomp directory",
            (*ctx.path, "securityProfile"),
            hint="install the profile on the nodes (e.g. with the Security Profiles Operator)",
        )
    )
    return {"type": "Localhost", "localhostProfile": path}


def host_namespaces(profile: SecurityProfile) -> Manifest:
    # Only set when the profile asks: the default (false) needs no key.
    flags = (
        ("hostNetwork", profile.host_network),
        ("hostPID", profile.host_pid),
        ("hostIPC", profile.host_ipc),
    )
    return {key: True for key, on in flags if on}


def check_token_volumes(ctx: PodContext) -> None:
    """The API token arrives in a volume the profile must allow, or no pod is admitted.

    (The Vault token's projected volume is checked earlier, by SA306.)
    """
    if not ctx.needs_api_token:
        return
    kind = "projected" if ctx.spec.minor >= BOUND_TOKENS_MINOR else "secret"
    if kind not in ctx.profile.volumes:
        ctx.diagnostics.append(
            error(
                "SA250",
                f"workload '{ctx.name}' needs its API token (a {kind} volume) for the access "
                f"grants of '{ctx.account}', but its security profile '{ctx.profile_name}' does "
                f"not allow {kind} volumes",
                (*ctx.path, "securityProfile"),
                hint=f"add '{kind}' to the profile's volumes",
            )
        )
