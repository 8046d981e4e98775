"""The Pulumi emitter: a Plan registered as Pulumi resources under one component.

`SecuritySpec` is exported lazily so that importing this package does not import the Pulumi
SDK or any provider package until a program actually needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from secureai.pulumi.component import SecuritySpec, SpecError

__all__ = ["SecuritySpec", "SpecError"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from secureai.pulumi import component

        return getattr(component, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
