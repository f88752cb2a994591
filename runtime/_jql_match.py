"""What a parsed trigger query means: its fields, operands and clauses, evaluated against a neutral issue."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ._isotime import parse_datetime

__all__ = [
    "FieldSpec", "Moment", "Operand", "Clause", "AllOf", "AnyOf", "Negation", "Node",
    "FIELDS", "FIELD_NAMES", "FUNCTIONS", "TEXT", "LIST", "USER", "DATE", "SEARCH", "CUSTOM",
    "custom_field", "relative_offset", "fields_of", "KIND_WORDS",
]

# Field kinds decide which operators make sense and how values compare.
TEXT, LIST, USER, DATE, SEARCH, CUSTOM = "text", "list", "user", "date", "search", "custom"
KIND_WORDS = {TEXT: "text", LIST: "a list of text", USER: "a user", DATE: "a date",
              SEARCH: "a text search", CUSTOM: "a custom field"}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A query field: the name the user wrote it by, the neutral issue key it reads, its kind."""

    name: str
    path: str
    kind: str


def _spec(kind: str, path: str, *names: str) -> dict[str, FieldSpec]:
    return {n.lower(): FieldSpec(n, path, kind) for n in names}


# JQL spellings and the neutral model's own spellings both work; lookup is case-insensitive.
FIELDS: dict[str, FieldSpec] = {
    **_spec(TEXT, "key", "key", "issuekey"),
    **_spec(TEXT, "project", "project"),
    **_spec(TEXT, "type", "issuetype", "type"),
    **_spec(TEXT, "summary", "summary"),
    **_spec(TEXT, "description", "description"),
    **_spec(TEXT, "status", "status"),
    **_spec(TEXT, "priority", "priority"),
    **_spec(TEXT, "resolution", "resolution"),
    **_spec(TEXT, "parent", "parent"),
    **_spec(LIST, "labels", "labels"),
    **_spec(LIST, "components", "component", "components"),
    **_spec(LIST, "fix_versions", "fixVersion", "fix_versions"),
    **_spec(LIST, "affects_versions", "affectedVersion", "affects_versions"),
    **_spec(USER, "assignee", "assignee"),
    **_spec(USER, "reporter", "reporter"),
    **_spec(DATE, "created", "created", "createdDate"),
    **_spec(DATE, "updated", "updated", "updatedDate"),
    **_spec(DATE, "due", "due", "duedate"),
    **_spec(SEARCH, "text", "text"),
    **_spec(SEARCH, "comment", "comment"),
}
FIELD_NAMES: tuple[str, ...] = tuple(spec.name for spec in FIELDS.values())


def custom_field(name: str) -> FieldSpec:
    return FieldSpec(f"cf[{name}]", name, CUSTOM)


# ---- operands ------------------------------------------------------------

