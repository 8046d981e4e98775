"""A workload: one controller (Pod, Deployment, StatefulSet, Job, CronJob) and its pod."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from secureai.model.base import INT32_MAX, Int, Model
from secureai.model.containers import EnvValue, Resources
from secureai.model.names import DnsLabel, DnsSubdomain, EnvName, Image, Labels, Text
from secureai.model.ports import Port
from secureai.model.storage import Volume
from secureai.model.vault import WorkloadVault

WorkloadKind = Literal["Pod", "Deployment", "StatefulSet", "Job", "CronJob"]


class Workload(Model):
    namespace: DnsLabel
    kind: WorkloadKind = "Deployment"
    image: Image
    command: list[Text] | None = None
    args: list[Text] | None = None
    replicas: Int | None = Field(None, ge=0, le=INT32_MAX)
    schedule: Text | None = None
    labels: Labels = Field(default_factory=dict)
    security_profile: DnsLabel | None = None
    service_account: DnsSubdomain | None = None
    run_as_user: Int | None = Field(None, ge=0, le=INT32_MAX)
    run_as_group: Int | None = Field(None, ge=0, le=INT32_MAX)
    fs_group: Int | None = Field(None, ge=0, le=INT32_MAX)
    env: dict[EnvName, EnvValue] = Field(default_factory=dict)
    volumes: dict[DnsLabel, Volume] = Field(default_factory=dict)
    ports: list[Port] = Field(default_factory=list)
    resources: Resources | None = None
    vault: WorkloadVault | None = None
