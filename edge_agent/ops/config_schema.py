"""Walk a key path through a pydantic model's fields, to reject unknown settings before validation.

pydantic's ``extra="forbid"`` would also reject them, but without the source or a suggestion, and not at
all for models that allow extras. Rule: a path is checked as far as the schema is known; a discriminated
union is followed by the member whose ``Literal`` fields match the data already merged at that place; where
the schema is open (``Any``, unresolvable unions, ``dict[str, X]`` keys) the walk stops and accepts.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

__all__ = ["KeyPath", "Unknown", "find_unknown"]

KeyPath = tuple[str | int, ...]

_SEQUENCES = (list, tuple, set, frozenset, Sequence)


@dataclass(frozen=True, kw_only=True, slots=True)
class Unknown:
    index: int  # position in the path of the first segment the schema does not know
    candidates: tuple[str, ...]  # the names that would have been valid there
    reason: str


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``Optional`` wrappers."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            members = [arg for arg in get_args(tp) if arg is not type(None)]
            if len(members) != 1:
                return tp
            tp = members[0]
        else:
            return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _literal_matches(model: type[BaseModel], node: object) -> bool:
    """Every ``Literal`` field present in ``node`` matches, and there is at least one (the tag)."""
    if not isinstance(node, Mapping):
        return False
    present = [
        (node[name], _unwrap(field.annotation))
        for name, field in model.model_fields.items()
        if name in node and get_origin(_unwrap(field.annotation)) is Literal
    ]
    return bool(present) and all(value in get_args(annotation) for value, annotation in present)


def _pick_member(tp: Any, node: object) -> Any:
    """The union member the data selects, or None when it cannot be told."""
    members = [_unwrap(arg) for arg in get_args(tp) if arg is not type(None)]
    models = [member for member in members if _is_model(member)]
    matching = [member for member in models if _literal_matches(member, node)]
    return matching[0] if len(matching) == 1 else None


def _child(node: object, segment: str | int) -> object:
    if isinstance(node, Mapping):
        return node.get(segment)
    if isinstance(node, list) and isinstance(segment, int) and -len(node) <= segment < len(node):
        return node[segment]
    return None


def _step(tp: Any, segment: str | int, node: object) -> tuple[Any, Unknown | None]:
    """Type of ``segment`` inside ``tp``; (None, None) means 'stop checking, accept'."""
    tp = _unwrap(tp)
    if get_origin(tp) in (Union, types.UnionType):
        tp = _pick_member(tp, node)
        if tp is None:
            return None, None
    if _is_model(tp):
        fields = tp.model_fields
        if isinstance(segment, str) and segment in fields:
            return fields[segment].annotation, None
        return None, Unknown(index=0, candidates=tuple(fields), reason="unknown setting")
    origin = get_origin(tp)
    if origin in _SEQUENCES or tp in _SEQUENCES:
        if isinstance(segment, int):
            args = get_args(tp)
            return (args[0] if args else None), None
        return None, Unknown(index=0, candidates=(), reason="is a list: use an index")
    if origin in (dict, Mapping) or tp is Any:
        return None, None
    return None, Unknown(index=0, candidates=(), reason="is a single value, not a table")


def find_unknown(model: type[BaseModel], path: KeyPath, data: Mapping[str, Any]) -> Unknown | None:
    """The first segment of ``path`` that ``model`` does not define, or None when the path is valid."""
    tp: Any = model
    node: object = data
    for index, segment in enumerate(path):
        tp, problem = _step(tp, segment, node)
        if problem is not None:
            return Unknown(index=index, candidates=problem.candidates, reason=problem.reason)
        if tp is None:
            return None
        node = _child(node, segment)
    return None