_UNITS = {"y": timedelta(days=365), "M": timedelta(days=30), "w": timedelta(weeks=1),
          "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
_RELATIVE = re.compile(r"^([+-]?)((?:\d+[yMwdhm]\s*)+)$")
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
FUNCTIONS = ("now", "startOfDay", "endOfDay")


def relative_offset(text: str) -> timedelta | None:
    """`-7d`, `2w`, `-1d 4h` (Jira's units: y M w d h m) as a signed offset, or None."""
    m = _RELATIVE.match(text.strip())
    if not m:
        return None
    total = sum((int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)([yMwdhm])", m.group(2))), timedelta())
    return -total if m.group(1) == "-" else total


@dataclass(frozen=True, slots=True)
class Moment:
    """A point in time an operand names: fixed, or `anchor` (now / start or end of today, UTC) plus an offset."""

    fixed: datetime | None = None
    anchor: str = "now"
    offset: timedelta = timedelta()

    def resolve(self, now: datetime) -> datetime:
        if self.fixed is not None:
            return self.fixed
        if self.anchor == "startOfDay":
            now = now.replace(hour=0, minute=0, second=0, microsecond=0)
        elif self.anchor == "endOfDay":
            now = now.replace(hour=23, minute=59, second=59, microsecond=999000)
        return now + self.offset


@dataclass(frozen=True, slots=True)
class Operand:
    """One value on the right of an operator. `text` is None for EMPTY."""

    text: str | None
    number: float | None = None
    moment: Moment | None = None

    @classmethod
    def of_text(cls, text: str) -> Operand:
        number = float(text) if _NUMBER.match(text.strip()) else None
        fixed = parse_datetime(text)
        if fixed is not None:
            return cls(text, number, Moment(fixed))
        offset = relative_offset(text)
        return cls(text, number, Moment(offset=offset) if offset is not None else None)


# ---- reading the issue ---------------------------------------------------

def _is_empty(value: Any) -> bool:
    if isinstance(value, Mapping):
        return all(_is_empty(v) for v in value.values())
    return value is None or value == "" or value == []


def _texts(value: Any) -> list[str]:
    """Every text a value offers for comparison (a user: id, e-mail and name; a list: its items)."""
    if value is None:
        return []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, str):
        return [value]
    if isinstance(value, int | float):
        return [_number_text(value)]
    if isinstance(value, Mapping):
        return [v for k in ("id", "email", "name", "key", "value") if isinstance(v := value.get(k), str)]
    if isinstance(value, list | tuple):
        return [t for item in value for t in _texts(item)]
    return [str(value)]


def _number_text(value: float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _scalars(value: Any) -> list[Any]:
    """A value as the list of scalars a multi-valued comparison ranges over."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [s for item in value for s in _scalars(item)]
    return [value]


def _read(issue: Mapping[str, Any], spec: FieldSpec) -> Any:
    if spec.kind == CUSTOM:
        custom = issue.get("custom")
        if not isinstance(custom, Mapping):
            return None
        if spec.path in custom:
            return custom[spec.path]
        lowered = spec.path.lower()
        return next((v for k, v in custom.items() if isinstance(k, str) and k.lower() == lowered), None)
    if spec.kind == SEARCH:
        comments = issue.get("comments") or []
        bodies = [c.get("body") for c in comments if isinstance(c, Mapping)]
        fields = bodies if spec.path == "comment" else [issue.get("summary"), issue.get("description"), *bodies]
        return [t for t in fields if isinstance(t, str)]
    value = issue.get(spec.path)
    if spec.path == "project" and value is None and isinstance(issue.get("key"), str):
        value = issue["key"].rpartition("-")[0] or None
    elif spec.path == "parent" and isinstance(value, Mapping):
        value = value.get("key")
    return value


def _as_moment(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


# ---- clauses -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Clause:
    """`field op operand(s)`; op is one of = != ~ !~ > >= < <= in, not in, is, is not."""

    field: FieldSpec
    op: str
    operands: tuple[Operand, ...]

    def test(self, issue: Mapping[str, Any], now: datetime) -> bool:
        value = _read(issue, self.field)
        empty = _is_empty(value)
        op = self.op
        if op in ("is", "is not"):
            return empty if op == "is" else not empty
        if op in ("=", "in"):
            return any(empty if o.text is None else (not empty and self._equal(value, o, now))
                       for o in self.operands)
        if op in ("!=", "not in"):
            # As in Jira: a negative test never matches an empty field.
            return not empty and not any(self._equal(value, o, now) for o in self.operands if o.text is not None)
        if op in ("~", "!~"):
            needle = (self.operands[0].text or "").casefold()
            found = any(needle in t.casefold() for t in _texts(value))
            return not empty and (found if op == "~" else not found)
        return not empty and any(self._order(v, op, self.operands[0], now) for v in _scalars(value))

    def _equal(self, value: Any, operand: Operand, now: datetime) -> bool:
        if self.field.kind == DATE:
            mine = _as_moment(value)
            return mine is not None and operand.moment is not None and mine == operand.moment.resolve(now)
        wanted = (operand.text or "").casefold()
        for item in _scalars(value):
            if isinstance(item, int | float) and not isinstance(item, bool) and operand.number is not None:
                if float(item) == operand.number:
                    return True
            elif any(t.casefold() == wanted for t in _texts(item)):
                return True
            elif self.field.kind == CUSTOM and operand.moment is not None and operand.moment.fixed:
                mine = _as_moment(item)
                if mine is not None and mine == operand.moment.fixed:
                    return True
        return False

    @staticmethod
    def _order(item: Any, op: str, operand: Operand, now: datetime) -> bool:
        if isinstance(item, int | float) and not isinstance(item, bool):
            if operand.number is None:
                return False
            left, right = float(item), operand.number
        else:
            mine = _as_moment(item)
            if mine is None or operand.moment is None:
                return False
            left, right = mine, operand.moment.resolve(now)
        if op == ">":
            return left > right
        if op == ">=":
            return left >= right
        if op == "<":
            return left < right
        return left <= right


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Node, ...]

    def test(self, issue: Mapping[str, Any], now: datetime) -> bool:
        return all(item.test(issue, now) for item in self.items)


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Node, ...]

    def test(self, issue: Mapping[str, Any], now: datetime) -> bool:
        return any(item.test(issue, now) for item in self.items)


@dataclass(frozen=True, slots=True)
class Negation:
    item: Node

    def test(self, issue: Mapping[str, Any], now: datetime) -> bool:
        return not self.item.test(issue, now)


Node = Clause | AllOf | AnyOf | Negation


def fields_of(node: Node | None) -> Iterable[FieldSpec]:
    if isinstance(node, Clause):
        yield node.field
    elif isinstance(node, AllOf | AnyOf):
        for item in node.items:
            yield from fields_of(item)
    elif isinstance(node, Negation):
        yield from fields_of(node.item)
