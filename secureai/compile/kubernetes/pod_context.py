"""What building one pod needs to know beyond the workload itself: spec, profile, account."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from secureai.compile.naming import service_account_of
from secureai.diagnostics import Diagnostic, SpecPath
from secureai.model.security import SecurityProfile
from secureai.model.spec import Spec
from secureai.model.workloads import Workload


@functools.cache
def default_profile() -> SecurityProfile:
    # A workload without a profile gets the model's defaults, which are the secure choice.
    # Built on first use, not at import: building a model costs `validate`'s start-up time.
    return SecurityProfile()


@dataclass
class PodContext:
    """What building one pod spec needs to know beyond the workload itself."""

    spec: Spec
    name: str
    workload: Workload
    diagnostics: list[Diagnostic] = field(default_factory=list)
    annotations: dict[str, str] = field(default_factory=dict)  # for the pod template, set by pod_spec
    tmp_volume: str | None = None  # the writable /tmp secureai added, mounted in every container

    @property
    def path(self) -> SpecPath:
        return ("workloads", self.name)

    @property
    def profile(self) -> SecurityProfile:
        return self.spec.security_profiles.get(self.workload.security_profile or "") or default_profile()

    @property
    def profile_name(self) -> str:
        return self.workload.security_profile or "default"

    @property
    def relaxed(self) -> frozenset[str]:
        """The hardened defaults this workload gave up, each with a written reason."""
        return frozenset(e.rule for e in self.workload.exceptions)

    @property
    def account(self) -> str:
        return service_account_of(self.spec, self.name)

    @property
    def needs_api_token(self) -> bool:
        """RBAC grants are only usable with an API token, so only then is one mounted."""
        access = self.spec.access.get(self.account)
        return access is not None and access.namespace == self.workload.namespace and bool(access.can)
