"""Posture: who can read which secret, who can reach which pod, and what each pod may do.

Computed from the compiled Plan (its manifests and Vault arguments), not from the spec's
wording, so it describes what would be deployed. Above compile, below the pipeline (which
evaluates the spec's `expect` assertions with it); no I/O, no pulumi.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from secureai.compile.plan import Plan
from secureai.posture.inventory import Inventory, inventory
from secureai.posture.network import Exposure, Flow, Network, Outside, analyze
from secureai.posture.privileges import Privileges, privileges
from secureai.posture.secrets import Reader, SecretItem, secret_items

if TYPE_CHECKING:
    from secureai.posture.admin_tier import AdminRule


@dataclass(frozen=True)
class Posture:
    project: str
    workloads: tuple[str, ...]
    secrets: tuple[SecretItem, ...]
    network: Network
    privileges: tuple[Privileges, ...]
    inventory: Inventory
    admin_tier: tuple[AdminRule, ...] = ()  # AdminNetworkPolicy rules (kubernetes.adminNetworkPolicy)


def compute_posture(plan: Plan) -> Posture:
    inv = inventory(plan)
    return Posture(
        project=plan.project,
        workloads=tuple(w.id for w in inv.workloads),
        secrets=tuple(secret_items(inv)),
        network=analyze(inv),
        privileges=tuple(privileges(inv, w) for w in inv.workloads),
        inventory=inv,
        admin_tier=_admin_tier(plan),
    )


def _admin_tier(plan: Plan) -> tuple[AdminRule, ...]:
    # Only a plan with an admin tier pays for importing its reader: `validate` of a spec with
    # `expect` computes the posture, and counts milliseconds.
    if not any(r.properties.get("kind") == "AdminNetworkPolicy" for r in plan.resources):
        return ()
    from secureai.posture.admin_tier import admin_tier

    return tuple(admin_tier(plan))


def __getattr__(name: str) -> Any:
    """`AdminRule`, imported on first use (PEP 562; see `_admin_tier`)."""
    if name == "AdminRule":
        from secureai.posture.admin_tier import AdminRule

        return AdminRule
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AdminRule",
    "Exposure",
    "Flow",
    "Network",
    "Outside",
    "Posture",
    "Privileges",
    "Reader",
    "SecretItem",
    "compute_posture",
]
