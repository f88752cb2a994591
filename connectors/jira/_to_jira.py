"""Neutral-model field values and comment bodies as the JSON Jira's create, edit and comment calls take.

`field_types` (custom field name → kind) shapes custom values Jira cannot take as plain JSON:
"option" (text → {"value"}), "array:option", "option-with-child" ("Parent / Child" → cascading),
"user" / "array:user" (neutral user or id → accountId / name), "version" / "array:version" ({"name"}),
"textarea" (Markdown → ADF or wiki). Without a kind, a neutral user ({"id", …}) becomes a user
reference and anything else is sent as given.
"""

from __future__ import annotations

import re
from typing import Any

from rulelang.errors import ConfigError, PayloadError, did_you_mean

from ._check import fail
from .adf import markdown_to_adf
from .wiki import markdown_to_wiki

__all__ = ["fields_to_jira", "comment_body_to_jira", "FLAVORS", "FIELD_TYPES"]

FLAVORS = ("cloud", "dc")
FIELD_TYPES = ("option", "array:option", "option-with-child", "user", "array:user", "version",
               "array:version", "textarea", "text", "number", "date", "datetime")
_CUSTOM_ID = re.compile(r"customfield_\d+")
_NAMED = {"priority": "priority", "type": "issuetype", "resolution": "resolution"}
_NAME_LISTS = {"components": "components", "fix_versions": "fixVersions", "affects_versions": "versions"}
_READ_ONLY = ("key", "created", "updated", "links", "comments", "attachments", "worklogs")
_SETTABLE = ("summary", "description", "project", "labels", "assignee", "reporter", "due", "parent", "custom",
             "status", *_NAMED, *_NAME_LISTS)


def _check_flavor(flavor: str) -> None:
    if flavor not in FLAVORS:
        raise ConfigError(f"flavor: expected 'cloud' or 'dc', got {flavor!r}")


def comment_body_to_jira(markdown: str, *, flavor: str) -> dict | str:
    """A comment body for Jira: an ADF document on Cloud, wiki markup on Data Center."""
    _check_flavor(flavor)
    if not isinstance(markdown, str):
        raise fail("comment.body", "Markdown text", markdown)
    return markdown_to_adf(markdown) if flavor == "cloud" else markdown_to_wiki(markdown)


def fields_to_jira(fields: dict, *, flavor: str, field_ids: dict[str, str] | None = None,
                   field_types: dict[str, str] | None = None) -> dict:
    """A Jira `fields` object for these neutral values. `status` is skipped: it moves by transition.
    Custom names map to ids through `field_ids` (a `customfield_NNNNN` id may be used as the name)."""
    _check_flavor(flavor)
    if not isinstance(fields, dict):
        raise fail("fields", "an object", fields)
    out: dict = {}
    for name, value in fields.items():
        where = f"fields.{name}"
        if name == "status":
            continue
        if name == "summary":
            out["summary"] = _text(value, where)
        elif name == "description":
            text = _text(value, where)
            out["description"] = None if text is None else _rich(text, flavor)
        elif name in _NAMED:
            text = _text(value, where)
            out[_NAMED[name]] = None if text is None else {"name": text}
        elif name == "project":
            text = _text(value, where)
            out["project"] = None if text is None else {"key": text}
        elif name == "parent":
            text = _text(value, where)
            out["parent"] = None if text is None else {"key": text}
        elif name == "due":
            out["duedate"] = _text(value, where)
        elif name == "labels":
            out["labels"] = _text_list(value, where)
        elif name in _NAME_LISTS:
            out[_NAME_LISTS[name]] = [{"name": v} for v in _text_list(value, where)]
        elif name in ("assignee", "reporter"):
            out[name] = _user_ref(value, flavor, where)
        elif name == "custom":
            out.update(_customs(value, flavor, field_ids or {}, field_types or {}))
        elif name in _READ_ONLY:
            raise PayloadError(f"{where}: cannot be set through issue fields (read-only or its own operation)")
        else:
            hint = did_you_mean(str(name), _SETTABLE)
            raise PayloadError(f"{where}: unknown field" + (f" (did you mean '{hint}'?)" if hint else ""))
    return out


def _rich(markdown: str, flavor: str) -> dict | str:
    return markdown_to_adf(markdown) if flavor == "cloud" else markdown_to_wiki(markdown)


def _text(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise fail(where, "text or null", value)


def _text_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):  # one text where a list is expected is a one-element list
        return [value]
    if not isinstance(value, list):
        raise fail(where, "a list of text", value)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise fail(f"{where}[{i}]", "text", item)
    return list(value)


def _user_ref(value: Any, flavor: str, where: str) -> dict | None:
    """{"accountId": …} (Cloud) or {"name": …} (Data Center) for a neutral user or a bare id."""
    if value is None:
        return None
    ident = value.get("id") if isinstance(value, dict) else value
    if isinstance(value, dict) and ident is None:
        raise PayloadError(f"{where}.id: a user needs an id to be set in Jira (look it up by e-mail first)")
    if not isinstance(ident, str) or not ident:
        raise fail(where if not isinstance(value, dict) else f"{where}.id", "a user id (text)", ident)
    return {"accountId": ident} if flavor == "cloud" else {"name": ident}


def _customs(custom: Any, flavor: str, field_ids: dict, field_types: dict) -> dict:
    if not isinstance(custom, dict):
        raise fail("fields.custom", "an object", custom)
    out = {}
    for name, value in custom.items():
        where = f"fields.custom[{name!r}]"
        fid = field_ids.get(name)
        if fid is None:
            if not _CUSTOM_ID.fullmatch(str(name)):
                hint = did_you_mean(str(name), list(field_ids))
                raise PayloadError(f"{where}: unknown custom field" + (f" (did you mean '{hint}'?)" if hint else ""))
            fid = name
        out[fid] = _custom_out(value, field_types.get(name), flavor, where)
    return out


def _custom_out(value: Any, kind: str | None, flavor: str, where: str) -> Any:
    if kind is not None and kind not in FIELD_TYPES:
        raise PayloadError(f"{where}: unknown field type {kind!r} (one of {', '.join(FIELD_TYPES)})")
    if value is None:
        return [] if kind and kind.startswith("array:") else None
    if kind is None:
        if isinstance(value, dict) and set(value) <= {"id", "email", "name"} and "id" in value:
            return _user_ref(value, flavor, where)
        if isinstance(value, list) and value and all(isinstance(v, dict) and "id" in v and
                                                     set(v) <= {"id", "email", "name"} for v in value):
            return [_user_ref(v, flavor, f"{where}[{i}]") for i, v in enumerate(value)]
        return value
    if kind.startswith("array:"):
        items = value if isinstance(value, list) else [value]
        return [_custom_out(v, kind[6:], flavor, f"{where}[{i}]") for i, v in enumerate(items)]
    if kind == "user":
        return _user_ref(value, flavor, where)
    if kind in ("option", "version"):
        text = _text(value, where)
        return {"value": text} if kind == "option" else {"name": text}
    if kind == "option-with-child":
        parent, sep, child = (_text(value, where) or "").partition(" / ")
        return {"value": parent, "child": {"value": child}} if sep else {"value": parent}
    if kind == "textarea":
        return _rich(_text(value, where) or "", flavor)
    return value
