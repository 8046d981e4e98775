"""Where a pod may run: node selection, tolerations, affinity, topology spread, runtime and priority.

These are Kubernetes structures passed through unchanged, so they are modelled field by field
with Kubernetes' own names (unknown keys refused): a misspelt `topologyKey` is found by
`validate`, not by the API server at deploy time.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from secureai.model.base import INT32_MAX, Int, Model, empty_list
from secureai.model.names import DnsLabel, Labels, Text

TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class Toleration(Model):
    key: Text | None = None
    operator: Literal["Equal", "Exists"] | None = None
    value: Text | None = None
    effect: TaintEffect | None = None
    toleration_seconds: Int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _shape(self) -> Toleration:
        if self.operator == "Exists" and self.value:
            raise ValueError("a toleration with operator Exists takes no 'value'")
        if self.key is None and self.operator != "Exists":
            raise ValueError("a toleration without 'key' needs 'operator: Exists' (it tolerates every taint)")
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise ValueError("'tolerationSeconds' goes with 'effect: NoExecute'")
        return self


class NodeSelectorRequirement(Model):
    key: Text
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: list[Text] = Field(default_factory=empty_list)

    @model_validator(mode="after")
    def _values(self) -> NodeSelectorRequirement:
        _check_values(self.operator, self.values)
        return self


def _check_values(operator: str, values: list[str]) -> None:
    if operator in ("In", "NotIn") and not values:
        raise ValueError(f"operator {operator} needs 'values'")
    if operator in ("Exists", "DoesNotExist") and values:
        raise ValueError(f"operator {operator} takes no 'values'")
    if operator in ("Gt", "Lt") and (len(values) != 1 or not values[0].lstrip("-").isdigit()):
        raise ValueError(f"operator {operator} needs exactly one whole number in 'values'")


class NodeSelectorTerm(Model):
    match_expressions: list[NodeSelectorRequirement] = Field(default_factory=empty_list)
    match_fields: list[NodeSelectorRequirement] = Field(default_factory=empty_list)


class NodeSelector(Model):
    node_selector_terms: list[NodeSelectorTerm] = Field(min_length=1)


class PreferredSchedulingTerm(Model):
    weight: Int = Field(ge=1, le=100)
    preference: NodeSelectorTerm


class NodeAffinity(Model):
    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    preferred_during_scheduling_ignored_during_execution: list[PreferredSchedulingTerm] = Field(
        default_factory=empty_list
    )


class LabelSelectorRequirement(Model):
    key: Text
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[Text] = Field(default_factory=empty_list)

    @model_validator(mode="after")
    def _values(self) -> LabelSelectorRequirement:
        _check_values(self.operator, self.values)
        return self


class LabelSelector(Model):
    match_labels: Labels = Field(default_factory=dict)
    match_expressions: list[LabelSelectorRequirement] = Field(default_factory=empty_list)


class PodAffinityTerm(Model):
    label_selector: LabelSelector | None = None
    namespaces: list[DnsLabel] = Field(default_factory=empty_list)
    namespace_selector: LabelSelector | None = None
    topology_key: Text


class WeightedPodAffinityTerm(Model):
    weight: Int = Field(ge=1, le=100)
    pod_affinity_term: PodAffinityTerm


class PodAffinity(Model):
    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] = Field(
        default_factory=empty_list
    )
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] = Field(
        default_factory=empty_list
    )


class Affinity(Model):
    node_affinity: NodeAffinity | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAffinity | None = None


class TopologySpreadConstraint(Model):
    """Spread pods over zones or nodes. Without `labelSelector`, the workload's own pods."""

    max_skew: Int = Field(ge=1, le=INT32_MAX)
    topology_key: Text
    when_unsatisfiable: Literal["DoNotSchedule", "ScheduleAnyway"]
    label_selector: LabelSelector | None = None
    min_domains: Int | None = Field(None, ge=1, le=INT32_MAX)
