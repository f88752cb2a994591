"""The checker's value types: what a path or an expression yields, derived from the issue model in model.py."""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import model

__all__ = ["Ty", "ANY", "TEXT", "NUMBER", "BOOL", "NULL", "MAP", "record", "list_of", "join",
           "RECORDS", "RECORD_LABEL", "field_suggestion", "describe", "literal_type", "binop"]


@dataclass(frozen=True, slots=True)
class Ty:
    """A value type as far as the checker knows it.

    kind: "any" (unknown: every use is allowed), "text", "number", "bool", "null", "map" (a map whose
    keys are free: custom fields, map literals, connection), "record" (a map with known fields:
    `name` says which), "list" (`elem` is the item type) or "instance" (a connection-script root).
    """

    kind: str
    name: str = ""
    elem: Ty | None = None


ANY = Ty("any")
TEXT = Ty("text")
NUMBER = Ty("number")
BOOL = Ty("bool")
NULL = Ty("null")
MAP = Ty("map")


def record(name: str) -> Ty:
    return Ty("record", name)


def list_of(elem: Ty) -> Ty:
    return Ty("list", elem=elem)


def join(a: Ty, b: Ty) -> Ty:
    """The type of a value that is either a or b (null-safe: null joins with anything)."""
    if a == b or b.kind == "null":
        return a
    if a.kind == "null":
        return b
    if a.kind == b.kind == "list" and a.elem and b.elem:
        return list_of(join(a.elem, b.elem))
    return ANY


_USER = record("user")
# Item fields whose value is not text.
_ITEM_FIELD_TYPES = {"author": _USER, "internal": BOOL, "size": NUMBER, "seconds": NUMBER, "content": ANY}
_ISSUE_KIND_TYPES = {"text": TEXT, "date": TEXT, "datetime": TEXT, "user": _USER, "custom": MAP,
                     "texts": list_of(TEXT)}


def _issue_field(name: str, kind: str) -> Ty:
    if kind in ("items", "links"):
        return list_of(record(name))
    return _ISSUE_KIND_TYPES.get(kind, ANY)


# Record name → its fields and their types.
RECORDS: dict[str, dict[str, Ty]] = {
    "issue": {f: _issue_field(f, k) for f, k in model.ISSUE_FIELDS.items()},
    "user": {f: TEXT for f in model.USER_FIELDS},
    **{lst: {f: _ITEM_FIELD_TYPES.get(f, TEXT) for f in fields} for lst, fields in model.ITEM_FIELDS.items()},
}
# How messages name a record ("unknown field 'x' on comment").
RECORD_LABEL = {"issue": "issue", "user": "user", "comments": "comment", "attachments": "attachment",
                "worklogs": "worklog", "links": "link"}

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])")


def field_suggestion(name: str, fields: dict[str, Ty]) -> str | None:
    """The field a misspelt or camelCase name most likely means, or None."""
    from .errors import did_you_mean

    alias = model.CAMEL_ALIASES.get(name)
    if alias in fields:
        return alias
    snake = _CAMEL.sub(r"_\1", name).lower()
    if snake != name and snake in fields:
        return snake
    return did_you_mean(name, fields)


def describe(t: Ty) -> str:
    """A type in words, for messages."""
    if t.kind == "record":
        return RECORD_LABEL.get(t.name, t.name)
    if t.kind == "list":
        if t.elem is None or t.elem.kind == "any":
            return "a list"
        if t.elem.kind == "record":
            return f"a list of {RECORD_LABEL.get(t.elem.name, t.elem.name)}s"
        return f"a list of {describe(t.elem).removeprefix('a ')}"
    return {"text": "text", "number": "a number", "bool": "true/false", "null": "null", "map": "a map",
            "any": "a value", "instance": "an instance"}.get(t.kind, t.kind)


def literal_type(value: object) -> Ty:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int | float):
        return NUMBER
    return TEXT


def binop(op: str, left: Ty, right: Ty) -> Ty:
    """The type of `left op right` (comparisons are true/false; + joins texts and lists)."""
    if op in ("==", "!=", "<", "<=", ">", ">=", "in", "not in"):
        return BOOL
    if op == "+":
        if TEXT in (left, right):
            return TEXT
        if left.kind == right.kind == "list":
            return join(left, right)
        if left == right == NUMBER:
            return NUMBER
        return ANY
    return NUMBER if left == right == NUMBER else ANY
