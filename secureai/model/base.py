"""The base every spec model shares (strict, camelCase, unknown keys refused) and small common types.

Conventions, so that a spec is hard to get subtly wrong:
- every model forbids unknown keys (answered with "did you mean");
- YAML keys are camelCase (the aliases); Python attributes are snake_case;
- collections are maps keyed by name, so a duplicate name is a YAML error and a reference
  is a plain string;
- alternatives ("exactly one of") are one model with optional fields and a check, never a
  pydantic union, so an error names one thing instead of every union member;
- booleans and whole numbers are strict (`yes`/`on` are not booleans here, `false` and `"10"`
  are not numbers);
- defaults are the secure choice: restricted pod security, default-deny networking,
  non-root, read-only root filesystem, no privilege escalation.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Strict
from pydantic.alias_generators import to_camel

Int = Annotated[int, Strict()]
# Kubernetes keeps user and group ids and replica counts in 32 bits and refuses larger ones.
INT32_MAX = 2**31 - 1


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        frozen=True,
        # Build validators once, for Spec, on first use: building every sub-model on its own
        # at import costs `secureai validate` ~20 ms of its 0.2 s budget.
        defer_build=True,
    )


def empty_list() -> list[Any]:
    """The `default_factory` of list fields, instead of `list`: pydantic reads every factory's
    signature, and `list`'s (a builtin's) is parsed from text by tokenize, ~8 ms of `validate`."""
    return []


def exactly_one(model: BaseModel, fields: tuple[str, ...], what: str) -> None:
    given = [f for f in fields if getattr(model, f) is not None]
    if len(given) != 1:
        names = ", ".join(f"'{to_camel(f)}'" for f in fields)
        found = ", ".join(f"'{to_camel(f)}'" for f in given) or "none"
        raise ValueError(f"{what} needs exactly one of {names}; found {found}")


def _annotations() -> Any:
    from secureai.model.names import LabelKey, Text

    return dict[LabelKey, Text]


# Annotation keys are checked as label keys; values are free text (unlike label values).
Annotations = _annotations()
