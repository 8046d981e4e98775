"""Validate loaded data into a `Spec`, turning pydantic errors into positioned diagnostics.

pydantic reports where an error is as a `loc` tuple; the loader's `SourceMap` knows where
each path stands in the file. Messages are ours, not pydantic's: they name the field, offer
"did you mean" for unknown keys and misspelt choices, and never echo a value found under a
secret's data (it may be the secret).
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from secureai.diagnostics import Diagnostic, Result, SpecPath, did_you_mean, error, misspelling_of
from secureai.loader import Document, raw_text
from secureai.model.prebuilt import ensure_built
from secureai.model.spec import Spec

_TYPE_NAMES = {
    "string_type": "a string",
    "bool_type": "true or false",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
}
_SOURCES_HINT = (
    "say where the value comes from: { fromEnv: VAR }, { fromFile: path }, { generate: {} }, "
    "{ fromVault: { path: p, key: k } } or { literal: ..., allowPlaintext: true }"
)


def build_spec(document: Document) -> Result[Spec]:
    """The `model` stage: data -> Spec, or positioned diagnostics for every problem."""
    ensure_built()
    try:
        spec = Spec.model_validate(document.data, by_alias=True, by_name=False)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=True)
        # Where each error is in the data, worked out once (three uses below).
        placed = [(err, data_path(document.data, tuple(err["loc"]))) for err in errors]
        typos = _misspelt_fields(placed)
        diags = [
            _diagnostic(e, path, document) for e, path in placed if not _explained_by_typo(e, path, typos)
        ]
        unique = {(d.code, d.position, d.message): d for d in diags}
        return Result(None, sorted(unique.values(), key=Diagnostic.sort_key))
    return Result(spec, [])


def _misspelt_fields(placed: list[tuple[Any, SpecPath]]) -> set[tuple[SpecPath, str]]:
    """(mapping, field) for each unknown key that is a misspelling of an allowed field."""
    out: set[tuple[SpecPath, str]] = set()
    for err, path in placed:
        if err["type"] != "extra_forbidden":
            continue
        if path:
            meant = misspelling_of(str(path[-1]), allowed_fields(path[:-1]))
            if meant is not None:
                out.add((path[:-1], meant))
    return out


def _explained_by_typo(err: Any, path: SpecPath, typos: set[tuple[SpecPath, str]]) -> bool:
    """`verb: [get]` is one problem: the unknown 'verb' says it, so 'verbs' missing is not repeated."""
    if err["type"] != "missing":
        return False
    return (path, str(err["loc"][-1])) in typos


def data_path(data: Any, loc: tuple[Any, ...]) -> SpecPath:
    """`loc` reduced to the keys and indexes that exist in the data (drops union tags etc.)."""
    path: list[str | int] = []
    current = data
    for elem in loc:
        if isinstance(current, dict) and isinstance(elem, str) and elem in current:
            current = current[elem]
        elif isinstance(current, list) and isinstance(elem, int) and 0 <= elem < len(current):
            current = current[elem]
        else:
            continue
        path.append(elem)
    return tuple(path)


def _dotted(path: SpecPath) -> str:
    out = ""
    for elem in path:
        out += f"[{elem}]" if isinstance(elem, int) else (f".{elem}" if out else str(elem))
    return out or "spec"


def under_secret_data(path: SpecPath) -> bool:
    """Whether `path` is at or below a value of `secrets.*.data` or `vaultSecrets.*.data`.

    Decided on the path, not its dotted text: secret names and Vault paths may contain dots.
    """
    return len(path) >= 4 and path[0] in ("secrets", "vaultSecrets") and path[2] == "data"


def _diagnostic(err: Any, path: SpecPath, document: Document) -> Diagnostic:
    loc = tuple(err["loc"])
    on_key = bool(loc) and loc[-1] == "[key]"
    message, hint = _message(err, path, secret=under_secret_data(path) and not on_key)
    diag = error(_code(err["type"]), message, path=path, hint=hint)
    return diag.located(*document.source_map.place(path, key=on_key or err["type"] == "extra_forbidden"))


def _code(kind: str) -> str:
    if kind == "extra_forbidden":
        return "SA101"
    if kind == "missing":
        return "SA102"
    return "SA100"


def _message(err: Any, path: SpecPath, secret: bool) -> tuple[str, str | None]:
    """Our words for a pydantic error. With `secret`, the input is never repeated: a value
    under a secret's data may be the secret, even when it sits in the wrong field."""
    kind: str = err["type"]
    where = _dotted(path)
    if kind == "extra_forbidden":
        return _unknown_field(err, path, secret)
    if kind == "missing":
        field = str(err["loc"][-1])
        return f"{where}: missing required field '{field}'", None
    if kind == "literal_error":
        return _choice_message(err, where, secret)
    if kind in _TYPE_NAMES:
        wanted = _TYPE_NAMES[kind]
        if wanted == "a string" and path[-1:] == ("persistentVolumeClaim",) and "volumes" in path:
            # Kubernetes writes `persistentVolumeClaim: {claimName: x}`; here the string is that name.
            wanted = "the name of an existing PersistentVolumeClaim (a string)"
            message, _ = _type_message(err, where, wanted)
            return message, "write persistentVolumeClaim: <name>, e.g. persistentVolumeClaim: model-store"
        message, hint = _type_message(err, where, wanted)
        if wanted == "a mapping" and len(path) == 4 and path[0] == "secrets":
            hint = _SOURCES_HINT
        return message, hint
    if kind == "value_error":
        text = str(err["msg"]).removeprefix("Value error, ")
        return f"{where}: {_redacted(text, err['input']) if secret else text}", None
    bound = _bound_message(kind, err.get("ctx", {}))
    if bound:
        return f"{where}: {bound}", None
    # pydantic's own words for the rest; they never include the input.
    return f"{where}: {err['msg']}", None


