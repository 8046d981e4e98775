"""Workload controllers (Pod, Deployment, StatefulSet, Job, CronJob) with their Services and claims."""

from __future__ import annotations

from dataclasses import replace

from secureai.compile.kubernetes.common import Manifest, key_of, resource
from secureai.compile.kubernetes.images import image_dependencies
from secureai.compile.kubernetes.podspec import PodContext, pod_spec
from secureai.compile.kubernetes.profiles import psp_binding_key
from secureai.compile.kubernetes.quota import quota_dependencies
from secureai.compile.kubernetes.services import headless_service, workload_service
from secureai.compile.kubernetes.signatures import signature_dependencies
from secureai.compile.kubernetes.storage import claim_name, claim_templates, owned_claims
from secureai.compile.kubernetes.vault_delivery import vault_dependencies
from secureai.compile.plan import Resource
from secureai.diagnostics import Diagnostic, warning
from secureai.model.labels import APP_NAME, MANAGED_BY, PROFILE_LABEL, pod_labels
from secureai.model.spec import Spec, Workload
from secureai.model.versions import CRONJOB_GA, PSP_REMOVED
from secureai.model.workloads import CRONJOB_FIELDS, JOB_FIELDS


def compile_workloads(spec: Spec) -> tuple[list[Resource], list[Diagnostic]]:
    resources: list[Resource] = []
    diagnostics: list[Diagnostic] = []
    for name, w in spec.workloads.items():
        if w.external or w.image is None:
            # Someone else renders these pods (or the spec lacks an image: SA191).
            continue
        ctx = PodContext(spec, name, w)
        diagnostics.extend(_label_conflicts(name, w))
        diagnostics.extend(_exceptions(name, w))
        resources.extend(owned_claims(ctx))
        if w.kind == "StatefulSet":
            resources.append(headless_service(name, w))
        service = workload_service(name, w)
        if service is not None:
            resources.append(service)
        resources.append(_workload(ctx))
        diagnostics.extend(ctx.diagnostics)
    return resources, diagnostics


def _workload(ctx: PodContext) -> Resource:
    name, w = ctx.name, ctx.workload
    labels = pod_labels(name, w)
    spec = pod_spec(ctx)
    template_meta: Manifest = {"labels": labels}
    pod_annotations = {**w.pod_annotations, **ctx.annotations}
    if pod_annotations:
        template_meta["annotations"] = pod_annotations
    template: Manifest = {"metadata": template_meta, "spec": spec}
    api_version, body = _controller(ctx, template)
    return resource(
        api_version,
        w.kind,
        name,
        w.namespace,
        body,
        ctx.path,
        labels=labels,
        # A bare Pod is its own template: its pod annotations go on the object itself.
        annotations={**w.annotations, **pod_annotations} if w.kind == "Pod" else w.annotations,
        depends_on=_dependencies(ctx),
    )


def _set(w: Workload, fields: tuple[str, ...]) -> Manifest:
    """The fields the spec sets, by their Kubernetes names (the rest keep Kubernetes' defaults)."""
    aliases = {f: Workload.model_fields[f].alias or f for f in fields}
    return {aliases[f]: getattr(w, f) for f in fields if getattr(w, f) is not None}


def _controller(ctx: PodContext, template: Manifest) -> tuple[str, Manifest]:
    name, w = ctx.name, ctx.workload
    selector = {"matchLabels": {APP_NAME: name}}
    replicas = {"replicas": w.replicas} if w.replicas is not None else {}
    if w.kind == "Pod":
        return "v1", {"spec": template["spec"]}
    if w.kind == "Deployment":
        return "apps/v1", {"spec": {**replicas, "selector": selector, "template": template}}
    if w.kind == "StatefulSet":
        spec = {**replicas, "serviceName": name, "selector": selector, "template": template}
        templates = claim_templates(ctx)
        if templates:
            spec["volumeClaimTemplates"] = templates
        return "apps/v1", {"spec": spec}
    job = {**_set(w, JOB_FIELDS), **_job_spec(template)}
    if w.kind == "Job":
        return "batch/v1", {"spec": job}
    api_version = "batch/v1" if ctx.spec.minor >= CRONJOB_GA else "batch/v1beta1"
    cron: Manifest = {
        **_set(w, CRONJOB_FIELDS),
        # Overlapping runs of a training or scoring job are rarely intended and double the load.
        "concurrencyPolicy": w.concurrency_policy,
        "jobTemplate": {"metadata": {"labels": template["metadata"]["labels"]}, "spec": job},
    }
    return api_version, {"spec": cron}


