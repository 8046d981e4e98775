"""Workload controllers (Pod, Deployment, StatefulSet + headless Service, Job, CronJob)."""

from __future__ import annotations

from secureai.compile.kubernetes.common import Manifest, key_of, resource
from secureai.compile.kubernetes.podspec import PodContext, pod_spec
from secureai.compile.kubernetes.profiles import psp_binding_key
from secureai.compile.kubernetes.vault_delivery import vault_dependencies
from secureai.compile.plan import Resource
from secureai.diagnostics import Diagnostic, warning
from secureai.model.labels import APP_NAME, MANAGED_BY, PROFILE_LABEL, pod_labels
from secureai.model.spec import Spec, Workload
from secureai.model.versions import CRONJOB_GA, PSP_REMOVED


def compile_workloads(spec: Spec) -> tuple[list[Resource], list[Diagnostic]]:
    resources: list[Resource] = []
    diagnostics: list[Diagnostic] = []
    for name, w in spec.workloads.items():
        ctx = PodContext(spec, name, w)
        diagnostics.extend(_label_conflicts(name, w))
        if w.kind == "StatefulSet":
            resources.append(_headless_service(name, w))
        resources.append(_workload(ctx))
        diagnostics.extend(ctx.diagnostics)
    return resources, diagnostics


def _workload(ctx: PodContext) -> Resource:
    name, w = ctx.name, ctx.workload
    labels = pod_labels(name, w)
    spec = pod_spec(ctx)
    template: Manifest = {"metadata": {"labels": labels}, "spec": spec}
    if ctx.annotations:
        template["metadata"]["annotations"] = dict(ctx.annotations)
    api_version, body = _controller(ctx, template)
    return resource(
        api_version,
        w.kind,
        name,
        w.namespace,
        body,
        ctx.path,
        labels=labels,
        # A bare Pod is its own template: its annotations go on the object itself.
        annotations=ctx.annotations if w.kind == "Pod" else None,
        depends_on=_dependencies(ctx),
    )


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
        return "apps/v1", {"spec": spec}
    job = _job_spec(template)
    if w.kind == "Job":
        return "batch/v1", {"spec": job}
    api_version = "batch/v1" if ctx.spec.minor >= CRONJOB_GA else "batch/v1beta1"
    cron: Manifest = {
        "schedule": w.schedule,
        # Overlapping runs of a training or scoring job are rarely intended and double the load.
        "concurrencyPolicy": "Forbid",
        "jobTemplate": {"metadata": {"labels": template["metadata"]["labels"]}, "spec": job},
    }
    return api_version, {"spec": cron}


def _job_spec(template: Manifest) -> Manifest:
    # Jobs must not restart Always; OnFailure retries in place instead of littering pods.
    pod = {**template["spec"], "restartPolicy": "OnFailure"}
    return {"template": {"metadata": template["metadata"], "spec": pod}}


def _headless_service(name: str, w: Workload) -> Resource:
    """A StatefulSet's governing Service: stable per-pod DNS names, no load-balanced IP."""
    spec: Manifest = {"clusterIP": "None", "selector": {APP_NAME: name}}
    if w.ports:
        spec["ports"] = [
            {
                "name": p.name or f"{p.protocol.lower()}-{p.port}",
                "port": p.port,
                "protocol": p.protocol,
                "targetPort": p.name or p.port,
            }
            for p in w.ports
        ]
    return resource(
        "v1",
        "Service",
        name,
        w.namespace,
        {"spec": spec},
        ("workloads", name),
        labels={APP_NAME: name},
    )


def _dependencies(ctx: PodContext) -> tuple[str, ...]:
    w = ctx.workload
    deps = [key_of("v1", "ServiceAccount", w.namespace, ctx.account)]
    secrets = [e.secret for e in w.env.values() if e.secret is not None]
    secrets += [v.secret for v in w.volumes.values() if v.secret is not None]
    deps += [key_of("v1", "Secret", w.namespace, s) for s in dict.fromkeys(secrets) if s in ctx.spec.secrets]
    profile = w.security_profile
    if ctx.spec.minor < PSP_REMOVED and profile in ctx.spec.security_profiles:
        # PodSecurityPolicy admits a pod only once its account may `use` the policy.
        deps.append(psp_binding_key(w.namespace, str(profile)))
    if w.kind == "StatefulSet":
        deps.append(key_of("v1", "Service", w.namespace, ctx.name))
    deps += vault_dependencies(ctx.spec, ctx.name)
    return tuple(deps)


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
