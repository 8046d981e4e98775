"""The spec language (pydantic models) and the stage that validates data into it."""

from secureai.model.build import build_spec
from secureai.model.spec import Spec

__all__ = ["Spec", "build_spec"]