def _unknown_field(err: Any, path: SpecPath, secret: bool) -> tuple[str, str | None]:
    field = str(path[-1]) if path else str(err["loc"][-1])
    allowed = allowed_fields(path[:-1])
    parent = _dotted(path[:-1])
    meant = misspelling_of(field, allowed)
    if secret and meant is None:
        # `password: {hunter2}` is a mapping with the key 'hunter2': a key there may be a secret.
        return (
            f"{parent}: unknown field (its name is not shown: it may be a secret value)",
            _allowed_hint(allowed),
        )
    if meant:
        return f"{parent}: unknown field '{field}' (did you mean '{meant}'?)", _allowed_hint(allowed)
    # Not a slip: a field from another tool (`apiVersion`, `service`) that secureai does not have.
    hint = _allowed_hint(allowed)
    reference = 'the README\'s spec reference ("The spec") lists every field'
    return (
        f"{parent}: unknown field '{field}': it is not part of the secureai spec",
        f"{hint}; {reference}" if hint else reference,
    )


def _choice_message(err: Any, where: str, secret: bool) -> tuple[str, str | None]:
    # pydantic writes the choices as `'a', 'b' or 'c'` (numbers unquoted).
    expected = err.get("ctx", {}).get("expected", "")
    choices = [c.strip("'") for c in re.split(r", | or ", expected) if c]
    shown = ", ".join(f"'{c}'" for c in choices)
    if secret:
        return f"{where}: the value is not one of {shown}", None
    given = err["input"]
    if isinstance(given, str) and given in choices:
        # `version: "1"`: the right text, but quoted where a number is wanted.
        return f"{where}: expected the number {given}, not the string '{given}'", "remove the quotes"
    return f"{where}: '{given}' is not one of {shown}{did_you_mean(str(given), choices)}", None


def _redacted(text: str, given: Any) -> str:
    """`text` with the offending value replaced by words (validators quote the value)."""
    for shown in {str(given), str(raw_text(given))}:
        text = text.replace(f"'{shown}'", "the value")
        if len(shown) >= 4:  # also unquoted repeats; shorter strings would hit ordinary words
            text = text.replace(shown, "...")
    return text


