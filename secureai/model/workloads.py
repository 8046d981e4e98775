"""A workload: one controller (Pod, Deployment, StatefulSet, Job, CronJob), its pod and containers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool

from secureai.model.base import INT32_MAX, Annotations, Int, Model
from secureai.model.containers import Container, ContainerFields
from secureai.model.names import DnsLabel, DnsSubdomain, FreeText, Labels, Quantity, Text
from secureai.model.scheduling import Affinity, Toleration, TopologySpreadConstraint
from secureai.model.services import Service
from secureai.model.storage import Volume
from secureai.model.vault import WorkloadVault

WorkloadKind = Literal["Pod", "Deployment", "StatefulSet", "Job", "CronJob"]
ExceptionRule = Literal["readOnlyRootFilesystem", "runAsNonRoot", "allowPrivilegeEscalation"]

# Fields only some kinds take: a check names the kinds (SA132).
JOB_FIELDS = (
    "backoff_limit",
    "active_deadline_seconds",
    "ttl_seconds_after_finished",
    "parallelism",
    "completions",
    "completion_mode",
)
CRONJOB_FIELDS = (
    "schedule",
    "concurrency_policy",
    "time_zone",
    "suspend",
    "starting_deadline_seconds",
    "successful_jobs_history_limit",
    "failed_jobs_history_limit",
)


class HardeningException(Model):
    """One hardened default relaxed for this workload, with the reason written down."""

    rule: ExceptionRule
    because: FreeText = Field(min_length=10, description="why this workload cannot run with the default")


class Workload(ContainerFields):
    namespace: DnsLabel
    kind: WorkloadKind = "Deployment"
    replicas: Int | None = Field(None, ge=0, le=INT32_MAX)
    labels: Labels = Field(default_factory=dict)
    annotations: Annotations = Field(default_factory=dict, description="on the controller")
    pod_annotations: Annotations = Field(default_factory=dict, description="on the pod template")
    security_profile: DnsLabel | None = None
    service_account: DnsSubdomain | None = None
    run_as_user: Int | None = Field(None, ge=0, le=INT32_MAX)
    run_as_group: Int | None = Field(None, ge=0, le=INT32_MAX)
    fs_group: Int | None = Field(None, ge=0, le=INT32_MAX)
    volumes: dict[DnsLabel, Volume] = Field(default_factory=dict)
    vault: WorkloadVault | None = None
    # pod
    init_containers: dict[DnsLabel, Container] = Field(default_factory=dict)
    sidecars: dict[DnsLabel, Container] = Field(
        default_factory=dict,
        description="native sidecars (init containers with restartPolicy Always) from Kubernetes 1.29",
    )
    image_pull_secrets: list[DnsSubdomain] = Field(default_factory=list)
    termination_grace_period_seconds: Int | None = Field(None, ge=0, le=INT32_MAX)
    node_selector: Labels = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(default_factory=list)
    affinity: Affinity | None = None
    topology_spread_constraints: list[TopologySpreadConstraint] = Field(default_factory=list)
    runtime_class_name: DnsSubdomain | None = None
    priority_class_name: DnsSubdomain | None = None
    shm: Quantity | None = Field(None, description="size of a memory-backed /dev/shm (PyTorch, vLLM, NCCL)")
    service: Service | None = None
    exceptions: list[HardeningException] = Field(default_factory=list)
    # Job and CronJob
    backoff_limit: Int | None = Field(None, ge=0, le=INT32_MAX)
    active_deadline_seconds: Int | None = Field(None, ge=1)
    ttl_seconds_after_finished: Int | None = Field(None, ge=0, le=INT32_MAX)
    parallelism: Int | None = Field(None, ge=0, le=INT32_MAX)
    completions: Int | None = Field(None, ge=0, le=INT32_MAX)
    completion_mode: Literal["NonIndexed", "Indexed"] | None = None
    # CronJob
    schedule: Text | None = None
    concurrency_policy: Literal["Forbid", "Allow", "Replace"] = Field(
        "Forbid", description="overlapping runs of a training job are rarely intended"
    )
    time_zone: Text | None = None
    suspend: StrictBool | None = None
    starting_deadline_seconds: Int | None = Field(None, ge=0)
    successful_jobs_history_limit: Int | None = Field(None, ge=0, le=INT32_MAX)
    failed_jobs_history_limit: Int | None = Field(None, ge=0, le=INT32_MAX)

    def relaxes(self, rule: str) -> bool:
        return any(e.rule == rule for e in self.exceptions)
