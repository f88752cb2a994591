"""The local tracker's stored form of the neutral issue model: what each field may hold, input coercion, checks on read."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from rulelang.errors import did_you_mean
from runtime._isotime import canonical

__all__ = [
    "Invalid", "ISSUE_FIELDS", "STORED_FIELDS", "READ_ONLY", "ITEM_FIELDS", "UserResolver",
    "check_custom", "coerce_field", "coerce_item", "issue_view", "item_view",
]

TEXT_FIELDS = ("project", "type", "summary", "description", "status", "priority", "resolution", "parent")
LIST_FIELDS = ("labels", "components", "fix_versions", "affects_versions")
USER_FIELDS = ("assignee", "reporter")
# Kept in the issue's JSON; everything else is a column (key, created, updated) or an item row.
STORED_FIELDS = (*TEXT_FIELDS, *LIST_FIELDS, *USER_FIELDS, "due", "links", "custom")
READ_ONLY = ("key", "created", "updated")
ISSUE_FIELDS = ("key", "project", "type", "summary", "description", "status", "priority", "resolution",
                "labels", "components", "fix_versions", "affects_versions", "assignee", "reporter", "due",
                "created", "updated", "parent", "links", "comments", "attachments", "worklogs", "custom")
# Item fields kept in the item's JSON (id, created and updated are columns).
ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    "comments": ("author", "body", "internal"),
    "attachments": ("filename", "size", "mime_type", "author"),
    "worklogs": ("author", "started", "seconds", "comment"),
}
# What the neutral model shows of each item, in order.
ITEM_VIEW: dict[str, tuple[str, ...]] = {
    "comments": ("id", "author", "body", "created", "updated", "internal"),
    "attachments": ("id", "filename", "size", "mime_type", "created", "author"),
    "worklogs": ("id", "author", "started", "seconds", "comment"),
}

UserResolver = Callable[[str | None, str | None, str | None], dict[str, Any] | None]


class Invalid(ValueError):
    """A value the model cannot hold; the caller adds which issue and raises the right error."""


def _unknown(name: str, known: tuple[str, ...], what: str) -> Invalid:
    guess = did_you_mean(name, known)
    return Invalid(f"unknown {what} '{name}'" + (f" (did you mean '{guess}'?)" if guess else ""))


def _describe(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 40 else text[:37] + "..."


# ---- checks on stored values (reading) -----------------------------------

def check_field(name: str, value: Any) -> None:
    if name in TEXT_FIELDS:
        if value is not None and not isinstance(value, str):
            raise Invalid(f"'{name}' must be text, found {_describe(value)}")
    elif name in LIST_FIELDS:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise Invalid(f"'{name}' must be a list of text, found {_describe(value)}")
    elif name in USER_FIELDS:
        check_user(name, value)
    elif name == "due":
        if value is not None and not _is_date(value):
            raise Invalid(f"'due' must be a date like 2024-06-15, found {_describe(value)}")
    elif name == "links":
        if not isinstance(value, list) or not all(
                isinstance(v, dict) and set(v) == {"type", "key"} and all(isinstance(x, str) for x in v.values())
                for v in value):
            raise Invalid(f"'links' must be a list of {{type, key}}, found {_describe(value)}")
    elif name == "custom":
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise Invalid(f"'custom' must be a map of field name to value, found {_describe(value)}")
        for field_name, field_value in value.items():
            check_custom(field_name, field_value)
    else:
        raise _unknown(name, STORED_FIELDS, "field")


def check_custom(name: str, value: Any) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        raise Invalid(f"custom field '{name}' must hold a JSON value") from None


def check_user(name: str, value: Any) -> None:
    if value is None:
        return
    if not (isinstance(value, dict) and set(value) <= {"id", "email", "name"}
            and all(v is None or isinstance(v, str) for v in value.values())):
        raise Invalid(f"'{name}' must be a user {{id, email, name}}, found {_describe(value)}")


def _is_date(value: Any) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return len(value) == 10


def issue_view(key: str, fields_json: str, created: str, updated: str,
               items: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The neutral issue from its stored parts; Invalid when the stored JSON is not what the model allows."""
    try:
        stored = json.loads(fields_json)
    except json.JSONDecodeError as e:
        raise Invalid(f"stored fields are not valid JSON ({e.msg} at character {e.pos})") from None
    if not isinstance(stored, dict):
        raise Invalid(f"stored fields must be a JSON object, found {_describe(stored)}")
    for name, value in stored.items():
        check_field(name, value)
    issue: dict[str, Any] = {}
    for name in ISSUE_FIELDS:
        if name == "key":
            issue[name] = key
        elif name in ("created", "updated"):
            issue[name] = created if name == "created" else updated
        elif name in ITEM_FIELDS:
            issue[name] = items.get(name, [])
        else:
            issue[name] = stored.get(name, [] if name in LIST_FIELDS or name == "links"
                                     else {} if name == "custom" else None)
    return issue


