"""Where a pod runs: node selector, tolerations, affinity, topology spread, runtime and priority class."""

from __future__ import annotations

from secureai.compile.kubernetes.common import Manifest
from secureai.compile.kubernetes.containers import drop_empty
from secureai.compile.kubernetes.pod_context import PodContext
from secureai.model.labels import APP_NAME


def scheduling(ctx: PodContext) -> Manifest:
    w = ctx.workload
    out: Manifest = {}
    if w.node_selector:
        out["nodeSelector"] = dict(w.node_selector)
    if w.tolerations:
        out["tolerations"] = [
            drop_empty(t.model_dump(by_alias=True, exclude_none=True)) for t in w.tolerations
        ]
    if w.affinity is not None:
        out["affinity"] = drop_empty(w.affinity.model_dump(by_alias=True, exclude_none=True))
    if w.topology_spread_constraints:
        out["topologySpreadConstraints"] = [
            # Without a selector a constraint counts no pods; the workload's own pods are meant.
            {
                "labelSelector": {"matchLabels": {APP_NAME: ctx.name}},
                **drop_empty(c.model_dump(by_alias=True, exclude_none=True)),
            }
            for c in w.topology_spread_constraints
        ]
    if w.runtime_class_name is not None:
        out["runtimeClassName"] = w.runtime_class_name
    if w.priority_class_name is not None:
        out["priorityClassName"] = w.priority_class_name
    return out
