"""The `check` stage: what a schema cannot say. Each check is a function Spec -> diagnostics."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from secureai.check.access import check_access
from secureai.check.api_egress import check_api_egress
from secureai.check.containers import check_containers
from secureai.check.credentials import check_credentials
from secureai.check.external import check_external
from secureai.check.images import check_images
from secureai.check.network import check_network
from secureai.check.quota import check_quota
from secureai.check.references import check_references
from secureai.check.signatures import check_signatures
from secureai.check.target import check_target
from secureai.check.values import check_values
from secureai.check.vault import check_vault
from secureai.check.vault_delivery import check_vault_delivery
from secureai.check.vault_paths import check_vault_paths
from secureai.check.workloads import check_workloads
from secureai.diagnostics import Diagnostic
from secureai.model.spec import Spec


def run_checks(spec: Spec, base_dir: Path, environ: Mapping[str, str]) -> list[Diagnostic]:
    return [
        *check_references(spec),
        *check_values(spec, base_dir, environ),
        *check_credentials(spec, base_dir),
        *check_workloads(spec),
        *check_external(spec),
        *check_containers(spec),
        *check_images(spec),
        *check_signatures(spec),
        *check_quota(spec),
        *check_network(spec),
        *check_access(spec),
        *check_api_egress(spec),
        *check_vault(spec),
        *check_vault_paths(spec),
        *check_vault_delivery(spec),
        *check_target(spec),
    ]


__all__ = ["run_checks"]
