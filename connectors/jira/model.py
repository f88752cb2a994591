"""Raw Jira REST issues, comments and webhooks (Cloud v3 and v2, Data Center v2) as neutral-model issues.

The neutral issue (docs/language.md, "Values and the issue model"):

    key, project, type, summary, description (Markdown), status, priority, resolution,
    labels, components, fix_versions, affects_versions, assignee, reporter, due, created, updated,
    parent, links [{type, key}], comments [{id, author, body, created, updated, internal}],
    attachments [{id, filename, size, mime_type, created, author}],
    worklogs [{id, author, started, seconds, comment}], custom {name: value}

Rich text is ADF (an object, REST v3) or wiki markup (text, REST v2); each value is converted by its
own shape. Users are {id, email, name}: Cloud's accountId, else Data Center's name or key, else the
user name in the `self` URL. A link's type is the phrase read from this issue ("blocks", "is blocked
by"). Custom values are simplified: an option gives its value, a cascading select "Parent / Child",
a user {id, email, name}, a version, component, group or sprint its name, ADF Markdown; other values
are kept as they are (text custom fields in REST v2 stay wiki markup: without the field's schema a
wiki text area cannot be told from plain text).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from rulelang.errors import PayloadError

from ._check import fail, opt_dict, opt_list, opt_str, opt_text, type_name
from ._to_jira import comment_body_to_jira, fields_to_jira
from .adf import adf_to_markdown
from .wiki import wiki_to_markdown

__all__ = ["is_jira_issue", "issue_from_jira", "issues_from_search", "comment_from_jira", "comments_from_jira",
           "webhook_event", "fields_to_jira", "comment_body_to_jira"]

_CUSTOM = re.compile(r"customfield_\d+")
_MAX_VALUE_DEPTH = 32


def is_jira_issue(doc: Any) -> bool:
    """Is this a raw Jira REST issue (it has a `fields` object)?"""
    return isinstance(doc, dict) and isinstance(doc.get("fields"), dict)


def issue_from_jira(payload: dict, *, names: dict | None = None, where: str = "") -> dict:
    """The neutral issue for a Jira REST issue; `names` (field id → name, as from expand=names, which
    is also read from payload["names"]) keys custom fields by name. Malformed input raises PayloadError."""
    root = where + "." if where else ""
    if not isinstance(payload, dict):
        raise fail(where or "issue", "a Jira issue (object)", payload)
    fields = payload.get("fields")
    if not isinstance(fields, dict):
        hint = " (a GitHub payload, not a Jira issue)" if "repository_url" in payload or "number" in payload else ""
        raise PayloadError(f"{root}fields: expected an object, got {type_name(fields)} — not a Jira issue{hint}")
    if names is None:
        names = opt_dict(payload, "names", where or "issue")
    elif not isinstance(names, dict):
        raise fail("names", "an object (field id → name)", names)
    f = root + "fields"
    project = opt_dict(fields, "project", f)
    parent = opt_dict(fields, "parent", f)
    worklog = opt_dict(fields, "worklog", f)
    comment = opt_dict(fields, "comment", f)
    return {
        "key": opt_str(payload, "key", where or "issue"),
        "project": opt_str(project, "key", f"{f}.project") if project else None,
        "type": _name(fields, "issuetype", f),
        "summary": opt_str(fields, "summary", f),
        "description": _rich(fields.get("description"), f"{f}.description"),
        "status": _name(fields, "status", f),
        "priority": _name(fields, "priority", f),
        "resolution": _name(fields, "resolution", f),
        "labels": _texts(fields, "labels", f),
        "components": _names(fields, "components", f),
        "fix_versions": _names(fields, "fixVersions", f),
        "affects_versions": _names(fields, "versions", f),
        "assignee": user_from_jira(fields.get("assignee"), f"{f}.assignee"),
        "reporter": user_from_jira(fields.get("reporter"), f"{f}.reporter"),
        "due": opt_str(fields, "duedate", f),
        "created": opt_str(fields, "created", f),
        "updated": opt_str(fields, "updated", f),
        "parent": opt_str(parent, "key", f"{f}.parent") if parent else None,
        "links": _links(fields, f),
        "comments": [comment_from_jira(c, where=f"{f}.comment.comments[{i}]")
                     for i, c in enumerate(opt_list(comment, "comments", f"{f}.comment") if comment else [])],
        "attachments": [_attachment(a, f"{f}.attachment[{i}]")
                        for i, a in enumerate(opt_list(fields, "attachment", f))],
        "worklogs": [_worklog(w, f"{f}.worklog.worklogs[{i}]")
                     for i, w in enumerate(opt_list(worklog, "worklogs", f"{f}.worklog") if worklog else [])],
        "custom": _customs(fields, names or {}, f),
    }


def issues_from_search(payload: dict, *, names: dict | None = None) -> list[dict]:
    """Neutral issues for a search response ({"issues": [...], "names": {...}?})."""
    if not isinstance(payload, dict):
        raise fail("search", "a search response (object)", payload)
    if names is None:
        names = opt_dict(payload, "names", "search")
    return [issue_from_jira(issue, names=names, where=f"issues[{i}]")
            for i, issue in enumerate(opt_list(payload, "issues", "search"))]


def comment_from_jira(c: dict, *, where: str = "comment") -> dict:
    """A neutral comment {id, author, body (Markdown), created, updated, internal} for a Jira comment;
    internal is true for Jira Service Management comments not shared with the customer (jsdPublic false)
    and for comments restricted to a role or group (`visibility`): a rule filtering out internal
    comments must never leak a restricted one."""
    if not isinstance(c, dict):
        raise fail(where, "a comment (object)", c)
    public = c.get("jsdPublic")
    if public is not None and not isinstance(public, bool):
        raise fail(f"{where}.jsdPublic", "a boolean", public)
    return {
        "id": opt_text(c, "id", where),
        "author": user_from_jira(c.get("author"), f"{where}.author"),
        "body": _rich(c.get("body"), f"{where}.body") or "",
        "created": opt_str(c, "created", where),
        "updated": opt_str(c, "updated", where),
        "internal": public is False or bool(c.get("visibility")),
    }


def comments_from_jira(payload: dict) -> list[dict]:
    """Neutral comments for a GET …/comment response ({"comments": [...]})."""
    if not isinstance(payload, dict):
        raise fail("comments", "a comment page (object)", payload)
    return [comment_from_jira(c, where=f"comments[{i}]") for i, c in enumerate(opt_list(payload, "comments", "response"))]


def webhook_event(payload: dict, *, names: dict | None = None) -> tuple[str, dict | None, dict | None]:
    """(event name, neutral issue or None, neutral comment or None) for a Jira webhook body."""
    if not isinstance(payload, dict):
        raise fail("webhook", "a Jira webhook body (object)", payload)
    event = payload.get("webhookEvent")
    if not isinstance(event, str) or not event:
        hint = " (this looks like a GitHub webhook)" if "repository" in payload or "sender" in payload else ""
        raise PayloadError(f"webhookEvent: expected text, got {type_name(event)} — not a Jira webhook{hint}")
    issue = payload.get("issue")
    comment = payload.get("comment")
    if issue is not None and not isinstance(issue, dict):
        raise fail("issue", "an object", issue)
    return (event,
            issue_from_jira(issue, names=names, where="issue") if issue is not None else None,
            comment_from_jira(comment, where="comment") if comment is not None else None)


def user_from_jira(user: Any, where: str) -> dict | None:
    """{id, email, name} for a Jira user object, None for null."""
    if user is None:
        return None
    if not isinstance(user, dict):
        raise fail(where, "a user (object) or null", user)
    ident = opt_str(user, "accountId", where) or opt_str(user, "name", where) or opt_str(user, "key", where)
    if ident is None:
        self_url = opt_str(user, "self", where) or ""
        query = parse_qs(urlsplit(self_url).query)
        ident = next((query[k][0] for k in ("accountId", "username", "key") if query.get(k)), None)
    return {"id": ident, "email": opt_str(user, "emailAddress", where), "name": opt_str(user, "displayName", where)}


def _rich(value: Any, where: str) -> str | None:
    """Markdown for a rich text value: ADF (REST v3) or wiki markup (REST v2)."""
    if value is None:
        return None
    if isinstance(value, str):
        return wiki_to_markdown(value, where=where)
    if isinstance(value, dict):
        return adf_to_markdown(value, where=where)
    raise fail(where, "wiki markup text or an ADF document", value)


def _name(fields: dict, key: str, where: str) -> str | None:
    obj = opt_dict(fields, key, where)
    return opt_str(obj, "name", f"{where}.{key}") if obj else None


def _texts(fields: dict, key: str, where: str) -> list[str]:
    out = []
    for i, item in enumerate(opt_list(fields, key, where)):
        if not isinstance(item, str):
            raise fail(f"{where}.{key}[{i}]", "text", item)
        out.append(item)
    return out


def _names(fields: dict, key: str, where: str) -> list[str]:
    out = []
    for i, item in enumerate(opt_list(fields, key, where)):
        if not isinstance(item, dict):
            raise fail(f"{where}.{key}[{i}]", "an object", item)
        name = opt_str(item, "name", f"{where}.{key}[{i}]")
        if name is not None:
            out.append(name)
    return out


def _links(fields: dict, where: str) -> list[dict]:
    out = []
    for i, link in enumerate(opt_list(fields, "issuelinks", where)):
        lw = f"{where}.issuelinks[{i}]"
        if not isinstance(link, dict):
            raise fail(lw, "an issue link (object)", link)
        kind = opt_dict(link, "type", lw) or {}
        for side, phrase in (("outwardIssue", "outward"), ("inwardIssue", "inward")):
            other = opt_dict(link, side, lw)
            if other is not None:
                label = opt_str(kind, phrase, f"{lw}.type") or opt_str(kind, "name", f"{lw}.type")
                out.append({"type": label, "key": opt_str(other, "key", f"{lw}.{side}")})
    return out


def _attachment(a: Any, where: str) -> dict:
    if not isinstance(a, dict):
        raise fail(where, "an attachment (object)", a)
    size = a.get("size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int | float)):
        raise fail(f"{where}.size", "a number", size)
    return {"id": opt_text(a, "id", where), "filename": opt_str(a, "filename", where), "size": size,
            "mime_type": opt_str(a, "mimeType", where), "created": opt_str(a, "created", where),
            "author": user_from_jira(a.get("author"), f"{where}.author")}


def _worklog(w: Any, where: str) -> dict:
    if not isinstance(w, dict):
        raise fail(where, "a worklog (object)", w)
    seconds = w.get("timeSpentSeconds")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int | float)):
        raise fail(f"{where}.timeSpentSeconds", "a number", seconds)
    return {"id": opt_text(w, "id", where), "author": user_from_jira(w.get("author"), f"{where}.author"),
            "started": opt_str(w, "started", where), "seconds": seconds,
            "comment": _rich(w.get("comment"), f"{where}.comment")}


def _customs(fields: dict, names: dict, where: str) -> dict:
    out: dict = {}
    for fid, value in fields.items():
        if not _CUSTOM.fullmatch(fid):
            continue
        name = names.get(fid)
        if name is not None and not isinstance(name, str):
            raise fail(f"names.{fid}", "text", name)
        key = name or fid
        if key in out:  # Jira allows two custom fields with one name: the second keeps its id too
            key = f"{name} ({fid})"
        out[key] = custom_value(value, f"{where}.{fid}")
    return out


def _is_user(value: dict) -> bool:
    return "accountId" in value or ("displayName" in value and (
        "emailAddress" in value or "key" in value or "/user?" in str(value.get("self", ""))))


def custom_value(value: Any, where: str, depth: int = 0) -> Any:
    """A custom field's value in the neutral model's simpler shape (see the module docstring)."""
    if depth > _MAX_VALUE_DEPTH:
        raise PayloadError(f"{where}: nested more than {_MAX_VALUE_DEPTH} levels deep")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list):
        return [custom_value(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if not isinstance(value, dict):
        raise fail(where, "a JSON value", value)
    if value.get("type") == "doc" and isinstance(value.get("content"), list):
        return adf_to_markdown(value, where=where)
    if _is_user(value):
        return user_from_jira(value, where)
    if "value" in value:
        parent = custom_value(value["value"], f"{where}.value", depth + 1)
        child = opt_dict(value, "child", where)
        if child is not None and "value" in child:
            return f"{parent} / {custom_value(child['value'], f'{where}.child.value', depth + 1)}"
        return parent
    for key in ("name", "key"):
        if isinstance(value.get(key), str):
            return value[key]
    return {k: custom_value(v, f"{where}.{k}", depth + 1) for k, v in value.items() if k != "self"}
