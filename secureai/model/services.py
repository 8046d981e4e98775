"""A workload's Service: how other pods reach it, by port name, and how far it is exposed."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from secureai.model.base import Annotations, Model, empty_list
from secureai.model.health import PortRef
from secureai.model.names import DnsLabel


class Service(Model):
    """ClusterIP by default. NodePort and LoadBalancer expose the pods outside the cluster."""

    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"
    name: DnsLabel | None = Field(
        None,
        description="default: the workload's name (a StatefulSet's: <name>-client, beside its headless one)",
    )
    ports: list[PortRef] = Field(
        default_factory=empty_list, description="workload ports by name or number; default: all"
    )
    annotations: Annotations = Field(default_factory=dict)
