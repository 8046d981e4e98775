"""Deployment through Pulumi's Automation API: preview, apply, destroy.

The names below are loaded on first use: importing the Automation API pulls in gRPC, which
commands that never deploy should not pay for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from secureai.deploy.display import render_json, render_text
    from secureai.deploy.errors import DeployError
    from secureai.deploy.events import ChangeReport
    from secureai.deploy.run import ChangeResult, PreviewResult, apply, destroy, preview
    from secureai.deploy.stack import DeployOptions

_EXPORTS = {
    "DeployError": "secureai.deploy.errors",
    "ChangeReport": "secureai.deploy.events",
    "render_json": "secureai.deploy.display",
    "render_text": "secureai.deploy.display",
    "ChangeResult": "secureai.deploy.run",
    "PreviewResult": "secureai.deploy.run",
    "apply": "secureai.deploy.run",
    "destroy": "secureai.deploy.run",
    "preview": "secureai.deploy.run",
    "DeployOptions": "secureai.deploy.stack",
}
__all__ = [
    "ChangeReport",
    "ChangeResult",
    "DeployError",
    "DeployOptions",
    "PreviewResult",
    "apply",
    "destroy",
    "preview",
    "render_json",
    "render_text",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
