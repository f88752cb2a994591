"""Writing comments and attachments to one Jira issue, each write safe to repeat after a lost answer."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from runtime.changes import AddItem, UpdateItem
from runtime.connector import PermanentError

from . import model
from .client import JiraError, attachment_content, jira_datetime

if TYPE_CHECKING:
    from .connector import JiraConnector

__all__ = ["comment_body", "comment_origins", "write_comments", "upload"]


def comment_body(conn: JiraConnector, value: Mapping[str, Any], remote_id: str | None = None) -> dict:
    """A comment create (with `remote_id`) or update body; `internal` maps to the service-desk property."""
    body: dict[str, Any] = {"body": model.comment_body_to_jira(str(value.get("body") or ""), flavor=conn.flavor)}
    props = [] if remote_id is None else [{"key": conn.origin_property, "value": {"remote_id": remote_id}}]
    if "internal" in value and (remote_id is None or value["internal"]):
        props.append({"key": "sd.public.comment", "value": {"internal": bool(value["internal"])}})
    if props:
        body["properties"] = props
    return body

def comment_origins(conn: JiraConnector, key: str) -> dict[str, str]:
    """remote id -> comment id, for the comments this connector posted on `key`."""
    out: dict[str, str] = {}
    start = 0
    while True:
        page = conn.http.get(f"/issue/{quote(key)}/comment",
                             params={"startAt": start, "maxResults": 1000, "expand": "properties"}) or {}
        comments = page.get("comments") if isinstance(page, dict) else None
        if not isinstance(comments, list):
            raise PermanentError(f"Jira GET /issue/{key}/comment answered without a 'comments' list")
        for c in comments:
            for prop in c.get("properties") or []:
                if prop.get("key") == conn.origin_property and isinstance(prop.get("value"), dict):
                    out[str(prop["value"].get("remote_id"))] = str(c.get("id"))
        start += len(comments)
        if not comments or start >= int(page.get("total") or 0):
            return out

def write_comments(conn: JiraConnector, key: str, ops: list, ids: dict[str, dict[str, str]], fresh: bool) -> None:
    path = f"/issue/{quote(key)}/comment"
    made = ids.setdefault("comments", {})
    # An earlier attempt may have posted some before failing: map those instead of posting twice.
    posted = comment_origins(conn, key) if not fresh and any(isinstance(op, AddItem) for op in ops) else {}
    for op in ops:
        if isinstance(op, AddItem):
            if op.remote_id not in posted:
                def recover(rid: str = op.remote_id) -> dict | None:
                    found = comment_origins(conn, key).get(rid)
                    return {"id": found} if found else None

                answer = conn.http.post(path, comment_body(conn, op.value, op.remote_id), recover=recover)
                if not isinstance(answer, dict) or not answer.get("id"):
                    raise PermanentError(f"Jira POST {path} answered without the new comment's id")
                posted[op.remote_id] = str(answer["id"])
            made[op.remote_id] = posted[op.remote_id]
        elif isinstance(op, UpdateItem):
            try:
                conn.http.put(f"{path}/{quote(op.local_id)}", comment_body(conn, op.value))
            except JiraError as exc:
                if exc.status == 404:
                    raise PermanentError(f"comment {op.local_id} on {key} (from {op.remote_id}) was deleted "
                                         "in Jira; it cannot be updated") from None
                raise
        else:
            conn.http.delete(f"{path}/{quote(op.local_id)}", allow=(404,))  # already gone is done

def upload(conn: JiraConnector, key: str, value: Mapping[str, Any], remote_id: str) -> str:
    source = conn.attachment_source
    # The source finds the bytes by the attachment's id on its own side: the change set value has none.
    fetch = None if source is None else (lambda v: source({**v, "id": remote_id}))
    data = attachment_content(value, limit=conn.max_attachment_bytes, source=fetch)
    name = str(value.get("filename") or "attachment")
    mime = str(value.get("mime_type") or "application/octet-stream")
    since = datetime.now(UTC).replace(second=0, microsecond=0)

    def recover() -> list | None:  # after a lost answer: is our upload there?
        raw = conn.http.get(f"/issue/{quote(key)}", params={"fields": "attachment"}) or {}
        me = conn.myself()
        for att in reversed((raw.get("fields") or {}).get("attachment") or []):
            author = att.get("author") or {}
            if (author.get("accountId"), author.get("name")) == (me.get("accountId"), me.get("name")) \
                    and att.get("filename") == name and att.get("size") == len(data) \
                    and jira_datetime(att.get("created")) >= since:
                return [att]
        return None

    got = conn.http.post(f"/issue/{quote(key)}/attachments", files={"file": (name, data, mime)},
                         headers={"X-Atlassian-Token": "no-check"}, recover=recover)
    if not isinstance(got, list) or not got or not isinstance(got[0], dict) or not got[0].get("id"):
        raise PermanentError(f"Jira POST /issue/{key}/attachments answered without the attachment's id")
    return str(got[0]["id"])

