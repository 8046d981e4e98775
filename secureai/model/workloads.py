"""A workload: one controller (Pod, Deployment, StatefulSet, Job, CronJob), its pod and containers.

A workload `managedBy` a Helm chart or an operator is not rendered: it stands for pods someone
else creates, selected by namespace and `labels` and running as `serviceAccount`, so that they
take part in network rules, access and Vault grants and profile enforcement all the same.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool

from secureai.model.base import INT32_MAX, Annotations, Int, Model, empty_list
from secureai.model.containers import Container, ContainerFields
from secureai.model.names import DnsLabel, DnsSubdomain, FreeText, Image, Labels, Quantity, Text
from secureai.model.scheduling import Affinity, Toleration, TopologySpreadConstraint
from secureai.model.services import Service
from secureai.model.storage import Volume
from secureai.model.vault import WorkloadVault

WorkloadKind = Literal["Pod", "Deployment", "StatefulSet", "Job", "CronJob"]
ExceptionRule = Literal["readOnlyRootFilesystem", "runAsNonRoot", "allowPrivilegeEscalation"]

# What a workload managed elsewhere may say: who its pods are and what they may do. Every other
# field describes a pod spec secureai would render (SA192).
EXTERNAL_FIELDS = frozenset(
    {
        "namespace",
        "managed_by",
        "labels",
        "service_account",
        "create_service_account",
        "security_profile",
        "vault",
    }
)

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
    image: Image | None = Field(None, description="required unless managedBy says who creates the pods")
    managed_by: Text | None = Field(
        None,
        description="who creates this workload's pods (a Helm chart, KServe, KubeRay, an operator): "
        "secureai renders no controller for it and does not check its pod spec; 'labels' select "
        "its pods and 'serviceAccount' names the account they run as",
    )
    create_service_account: StrictBool | None = Field(
        None,
        description="managedBy workloads only: secureai creates 'serviceAccount' (default: no, "
        "the chart or operator creates it)",
    )
    namespace: DnsLabel
    kind: WorkloadKind = "Deployment"
    replicas: Int | None = Field(None, ge=0, le=INT32_MAX)
    labels: Labels = Field(
        default_factory=dict,
        description="on the controller and its pods; for a managedBy workload, the labels that "
        "select its pods",
    )
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
    image_pull_secrets: list[DnsSubdomain] = Field(default_factory=empty_list)
    termination_grace_period_seconds: Int | None = Field(None, ge=0, le=INT32_MAX)
    node_selector: Labels = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(default_factory=empty_list)
    affinity: Affinity | None = None
    topology_spread_constraints: list[TopologySpreadConstraint] = Field(default_factory=empty_list)
    runtime_class_name: DnsSubdomain | None = None
    priority_class_name: DnsSubdomain | None = None
    shm: Quantity | None = Field(None, description="size of a memory-backed /dev/shm (PyTorch, vLLM, NCCL)")
    service: Service | None = None
    exceptions: list[HardeningException] = Field(default_factory=empty_list)
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

    @property
    def external(self) -> bool:
        """Its pods are created by someone else (`managedBy`): nothing of the pod is rendered."""
        return self.managed_by is not None

    @property
    def creates_account(self) -> bool:
        """Whether secureai creates the account its pods run as."""
        return not self.external or bool(self.create_service_account)

    def relaxes(self, rule: str) -> bool:
        return any(e.rule == rule for e in self.exceptions)
