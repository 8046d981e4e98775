"""Namespace guardrails: a ResourceQuota over what the namespace's pods request, and the
container defaults (a LimitRange) that let pods without requests run under it."""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import Field, model_validator

from secureai.model.base import INT32_MAX, Int, Model
from secureai.model.containers import Amount, ResourceAmounts, Resources, is_extended

_SUFFIX: dict[str, Decimal | int] = {
    "": 1,
    "m": Decimal("0.001"),
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")


def quantity(text: str) -> Decimal:
    """A Kubernetes quantity (as the spec's Quantity type admits it) as an exact number."""
    match = _QUANTITY.fullmatch(str(text))
    if match is None:
        raise ValueError(f"not a quantity: {text!r}")
    return Decimal(match.group(1)) * Decimal(_SUFFIX[match.group(2) or ""])


class Quota(Model):
    """What the namespace's pods may request in total; rendered as a ResourceQuota and a LimitRange."""

    requests: ResourceAmounts = Field(
        default_factory=dict,
        description="the most the namespace's pods may request together: cpu, memory, "
        "ephemeral-storage, nvidia.com/gpu or any extended resource",
    )
    limits: ResourceAmounts = Field(
        default_factory=dict,
        description="the most their limits may add up to (cpu, memory, ephemeral-storage only: "
        "Kubernetes quotas extended resources by requests)",
    )
    pods: Int | None = Field(None, ge=0, le=INT32_MAX, description="the most pods that may run at once")
    storage: Amount | None = Field(None, description="the most the namespace's claims may request together")
    defaults: Resources | None = Field(
        None,
        description="requests and limits of containers that set none (a LimitRange); a quota on cpu "
        "or memory refuses pods whose containers give no amount",
    )

    @model_validator(mode="after")
    def _no_extended_limits(self) -> Quota:
        extended = [r for r in self.limits if is_extended(r)]
        if extended:
            raise ValueError(
                f"quota limits cannot name extended resources ({', '.join(extended)}): Kubernetes "
                "quotas them by requests only, so write them under 'requests'"
            )
        given = self.defaults.requests or {} if self.defaults else {}
        given = {**given, **((self.defaults.limits or {}) if self.defaults else {})}
        extended = [r for r in given if is_extended(r)]
        if extended:
            raise ValueError(
                f"quota defaults cannot name extended resources ({', '.join(extended)}): every "
                "container that sets none would be given one"
            )
        return self
