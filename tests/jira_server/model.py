"""The test server's records and configuration: users, custom fields, workflow, issues, comments, attachments."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "ApiError",
    "User",
    "CustomField",
    "Workflow",
    "Comment",
    "Attachment",
    "Issue",
    "DEFAULT_WORKFLOW",
    "DEFAULT_CUSTOM_FIELDS",
    "adf_text",
    "text_to_adf",
]


class ApiError(Exception):
    """An error answer in Jira's shape: `{"errorMessages": [...], "errors": {field: message}}`."""

    def __init__(self, status: int, messages: list[str] | str | None = None,
                 errors: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.messages = [messages] if isinstance(messages, str) else list(messages or [])
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})
        super().__init__(f"{status}: {self.messages} {self.errors}")

    def body(self) -> dict:
        return {"errorMessages": self.messages, "errors": self.errors}


@dataclass(eq=False)
class User:
    """A Jira user. Cloud names users by `account_id`, Data Center by `name`; `token` is its API token / PAT."""

    account_id: str
    name: str
    display_name: str
    email: str
    token: str | None = None
    time_zone: str = "UTC"
    email_visible: bool = True
    active: bool = True

    def __deepcopy__(self, memo: dict) -> User:
        return self  # users are shared between an issue and its index snapshots


@dataclass(frozen=True)
class CustomField:
    """A custom field: type is number, string, textarea (rich text), option, labels, date or user."""

    id: str
    name: str
    type: str = "string"
    options: tuple[str, ...] = ()

    @property
    def numeric_id(self) -> str:
        return self.id.rsplit("_", 1)[-1]


DEFAULT_CUSTOM_FIELDS = (
    CustomField("customfield_10016", "Story Points", "number"),
    CustomField("customfield_10020", "Team", "option", ("Red", "Blue", "Green")),
    CustomField("customfield_10030", "Customer", "string"),
    CustomField("customfield_10040", "Release Notes", "textarea"),
)

# status -> {transition name: target status}; the first status is where new issues start.
DEFAULT_WORKFLOW: dict[str, dict[str, str]] = {
    "To Do": {"Start Progress": "In Progress", "Done": "Done"},
    "In Progress": {"Stop Progress": "To Do", "Review": "In Review", "Done": "Done"},
    "In Review": {"Back to Progress": "In Progress", "Done": "Done"},
    "Done": {"Reopen": "To Do"},
}

_CATEGORIES = {
    "new": (2, "new", "To Do", "blue-gray"),
    "indeterminate": (4, "indeterminate", "In Progress", "yellow"),
    "done": (3, "done", "Done", "green"),
}


class Workflow:
    """Statuses, their categories and the transitions between them, with stable ids."""

    def __init__(self, graph: dict[str, dict[str, str]], categories: dict[str, str] | None = None) -> None:
        self.graph = {s: dict(t) for s, t in graph.items()}
        statuses: list[str] = []
        for source, moves in self.graph.items():
            for name in (source, *moves.values()):
                if name not in statuses:
                    statuses.append(name)
        self.statuses = statuses
        self.initial = statuses[0]
        self.status_ids = {name: str(10000 + i) for i, name in enumerate(statuses)}
        pairs: list[tuple[str, str]] = []
        for moves in self.graph.values():
            for pair in moves.items():
                if pair not in pairs:
                    pairs.append(pair)
        self.transition_ids = {pair: str(11 + 10 * i) for i, pair in enumerate(pairs)}
        cats = dict(categories or {})
        for name in statuses:
            if name not in cats:
                low = name.lower()
                cats[name] = ("done" if low in ("done", "closed", "resolved") else
                              "new" if low in ("to do", "open", "backlog", "new") else "indeterminate")
        self.categories = cats

    def available(self, status: str) -> list[tuple[str, str, str]]:
        """(transition id, name, target status) available from `status`."""
        return [(self.transition_ids[(n, t)], n, t) for n, t in self.graph.get(status, {}).items()]

    def status_json(self, name: str, base: str) -> dict:
        cid, key, cname, color = _CATEGORIES[self.categories[name]]
        sid = self.status_ids.get(name, "1")
        return {"self": f"{base}/status/{sid}", "description": "", "iconUrl": f"{base}/images/status.png",
                "name": name, "id": sid,
                "statusCategory": {"self": f"{base}/statuscategory/{cid}", "id": cid, "key": key,
                                   "colorName": color, "name": cname}}


@dataclass(eq=False)
class Comment:
    id: int
    body: Any
    author: User
    created: datetime
    updated: datetime
    update_author: User
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def internal(self) -> bool:
        prop = self.properties.get("sd.public.comment")
        return isinstance(prop, dict) and bool(prop.get("internal"))


@dataclass(eq=False)
class Attachment:
    id: int
    issue_id: int
    filename: str
    mime_type: str
    content: bytes
    author: User
    created: datetime


@dataclass(eq=False)
class Issue:
    """One issue; `fields` holds normalised values (names for references, User objects, datetimes)."""

    id: int
    key: str
    project: str
    fields: dict[str, Any]
    comments: list[Comment] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    # (visible from, monotonic seconds; snapshot): what search sees, lagging behind writes on purpose
    index: list[tuple[float, Issue]] = field(default_factory=list)

    def snapshot(self) -> Issue:
        return Issue(self.id, self.key, self.project, copy.deepcopy(self.fields),
                     [copy.copy(c) for c in self.comments], list(self.attachments),
                     copy.deepcopy(self.properties))


def adf_text(node: Any) -> str:
    """The plain text of an ADF document (or a wiki string), for text search."""
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        own = node.get("text", "") if node.get("type") == "text" else ""
        inner = " ".join(adf_text(c) for c in node.get("content", []) or [])
        return (own + " " + inner).strip()
    if isinstance(node, list):
        return " ".join(adf_text(c) for c in node)
    return ""


def text_to_adf(text: str) -> dict:
    """A minimal ADF document, one paragraph per blank-line separated block (for seeding only)."""
    blocks = [b for b in text.split("\n\n") if b.strip()]
    return {"type": "doc", "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": b}]} for b in blocks]}
