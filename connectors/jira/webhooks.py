"""Jira webhook bodies read as change notices: the event, and which issue it says changed."""

from __future__ import annotations

import re
from typing import Any

from rulelang.errors import PayloadError

from ._check import type_name

__all__ = ["SUPPORTED_EVENTS", "webhook_notice"]

# The events `rulelang serve` acts on; configure the Jira webhook for these.
SUPPORTED_EVENTS = ("jira:issue_created", "jira:issue_updated", "comment_created", "comment_updated",
                    "comment_deleted")

_KEY = re.compile(r"[A-Z][A-Z0-9_]*-[1-9][0-9]*")
_ID = re.compile(r"[1-9][0-9]{0,18}")
_ISSUE_IN_URL = re.compile(r"/rest/api/[23]/issue/([1-9][0-9]{0,18}|[A-Z][A-Z0-9_]*-[1-9][0-9]*)/comment/")


def webhook_notice(payload: Any) -> tuple[str, str]:
    """(event, issue key or id) for a Jira webhook body; PayloadError for anything else.

    Only the issue's identity is read: the engine reads the issue itself from Jira, so the body's fields
    (possibly stale: Jira retries and reorders deliveries) never travel. A comment event without an
    `issue` object (older Data Center) names its issue in the comment's `self` URL.
    """
    if not isinstance(payload, dict):
        raise PayloadError(f"a Jira webhook body is a JSON object, got {type_name(payload)}")
    event = payload.get("webhookEvent")
    if not isinstance(event, str) or not event:
        hint = " (this looks like a GitHub webhook)" if "repository" in payload or "sender" in payload else ""
        raise PayloadError(f"webhookEvent: expected text, got {type_name(event)} — not a Jira webhook{hint}")
    if event not in SUPPORTED_EVENTS:
        raise PayloadError(f"webhookEvent '{event[:80]}' is not handled (only {', '.join(SUPPORTED_EVENTS)})")
    issue = payload.get("issue")
    if issue is not None and not isinstance(issue, dict):
        raise PayloadError(f"issue: expected an object, got {type_name(issue)}")
    if issue:
        key, ident = issue.get("key"), issue.get("id")
        if isinstance(key, str) and _KEY.fullmatch(key):
            return event, key
        if isinstance(ident, str | int) and not isinstance(ident, bool) and _ID.fullmatch(str(ident)):
            return event, str(ident)
        raise PayloadError("issue: neither a key (like DEV-12) nor a numeric id")
    comment = payload.get("comment")
    found = _ISSUE_IN_URL.search(str(comment.get("self") or "")) if isinstance(comment, dict) else None
    if event.startswith("comment_") and found:
        return event, found.group(1)
    raise PayloadError(f"a {event} webhook without the issue it is about")
