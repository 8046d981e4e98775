"""Pods a Helm chart or an operator creates (`managedBy`): never deployed, described for the posture.

secureai renders nothing for them, but the posture (who reaches whom, who may read what) must
still count them: each is described as the pod it knows of, its labels and service account.
"""

from __future__ import annotations

from secureai.compile.kubernetes.common import resource
from secureai.compile.naming import service_account_of
from secureai.compile.plan import Resource
from secureai.model.labels import pod_labels
from secureai.model.spec import Spec

# Not a provider secureai deploys with: these descriptions stay out of `Plan.resources`.
PROVIDER = "external"


def unmanaged_pods(spec: Spec) -> list[Resource]:
    out: list[Resource] = []
    for name, w in spec.workloads.items():
        if not w.external:
            continue
        described = resource(
            "v1",
            "Pod",
            name,
            w.namespace,
            {"spec": {"serviceAccountName": service_account_of(spec, name)}},
            ("workloads", name),
            annotations={"secureai.dev/managed-by": str(w.managed_by)},
        )
        manifest = dict(described.properties)
        # Their labels are the chart's, exactly as the spec selects them: not ours.
        manifest["metadata"] = {**manifest["metadata"], "labels": pod_labels(name, w)}
        out.append(
            Resource(
                type=f"{PROVIDER}:{described.type.split(':', 1)[1]}",
                name=described.name,
                properties=manifest,
                source=described.source,
            )
        )
    return out