def _bound_message(kind: str, ctx: dict[str, Any]) -> str | None:
    templates = {
        "less_than_equal": "must be at most {le}",
        "greater_than_equal": "must be at least {ge}",
        "less_than": "must be less than {lt}",
        "greater_than": "must be greater than {gt}",
        "too_short": "needs at least {min_length} item(s)",
        "too_long": "takes at most {max_length} item(s)",
        "string_too_short": "must be at least {min_length} characters",
        "string_too_long": "must be at most {max_length} characters",
        "string_pattern_mismatch": "must match {pattern}",
    }
    template = templates.get(kind)
    return template.format(**ctx) if template else None


def _type_message(err: Any, where: str, wanted: str) -> tuple[str, str | None]:
    value = err["input"]
    got = type(value).__name__ if value is not None else "nothing"
    got = {
        "str": "a string",
        "dict": "a mapping",
        "list": "a list",
        "bool": "a boolean",
        "YamlInt": "a number",
        "YamlFloat": "a decimal number",
        "int": "a number",
        "float": "a decimal number",
        "NoneType": "nothing",
    }.get(got, got)
    hint = None
    if wanted == "true or false" and isinstance(value, str):
        hint = "YAML 1.2: only true and false are booleans; 'yes', 'on' and friends are strings"
    elif wanted == "a string" and isinstance(value, bool):
        hint = "quote the value to keep it a string"
    return f"{where}: expected {wanted}, got {got}", hint


def _allowed_hint(allowed: tuple[str, ...]) -> str | None:
    return f"allowed here: {', '.join(allowed)}" if allowed else None


def _unwrap(tp: Any) -> list[Any]:
    """The concrete types behind Annotated / Optional / unions."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for arg in typing.get_args(tp) for t in _unwrap(arg)]
    return [tp]


class _Fields:
    """What `allowed_fields` needs of one annotation, worked out once: a spec with thousands
    of unknown keys asks about the same few models thousands of times."""

    def __init__(self, tp: Any) -> None:
        self.tp = tp  # held, so that the id keying `_FIELDS` stays this annotation's
        # In `_unwrap` order: a model's fields by alias and name, or a dict's or list's item type.
        self.stages: list[dict[str, Any] | Any] = []
        allowed: tuple[str, ...] | None = None
        for candidate in _unwrap(tp):
            origin = typing.get_origin(candidate)
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                by_key: dict[str, Any] = {}
                for name, info in reversed(candidate.model_fields.items()):  # the first field wins
                    by_key[name] = info.annotation
                    if info.alias is not None:
                        by_key[info.alias] = info.annotation
                self.stages.append(by_key)
                if allowed is None:
                    allowed = tuple(
                        sorted(info.alias or name for name, info in candidate.model_fields.items())
                    )
            elif origin is dict:
                self.stages.append(_Item(typing.get_args(candidate)[1]))
            elif origin is list:
                self.stages.append(_Item(typing.get_args(candidate)[0]))
        self.allowed = allowed or ()

    def step(self, elem: Any) -> Any:
        """The annotation of entry `elem` below this one, or None: the first model with that
        field, or the first dict or list, decides."""
        for stage in self.stages:
            if isinstance(stage, _Item):
                return stage.tp
            if isinstance(elem, str) and elem in stage:
                return stage[elem]
        return None


@dataclass(frozen=True)
class _Item:
    tp: Any


_FIELDS: dict[int, _Fields] = {}


def _fields(tp: Any) -> _Fields:
    known = _FIELDS.get(id(tp))
    if known is None or known.tp is not tp:
        known = _FIELDS[id(tp)] = _Fields(tp)
    return known


def allowed_fields(path: SpecPath) -> tuple[str, ...]:
    """The keys the model accepts at `path` (for "did you mean"), sorted: the same tuple for
    every path that ends at the same model, so `misspelling_of` prepares it once."""
    tp: Any = Spec
    for elem in path:
        tp = _fields(tp).step(elem)
        if tp is None:
            return ()
    return _fields(tp).allowed
