"""Plain scalars resolved by the YAML 1.2 core schema, numbers keeping their source text.

YAML 1.1 (PyYAML's default) turns `on`, `yes`, `no` into booleans and `2024-01-01` into a date;
1.2 keeps them strings. A number remembers how it was written, so a field that wants text
gets `"1.30"` or `"08"` as written, not `1.3` or `8`.
"""

from __future__ import annotations

import re
from typing import Any

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT = re.compile(r"^[-+]?[0-9]+$")
_OCT = re.compile(r"^0o[0-7]+$")
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = {".inf": "inf", "+.inf": "inf", "-.inf": "-inf", ".nan": "nan"}


class YamlInt(int):
    """An int that remembers how it was written, for fields that want the text."""

    raw: str


class YamlFloat(float):
    """A float that remembers how it was written (`1.30` must not become `1.3`)."""

    raw: str


def with_source(cls: type[YamlInt] | type[YamlFloat], value: Any, raw: str) -> Any:
    obj = cls(value)
    obj.raw = raw
    return obj


# No field takes a number this long; Python refuses to convert longer ones (over 4,300 digits).
MAX_DIGITS = 1000


class NumberTooLong(ValueError):
    """A plain integer with more than MAX_DIGITS digits."""


# What a null, a boolean or a number can start with; most plain scalars (names, images) start
# with another letter and are strings without trying a pattern (load speed).
_NON_STRING_START = frozenset("~nNtTfF0123456789+-.")


def resolve_plain(text: str) -> Any:
    """YAML 1.2 core schema resolution of a plain (unquoted) scalar."""
    if text and text[0] not in _NON_STRING_START:
        return text
    if len(text) > MAX_DIGITS and (_INT.fullmatch(text) or _OCT.fullmatch(text) or _HEX.fullmatch(text)):
        raise NumberTooLong(text)
    if _NULL.fullmatch(text):
        return None
    if _TRUE.fullmatch(text):
        return True
    if _FALSE.fullmatch(text):
        return False
    if _INT.fullmatch(text):
        return with_source(YamlInt, int(text, 10), text)
    if _OCT.fullmatch(text):
        return with_source(YamlInt, int(text[2:], 8), text)
    if _HEX.fullmatch(text):
        return with_source(YamlInt, int(text[2:], 16), text)
    if _FLOAT.fullmatch(text):
        return with_source(YamlFloat, float(text), text)
    lowered = text.lower()
    if lowered in _SPECIAL_FLOAT:
        return with_source(YamlFloat, float(_SPECIAL_FLOAT[lowered]), text)
    return text


def raw_text(value: Any) -> Any:
    """The source text of a number the loader produced; anything else unchanged."""
    return getattr(value, "raw", value)