def _job_spec(template: Manifest) -> Manifest:
    # Jobs must not restart Always; OnFailure retries in place instead of littering pods.
    pod = {**template["spec"], "restartPolicy": "OnFailure"}
    return {"template": {"metadata": template["metadata"], "spec": pod}}


def _dependencies(ctx: PodContext) -> tuple[str, ...]:
    w = ctx.workload
    containers = [w, *w.init_containers.values(), *w.sidecars.values()]
    deps = [key_of("v1", "ServiceAccount", w.namespace, ctx.account)]
    secrets = [e.secret for c in containers for e in c.env.values() if e.secret is not None]
    secrets += [e.secret for c in containers for e in c.env_from if e.secret is not None]
    secrets += [v.secret for v in w.volumes.values() if v.secret is not None]
    secrets += list(w.image_pull_secrets)
    deps += [key_of("v1", "Secret", w.namespace, s) for s in dict.fromkeys(secrets) if s in ctx.spec.secrets]
    maps = [e.config_map for c in containers for e in c.env.values() if e.config_map is not None]
    maps += [e.config_map for c in containers for e in c.env_from if e.config_map is not None]
    maps += [v.config_map for v in w.volumes.values() if v.config_map is not None]
    deps += [
        key_of("v1", "ConfigMap", w.namespace, m)
        for m in dict.fromkeys(maps)
        if m in ctx.spec.config_maps and not ctx.spec.config_maps[m].external
    ]
    if w.kind != "StatefulSet":
        deps += [
            key_of("v1", "PersistentVolumeClaim", w.namespace, claim_name(ctx.name, v))
            for v, vol in w.volumes.items()
            if vol.claim is not None
        ]
    profile = w.security_profile
    if ctx.spec.minor < PSP_REMOVED and profile in ctx.spec.security_profiles:
        # PodSecurityPolicy admits a pod only once its account may `use` the policy.
        deps.append(psp_binding_key(w.namespace, str(profile)))
    if w.kind == "StatefulSet":
        deps.append(key_of("v1", "Service", w.namespace, ctx.name))
    deps += vault_dependencies(ctx.spec, ctx.name)
    deps += quota_dependencies(ctx.spec, w.namespace)
    deps += image_dependencies(ctx.spec, w.namespace)
    deps += signature_dependencies(ctx.spec, w.namespace)
    return tuple(deps)


def _exceptions(name: str, w: Workload) -> list[Diagnostic]:
    return [
        replace(
            warning(
                "SA178",
                f"workload '{name}' relaxes {e.rule}: \"{e.because}\"",
                ("workloads", name, "exceptions", i),
                hint="a written exception; the namespace's Pod Security level still applies",
            ),
            justification=e.because,
        )
        for i, e in enumerate(w.exceptions)
    ]


def _label_conflicts(name: str, w: Workload) -> list[Diagnostic]:
    ours = {APP_NAME: name, MANAGED_BY: "secureai", PROFILE_LABEL: w.security_profile}
    return [
        warning(
            "SA252",
            f"workload '{name}' sets label '{key}', which secureai sets itself; its value is "
            f"replaced by '{ours[key]}'",
            ("workloads", name, "labels", key),
            hint="use another label key for your own purposes",
        )
        for key, value in w.labels.items()
        if key in ours and ours[key] is not None and value != ours[key]
    ]