def item_view(kind: str, item_id: int, data_json: str, created: str, updated: str) -> dict[str, Any]:
    try:
        data = json.loads(data_json)
    except json.JSONDecodeError as e:
        raise Invalid(f"{kind[:-1]} {item_id}: stored data is not valid JSON ({e.msg})") from None
    if not isinstance(data, dict):
        raise Invalid(f"{kind[:-1]} {item_id}: stored data must be a JSON object")
    try:
        _check_item(kind, data, partial=False)
    except Invalid as e:
        raise Invalid(f"{kind[:-1]} {item_id}: {e}") from None
    full = dict(data, id=str(item_id), created=created, updated=updated)
    return {name: full.get(name) for name in ITEM_VIEW[kind]}


def _check_item(kind: str, data: Mapping[str, Any], *, partial: bool) -> None:
    required = {"comments": ("body",), "attachments": ("filename",), "worklogs": ("seconds",)}[kind]
    for name in required:
        if not partial and name not in data:
            raise Invalid(f"a {kind[:-1]} needs '{name}'")
    for name, value in data.items():
        if name == "author":
            check_user("author", value)
        elif name in ("body", "filename") and not (isinstance(value, str) and (name == "body" or value)):
            raise Invalid(f"'{name}' must be text, found {_describe(value)}")
        elif name in ("mime_type", "comment", "started") and value is not None and not isinstance(value, str):
            raise Invalid(f"'{name}' must be text, found {_describe(value)}")
        elif name == "internal" and not isinstance(value, bool):
            raise Invalid(f"'internal' must be true or false, found {_describe(value)}")
        elif name in ("size", "seconds") and not (isinstance(value, int) and not isinstance(value, bool)
                                                  and value >= (1 if name == "seconds" else 0)):
            raise Invalid(f"'{name}' must be a whole number{' above 0' if name == 'seconds' else ''}, "
                          f"found {_describe(value)}")
        elif name not in ITEM_FIELDS[kind]:
            raise _unknown(name, ITEM_FIELDS[kind], f"{kind[:-1]} field")


# ---- coercion of input (writing) -----------------------------------------

def coerce_user(value: Any, resolve: UserResolver) -> dict[str, Any] | None:
    """A user from an e-mail, a name, an id or a {id, email, name} map; a known user is taken from the users table."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if "@" in text:
            return resolve(None, text, None) or {"id": None, "email": text, "name": text}
        return resolve(text, None, text) or {"id": None, "email": None, "name": text}
    if isinstance(value, Mapping):
        picked = {k: value.get(k) for k in ("id", "email", "name")}
        check_user("user", picked)
        if all(v is None for v in picked.values()):
            return None
        return resolve(picked["id"], picked["email"], None) or picked
    raise Invalid(f"a user must be an e-mail, a name or {{id, email, name}}, found {_describe(value)}")


def coerce_field(name: str, value: Any, resolve: UserResolver) -> Any:
    """The stored form of an input value for field `name`; Invalid when it cannot be one."""
    if name in READ_ONLY:
        raise Invalid(f"'{name}' is read-only")
    if name in ITEM_FIELDS:
        raise Invalid(f"'{name}' changes through its own operations (add, update, delete), not as a field")
    if name in LIST_FIELDS:
        # One text where a list is expected is a one-element list, as in the rule language.
        value = [] if value is None else [value] if isinstance(value, str) else value
        if isinstance(value, list):
            value = list(dict.fromkeys(value))  # a label is there or not: no repeats
    elif name in USER_FIELDS:
        value = coerce_user(value, resolve)
    elif name == "due" and isinstance(value, str) and not _is_date(value):
        stamp = canonical(value)
        if stamp is None:
            raise Invalid(f"'due' must be a date like 2024-06-15, found {_describe(value)}")
        value = stamp[:10]
    elif name == "links" and value is None:
        value = []
    elif name == "custom" and value is None:
        value = {}
    elif name in TEXT_FIELDS and isinstance(value, str) and name not in ("description",):
        value = value.strip() or None
    check_field(name, value)
    return value


def coerce_item(kind: str, value: Any, resolve: UserResolver, *, partial: bool) -> dict[str, Any]:
    """The stored data of a comment / attachment / worklog from input; `partial` for updates.

    id, created and updated are the tracker's own and ignored when given.
    """
    if not isinstance(value, Mapping):
        raise Invalid(f"a {kind[:-1]} must be a map, found {_describe(value)}")
    data = {k: v for k, v in value.items() if k not in ("id", "created", "updated")}
    if "author" in data:
        data["author"] = coerce_user(data["author"], resolve)
    if kind == "worklogs" and isinstance(data.get("started"), str):
        started = canonical(data["started"])
        if started is None:
            raise Invalid(f"'started' must be a date-time, found {_describe(data['started'])}")
        data["started"] = started
    if kind == "comments" and not partial:
        data.setdefault("internal", False)
    _check_item(kind, data, partial=partial)
    return data
