"""The Pulumi emitter: a Plan registered as Pulumi resources under one component.

`SecuritySpec` is exported lazily so that importing this package does not import the Pulumi
SDK or any provider package until a program actually needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from secureai.pulumi.component import (
        ConfigurationError,
        MissingGeneratedSecretError,
        SecuritySpec,
        SpecError,
    )
    from secureai.resolve import ResolveError

# The component, and every error a Pulumi program using it may want to catch.
__all__ = ["ConfigurationError", "MissingGeneratedSecretError", "ResolveError", "SecuritySpec", "SpecError"]


def __getattr__(name: str) -> Any:
    if name == "ResolveError":  # no Pulumi SDK needed to catch it
        from secureai.resolve import ResolveError

        return ResolveError
    if name in __all__:
        from secureai.pulumi import component

        return getattr(component, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
