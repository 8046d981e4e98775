"""ConfigMaps the spec declares (not the external ones, which another tool manages)."""

from __future__ import annotations

from secureai.compile.kubernetes.common import resource
from secureai.compile.plan import Resource
from secureai.model.spec import Spec


def compile_config_maps(spec: Spec) -> list[Resource]:
    return [
        resource(
            "v1",
            "ConfigMap",
            name,
            cm.namespace,
            {"data": dict(cm.data), "immutable": cm.immutable},
            ("configMaps", name),
        )
        for name, cm in spec.config_maps.items()
        if not cm.external
    ]
