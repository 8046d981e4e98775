"""The `compile` stage: pure functions from a validated Spec to a Plan. No I/O, no Pulumi."""

from __future__ import annotations

from secureai.compile.plan import Plan, Resource, SecretValue

__all__ = ["Plan", "Resource", "SecretValue"]
