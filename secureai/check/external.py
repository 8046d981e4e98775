"""Workloads managed elsewhere (`managedBy`): what the spec may say of them, and what it cannot vouch for.

secureai renders no pod for them, so it selects their pods by namespace and labels and grants
their service account; it says plainly that the pod spec itself goes unchecked, and refuses
the fields (and Vault deliveries) that would only change a pod it renders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from secureai.diagnostics import Diagnostic, SpecPath, error, warning
from secureai.model.labels import PROFILE_LABEL
from secureai.model.profile_scope import effective_profile, profile_namespaces
from secureai.model.spec import Spec, Workload
from secureai.model.versions import VAP_BETA
from secureai.model.workloads import EXTERNAL_FIELDS

# Deliveries that add containers, volumes or annotations to the pod.
_POD_DELIVERIES = ("agent", "injector")


Rule = Callable[[Spec, str, Workload, SpecPath], Iterator[Diagnostic]]


def check_external(spec: Spec) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name, w in spec.workloads.items():
        rules = _EXTERNAL if w.external else _RENDERED
        for rule in rules:
            out.extend(rule(spec, name, w, ("workloads", name)))
    return out


def _unchecked(spec: Spec, name: str, w: Workload, base: SpecPath) -> Iterator[Diagnostic]:
    yield warning(
        "SA190",
        f"the pod spec of workload '{name}' is not rendered by secureai ({w.managed_by} "
        "creates its pods) and is not checked",
        (*base, "managedBy"),
        hint="its pods are selected by namespace and labels for network rules, and its "
        "service account gets the access and Vault grants; their containers' security is "
        "the chart's or the operator's",
    )


def _profile_label(spec: Spec, name: str, w: Workload, base: SpecPath) -> Iterator[Diagnostic]:
    namespaces = profile_namespaces(spec)
    if spec.minor < VAP_BETA or w.namespace not in namespaces:
        return
    profile = effective_profile(spec, name, namespaces)
    yield warning(
        "SA196",
        f"pods of workload '{name}' are admitted in namespace '{w.namespace}' only if "
        f"they carry the label {PROFILE_LABEL}={profile}, which {w.managed_by} must set",
        (*base, "securityProfile") if w.security_profile is not None else (*base, "managedBy"),
        hint="add it to the pod labels the chart or operator sets (often 'podLabels' in "
        "its values); the profile's rules then apply to those pods",
    )


def _rendered(_spec: Spec, name: str, w: Workload, base: SpecPath) -> Iterator[Diagnostic]:
    if w.image is None:
        yield error(
            "SA191",
            f"workload '{name}' has no 'image'",
            base,
            hint="a workload secureai renders needs one; if a Helm chart or an operator creates "
            "its pods, say so with 'managedBy'",
        )
    if w.create_service_account is not None:
        yield error(
            "SA192",
            f"workload '{name}' is rendered by secureai, which always creates its service "
            "account; only a managedBy workload takes 'createServiceAccount'",
            (*base, "createServiceAccount"),
        )


def _rendered_only(_spec: Spec, name: str, w: Workload, base: SpecPath) -> Iterator[Diagnostic]:
    for field in Workload.model_fields:
        if field in w.model_fields_set and field not in EXTERNAL_FIELDS:
            key = Workload.model_fields[field].alias or field
            yield error(
                "SA192",
                f"workload '{name}' is managed by {w.managed_by}; '{key}' describes a pod secureai renders",
                (*base, key),
                hint="set it in the chart or the operator's resource; here say only namespace, "
                "labels, serviceAccount, createServiceAccount, securityProfile and vault",
            )


def _identity(_spec: Spec, name: str, w: Workload, base: SpecPath) -> Iterator[Diagnostic]:
    if w.service_account is None:
        yield error(
            "SA193",
            f"workload '{name}' is managed by {w.managed_by} and needs 'serviceAccount', the "
            "account its pods run as",
            base,
            hint="the account the chart or operator gives its pods (spec.serviceAccountName "
            "of a running pod)",
        )
    if not w.labels:
        yield error(
            "SA194",
            f"workload '{name}' is managed by {w.managed_by} and needs 'labels' that select its pods",
            base,
            hint="the labels the chart or operator puts on these pods (kubectl get pods "
            "--show-labels); without them network rules would select every pod of the namespace",
        )


def _vault(_spec: Spec, name: str, w: Workload, base: SpecPath) -> Iterator[Diagnostic]:
    if w.vault is None or w.vault.deliver not in _POD_DELIVERIES:
        return
    explicit = "deliver" in w.vault.model_fields_set
    yield error(
        "SA195",
        f"workload '{name}' is managed by {w.managed_by}; Vault delivery '{w.vault.deliver}'"
        f"{'' if explicit else ' (the default)'} changes a pod secureai renders",
        (*base, "vault", "deliver") if explicit else (*base, "vault"),
        hint="say 'deliver: none' (the application logs in to Vault with its service account) "
        "or 'deliver: externalSecrets' (the chart mounts the synced Secret)",
    )


# In the order their findings are reported.
_RENDERED: tuple[Rule, ...] = (_rendered,)
_EXTERNAL: tuple[Rule, ...] = (_unchecked, _rendered_only, _identity, _vault, _profile_label)
