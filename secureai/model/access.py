"""Service accounts and their RBAC grants: least privilege, secrets always by name."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool

from secureai.model.base import Model, empty_list
from secureai.model.names import DnsLabel, DnsSubdomain, Text

Verb = Literal[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "use",
    "bind",
    "escalate",
    "impersonate",
    "*",
]
# Whole numbers are strict: pydantic would take `true` as 1, `false` as 0 (`runAsUser: false`
# is root) and "10" or 10.0 as 10.


def _core_group() -> list[str]:
    return [""]


class AccessRule(Model):
    verbs: list[Verb] = Field(min_length=1)
    resources: list[Text] = Field(min_length=1)
    api_groups: list[Text] = Field(default_factory=_core_group)
    names: list[DnsSubdomain] = Field(default_factory=empty_list)


class Access(Model):
    """A service account and what it may do: least privilege, secrets always by name."""

    namespace: DnsLabel
    can: list[AccessRule] = Field(default_factory=empty_list)
    cluster_wide: StrictBool = False
    allow_secret_listing: StrictBool = Field(
        False, description="permit list/watch on secrets, which return every secret's contents"
    )
