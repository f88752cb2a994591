"""The test server's search side: JQL field values of an issue, and the lagging index search reads."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .jql import FieldValues, JqlError, parse_jql
from .model import ApiError, Issue, User, adf_text

if TYPE_CHECKING:
    from .state import JiraState

__all__ = ["search", "resolve"]

_JQL_ALIASES = {"type": "issuetype", "issuekey": "key", "component": "components", "fixversion": "fixVersions",
                "affectedversion": "versions", "due": "duedate", "createddate": "created",
                "updateddate": "updated"}


def search(st: JiraState, jql: str, viewer: User, *, require_bound: bool,
           fresh: set[int] | frozenset = frozenset()) -> list[Issue]:
    """Issues matching `jql` as the index sees them; ids in `fresh` are read live (Cloud's reconcileIssues)."""
    tz = ZoneInfo(viewer.time_zone)
    try:
        query = parse_jql(jql, lambda i, n: resolve(st, i, n), tz, st.clock)
    except JqlError as exc:
        raise ApiError(400, str(exc)) from None
    if require_bound and query.where is None:
        raise ApiError(400, "Unbounded JQL queries are not allowed here. Please add a search "
                            "restriction to your query.")
    now = time.monotonic()
    found = []
    for issue in st.issues.values():
        visible = [issue] if issue.id in fresh else [snap for at, snap in issue.index if at <= now]
        if visible and query.matches(visible[-1]):
            found.append(visible[-1])
    for name, asc in reversed(query.order or [("created", False)]):
        found.sort(key=lambda i, n=name: _sort_key(resolve(st, i, n)[1]), reverse=not asc)
    return found


def resolve(st: JiraState, issue: Issue | None, name: str) -> FieldValues:
    """(kind, values) of a JQL field on an issue; with issue None, only checks that the field exists."""
    low = name.lower()
    fid = _JQL_ALIASES.get(low, low)
    prop = re.fullmatch(r"issue\.property\[([^\]]+)\]((?:\.\w+)*)", name, re.I)
    if prop:
        if issue is None:
            return "text", []
        value: Any = issue.properties.get(prop.group(1))
        for part in filter(None, prop.group(2).split(".")):
            value = value.get(part) if isinstance(value, dict) else None
        return "text", ([] if value is None else value if isinstance(value, list) else [value])
    cf = re.fullmatch(r"cf\[(\d+)\]", low)
    custom = next((c for c in st.custom.values()
                   if (cf and c.numeric_id == cf.group(1)) or c.name.lower() == low or c.id == low), None)
    if custom is not None:
        kind = "number" if custom.type == "number" else "date" if custom.type == "date" else "text"
        return kind, [] if issue is None else _flat(issue.fields.get(custom.id))
    if fid in ("created", "updated", "duedate"):
        return "date", [] if issue is None else _dates(issue.fields.get(fid))
    known = {"project", "key", "id", "text", "issuetype", "status", "priority", "resolution", "labels",
             "components", "fixversions", "versions", "assignee", "reporter", "summary", "description",
             "comment", "parent"}
    if fid.lower() not in known and fid not in ("fixVersions",):
        raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")
    if issue is None:
        return "text", []
    f = issue.fields
    if fid == "project":
        return "text", [issue.project, st.projects.get(issue.project, "")]
    if fid == "key":
        return "text", [issue.key]
    if fid == "id":
        return "text", [str(issue.id)]
    if fid == "text":
        return "text", [f["summary"], adf_text(f["description"]), *(adf_text(c.body) for c in issue.comments)]
    if fid == "comment":
        return "text", [adf_text(c.body) for c in issue.comments]
    if fid == "description":
        return "text", [adf_text(f["description"])] if f["description"] else []
    if fid in ("assignee", "reporter"):
        u = f.get(fid)
        return "text", [] if u is None else [u.account_id, u.name, u.email, u.display_name]
    key = "fixVersions" if fid.lower() == "fixversions" else fid
    return "text", _flat(f.get(key))


def _flat(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, User):
        return [value.account_id, value.name, value.email]
    if isinstance(value, list):
        return [x for v in value for x in _flat(v)]
    if isinstance(value, dict):
        return [adf_text(value)]
    return [value]


def _dates(value: Any) -> list[datetime]:
    if value is None:
        return []
    if isinstance(value, str):
        return [datetime.fromisoformat(value).replace(tzinfo=UTC)]
    return [value]


def _sort_key(values: list[Any]) -> tuple:
    if not values:
        return (0, "")
    v = values[0]
    if isinstance(v, str) and re.fullmatch(r"[A-Z][A-Z0-9_]*-\d+", v):
        prefix, num = v.rsplit("-", 1)
        return (1, prefix, int(num))
    return (1, v)
