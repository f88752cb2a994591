"""The Jira connector: runtime.connector.Connector over Jira Cloud (REST v3) and Data Center (REST v2).

Writes are made safe to repeat:

- a created issue carries the marker in the issue property `rulelang.marker` (value `{"value": marker}`),
  set in the create request itself; `find_by_marker` searches
  `issue.property[rulelang.marker].value = "…"`. Jira's search index lags behind writes, so a miss is
  retried for `marker_settle` seconds (the engine only asks on a retried create intent), and markers
  created by this process are answered from memory. JQL sees an issue property only once it is indexed
  (Cloud: an app's `jiraEntityProperties` module; Data Center: a plugin's index configuration).
- a comment carries its origin (`rulelang.origin` = `{"remote_id": …}`); before adding comments to an
  existing issue the connector reads them once (`expand=properties`) and maps, rather than reposts, a
  comment that is already there. Internal comments set the service-desk property
  `sd.public.comment` = `{"internal": true}`.
- an attachment's bytes come from the change set value: `content` (base64) when the replica carries them,
  else `attachment_source(value)`, a callable the engine provides (for a Jira source,
  `JiraConnector.download_attachment`), given the value with `id` set to the item's id on the other side; `content_url` is never fetched blindly, since a replica from
  another organisation must not make this node send requests (or credentials) to arbitrary hosts.

When apply fails part-way, the exception carries `.applied`: what was done so far (key, created ids).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from rulelang.errors import ConfigError, RulelangError, did_you_mean
from runtime.changes import AddItem, ChangeSet, DeleteItem, LinkIssue, MoveStatus, SetField, UpdateItem
from runtime.connector import Applied, PermanentError

from . import _items, model
from .client import (
    DEFAULT_TIMEOUT,
    JiraClient,
    JiraError,
    RetryPolicy,
    auth_from_env,
    jql_string,
    jql_time,
)

__all__ = ["JiraConnector", "SYSTEM_FIELDS"]

log = logging.getLogger("rulelang.connectors.jira")

# The Jira fields behind the neutral model; search and get ask for these and the custom fields only.
SYSTEM_FIELDS = ("project", "summary", "description", "issuetype", "status", "priority", "resolution", "labels",
                 "components", "fixVersions", "versions", "assignee", "reporter", "duedate", "created",
                 "updated", "parent", "issuelinks", "comment", "attachment", "worklog")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class JiraConnector:
    """One Jira site and project. Catalogue, time zone and user lookups are cached for the connector's life
    (one run); `refresh()` forgets them."""

    def __init__(self, url: str, project: str, *, flavor: str = "cloud", auth: Mapping[str, str],
                 env: Mapping[str, str] | None = None, http_client: httpx.Client | None = None,
                 timeout: httpx.Timeout = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, custom_fields: Sequence[str] | None = None,
                 page_size: int = 100, max_attachment_bytes: int = 10 * 1024 * 1024,
                 attachment_source: Callable[[dict], bytes] | None = None, hidden_email: str = "none",
                 marker_property: str = "rulelang.marker", origin_property: str = "rulelang.origin",
                 marker_settle: float = 10.0, marker_poll: float = 0.5) -> None:
        if flavor not in ("cloud", "dc"):
            raise ConfigError(f"Jira flavor must be 'cloud' or 'dc', not {flavor!r}", code="K712")
        parts = urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
            raise ConfigError(f"Jira url must be https:// (credentials travel with every request): {url}",
                              code="K713")
        if hidden_email not in ("none", "single"):
            raise ConfigError("hidden_email must be 'none' or 'single'", code="K714")
        jira_auth, hint = auth_from_env(flavor, auth, os.environ if env is None else env)
        self.http = JiraClient(url, flavor=flavor, auth=jira_auth, http_client=http_client, timeout=timeout,
                               retry=retry, sleep=sleep, credential_hint=hint)
        self.url, self.project, self.flavor = url.rstrip("/"), project, flavor
        self.custom_fields = None if custom_fields is None else list(custom_fields)
        self.page_size = max(1, min(page_size, 100))
        self.max_attachment_bytes = max_attachment_bytes
        self.attachment_source = attachment_source
        self.hidden_email = hidden_email
        self.marker_property, self.origin_property = marker_property, origin_property
        self.marker_settle, self.marker_poll = marker_settle, marker_poll
        self._sleep = sleep
        self._markers: dict[str, str] = {}
        self.refresh()

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], *, env: Mapping[str, str] | None = None,
                    **overrides: Any) -> JiraConnector:
        """Build from a connection.toml instance table (`url`, `project`, `auth`, optional `flavor`, …)."""
        for key in ("url", "project", "auth"):
            if key not in cfg:
                raise ConfigError(f"a jira instance needs '{key}'", code="K715")
        auth = cfg["auth"]
        flavor = cfg.get("flavor") or ("cloud" if "email_env" in auth else "dc")
        options = {k: cfg[k] for k in ("custom_fields", "page_size", "max_attachment_bytes", "hidden_email",
                                       "marker_settle") if k in cfg}
        return cls(cfg["url"], cfg["project"], flavor=flavor, auth=auth, env=env, **{**options, **overrides})

    def refresh(self) -> None:
        self._catalogue: list[dict] | None = None
        self._me: dict | None = None
        self._users: dict[str, dict | None] = {}

    def close(self) -> None:
        self.http.close()

    # ---- site facts, fetched once
    def catalogue(self) -> list[dict]:
        """`GET /field`: every field; also fills the id -> name, custom name -> id and name -> kind maps."""
        if self._catalogue is None:
            fields = self.http.get("/field")
            if not isinstance(fields, list):
                raise PermanentError("Jira GET /field did not answer a list of fields")
            self._catalogue = [f for f in fields if isinstance(f, dict) and "id" in f]
            self._names = {f["id"]: str(f.get("name") or f["id"]) for f in self._catalogue}
            custom = [f for f in self._catalogue if f.get("custom")]
            self._ids = {str(f.get("name")): f["id"] for f in custom}
            self._types = {}
            for f in custom:  # the value kind fields_to_jira shapes a custom value as, from the field's schema
                schema = f.get("schema") or {}
                kind, items = str(schema.get("type") or ""), str(schema.get("items") or "")
                if str(schema.get("custom") or "").endswith(":textarea"):
                    self._types[str(f.get("name"))] = "textarea"
                elif kind == "array" and items in ("option", "user", "version"):
                    self._types[str(f.get("name"))] = f"array:{items}"
                elif kind in ("option", "option-with-child", "user", "version", "number", "date", "datetime"):
                    self._types[str(f.get("name"))] = kind
            names = self._names
            self.http.field_label = lambda fid: f"{fid} ({names[fid]})" if names.get(fid, fid) != fid else fid
        return self._catalogue

    def field_names(self) -> dict[str, str]:
        """Field id -> name."""
        self.catalogue()
        return self._names

    def field_ids(self) -> dict[str, str]:
        """Custom field name -> id (what fields_to_jira needs)."""
        self.catalogue()
        return self._ids

    def myself(self) -> dict:
        if self._me is None:
            me = self.http.get("/myself")
            self._me = me if isinstance(me, dict) else {}
        return self._me

    def wanted_fields(self) -> list[str]:
        """The fields search and get ask for: the model's system fields and the configured custom ones."""
        ids = self.field_ids()
        if self.custom_fields is None:
            every = [*SYSTEM_FIELDS, *ids.values()]
            return every if len(",".join(every)) < 2000 else ["*all"]  # keep GET URLs short on big sites
        unknown = [n for n in self.custom_fields if n not in ids]
        if unknown:
            hint = did_you_mean(unknown[0], ids)
            raise ConfigError(f"custom field '{unknown[0]}' does not exist on {self.url}"
                              + (f" (did you mean '{hint}'?)" if hint else ""), code="K716")
        return [*SYSTEM_FIELDS, *(ids[n] for n in self.custom_fields)]

    # ---- reading
    def search(self, query: str | None = None, updated_since: str | None = None) -> Iterator[dict]:
        jql = f"project = {jql_string(self.project)}"
        if query and query.strip():
            trimmed = re.sub(r"(?is)\s*\border\s+by\b[^\"']*$", "", query.strip())
            if trimmed:
                jql += f" AND ({trimmed})"
        if updated_since:
            jql += f" AND updated >= {jql_string(jql_time(updated_since, self.myself().get('timeZone') or 'UTC'))}"
        jql += " ORDER BY updated ASC, key ASC"
        for issue in self._search_raw(jql, self.wanted_fields()):
            yield self._neutral(issue)

    def _search_raw(self, jql: str, fields: list[str], limit: int | None = None) -> Iterator[dict]:
        size = min(self.page_size, limit or self.page_size)
        token: str | None = None
        start = 0
        while True:
            if self.flavor == "cloud":
                body: dict[str, Any] = {"jql": jql, "fields": fields, "maxResults": size}
                if token:
                    body["nextPageToken"] = token
                page = self.http.post("/search/jql", body, idempotent=True)  # a search changes nothing
            else:
                query = {"jql": jql, "startAt": start, "maxResults": size, "fields": ",".join(fields)}
                page = (self.http.get("/search", params=query) if len(jql) < 4000 else  # URL length limits
                        self.http.post("/search", {**query, "fields": fields}, idempotent=True))
            issues = page.get("issues") if isinstance(page, dict) else None
            if not isinstance(issues, list):
                raise PermanentError("Jira search answered without an 'issues' list")
            yield from issues
            start += len(issues)
            if limit is not None and start >= limit:
                return
            if self.flavor == "cloud":
                token = page.get("nextPageToken")
                if not token or page.get("isLast") is True:
                    return
            elif not issues or start >= int(page.get("total") or 0):
                return

    def get_issue(self, key: str) -> dict | None:
        raw = self.http.get(f"/issue/{quote(key)}", params={"fields": ",".join(self.wanted_fields())},
                            allow=(404,))
        if raw is None:
            return None
        project = ((raw.get("fields") or {}).get("project") or {}).get("key")
        if project is not None and project != self.project:
            return None  # moved or foreign: outside this instance's scope
        return self._neutral(raw)

    def _neutral(self, raw: dict) -> dict:
        return model.issue_from_jira(raw, names=self.field_names())

    # ---- markers and users
    def find_by_marker(self, marker: str) -> str | None:
        if marker in self._markers:
            return self._markers[marker]
        jql = (f"project = {jql_string(self.project)} AND issue.property[{self.marker_property}].value = "
               f"{jql_string(marker)} ORDER BY created ASC")
        deadline = time.monotonic() + self.marker_settle
        while True:
            hits = [str(h["key"]) for h in self._search_raw(jql, ["created"], limit=2)
                    if isinstance(h, dict) and h.get("key")]
            if hits:
                if len(hits) > 1:
                    log.warning("marker %s is on several issues; using the oldest, %s", marker, hits[0])
                self._markers[marker] = hits[0]
                return hits[0]
            if time.monotonic() >= deadline:
                return None
            self._sleep(self.marker_poll)  # the search index lags behind a create by a few seconds

    def lookup_user(self, email: str) -> dict | None:
        wanted = email.strip().lower()
        if wanted not in self._users:
            params = {"query": wanted} if self.flavor == "cloud" else {"username": wanted}
            found = self.http.get("/user/search", params={**params, "maxResults": 10})
            users = [u for u in found if isinstance(u, dict) and u.get("active", True)] \
                if isinstance(found, list) else []
            exact = [u for u in users if str(u.get("emailAddress") or "").lower() == wanted]
            hidden = [u for u in users if not u.get("emailAddress")]
            # Cloud hides e-mails by privacy setting; a lone match of the query may then be trusted.
            chosen = exact[0] if exact else hidden[0] if (
                self.hidden_email == "single" and len(users) == 1 and hidden) else None
            self._users[wanted] = None if chosen is None else {
                "id": chosen.get("accountId") if self.flavor == "cloud" else chosen.get("name"),
                "email": chosen.get("emailAddress") or email, "name": chosen.get("displayName")}
        return self._users[wanted]

    # ---- writing
    def apply(self, key: str | None, changes: ChangeSet, *, marker: str | None = None) -> Applied:
        done: dict[str, Any] = {"key": key, "created": False, "ids": {}}
        try:
            self._apply(done, changes, marker)
        except RulelangError as exc:
            exc.applied = Applied(done["key"], done["created"], done["ids"]) if done["key"] else None
            raise
        return Applied(done["key"], done["created"], done["ids"])

    def _apply(self, done: dict[str, Any], changes: ChangeSet, marker: str | None) -> None:
        fields: dict[str, Any] = {}
        status = None
        for op in changes.operations:
            if isinstance(op, SetField) and op.path == ("status",):
                status = op.value
            elif isinstance(op, SetField):
                target = fields
                for part in op.path[:-1]:
                    target = target.setdefault(part, {})
                target[op.path[-1]] = op.value
            elif isinstance(op, MoveStatus):
                status = op.status
            elif isinstance(op, LinkIssue):
                if self.get_issue(op.key) is None:
                    raise PermanentError(f"cannot link to {op.key}: no such issue in project {self.project}")
                done["key"] = op.key
        items = [op for op in changes.operations if isinstance(op, (AddItem, UpdateItem, DeleteItem))]
        unsupported = sorted({op.kind for op in items} - {"comments", "attachments"})
        if unsupported:
            raise PermanentError(f"the Jira connector does not sync {', '.join(unsupported)} yet")
        fresh = False
        if done["key"] is None:
            if not changes.create:
                raise PermanentError("a change set without create needs the key of the issue to change")
            done["key"], fresh = self._create(fields, marker)
            done["created"], fields = True, {}
        key = done["key"]
        if fields:
            self.http.put(f"/issue/{quote(key)}", {"fields": self._jira_fields(fields)})  # one PUT for all
        if status:
            self._move(key, str(status))
        if any(op.kind == "comments" for op in items):
            _items.write_comments(self, key, [op for op in items if op.kind == "comments"], done["ids"], fresh)
        for op in items:
            if op.kind == "attachments":
                made = done["ids"].setdefault("attachments", {})
                if isinstance(op, (UpdateItem, DeleteItem)):  # attachments are immutable: update = replace
                    self.http.delete(f"/attachment/{quote(op.local_id)}", allow=(404,))
                if isinstance(op, (AddItem, UpdateItem)):
                    made[op.remote_id] = _items.upload(self, key, op.value, op.remote_id)

    def _jira_fields(self, fields: dict[str, Any]) -> dict[str, Any]:
        return model.fields_to_jira(fields, flavor=self.flavor, field_ids=self.field_ids(), field_types=self._types)

    def _create(self, fields: dict[str, Any], marker: str | None) -> tuple[str, bool]:
        """(key, fresh): fresh is False when an earlier attempt's issue was found instead."""
        body: dict[str, Any] = {"fields": {**self._jira_fields(fields), "project": {"key": self.project}}}
        if marker:  # set in the create itself, so no issue ever exists without its marker
            body["properties"] = [{"key": self.marker_property, "value": {"value": marker}}]
        recovered: list[str] = []

        def recover() -> dict | None:
            found = self.find_by_marker(marker) if marker else None
            recovered.extend([found] if found else [])
            return {"key": found} if found else None

        made = self.http.post("/issue", body, recover=recover if marker else None)
        if not isinstance(made, dict) or not made.get("key"):
            raise PermanentError("Jira POST /issue answered without the new issue's key")
        if marker:
            self._markers[marker] = str(made["key"])
        return str(made["key"]), not recovered

    def _status_of(self, key: str, *, transitions: bool = False) -> tuple[str, list[dict]]:
        params = {"fields": "status", **({"expand": "transitions"} if transitions else {})}
        raw = self.http.get(f"/issue/{quote(key)}", params=params) or {}
        name = str(((raw.get("fields") or {}).get("status") or {}).get("name") or "")
        return name, [t for t in raw.get("transitions") or [] if isinstance(t, dict)]

    def _move(self, key: str, status: str) -> None:
        current, moves = self._status_of(key, transitions=True)  # one GET: status and transitions
        if current.lower() == status.lower():
            return
        match = [t for t in moves if str((t.get("to") or {}).get("name", "")).lower() == status.lower()]
        if not match:
            offered = ", ".join(f"'{t.get('name')}' → '{(t.get('to') or {}).get('name')}'" for t in moves)
            raise PermanentError(f"cannot move {key} from '{current}' to '{status}': no transition leads there; "
                                 f"available: {offered or 'none'}")

        def recover() -> bool | None:
            return True if self._status_of(key)[0].lower() == status.lower() else None

        try:
            self.http.post(f"/issue/{quote(key)}/transitions", {"transition": {"id": str(match[0]["id"])}},
                           recover=recover)
        except JiraError as exc:
            if exc.status != 400 or not recover():
                raise  # else someone, or an earlier attempt, moved it meanwhile

    def download_attachment(self, attachment: Mapping[str, Any]) -> bytes:
        """The bytes of one of this site's attachments (a neutral attachment with `content_url` or `id`);
        usable as the other side's `attachment_source`."""
        url = attachment.get("content_url")
        if not url:
            aid = attachment.get("id")
            if aid is None:
                raise PermanentError("attachment has neither content_url nor id")
            url = (f"{self.url}/rest/api/3/attachment/content/{aid}" if self.flavor == "cloud"
                   else f"{self.url}/secure/attachment/{aid}/{quote(str(attachment.get('filename') or 'file'))}")
        return self.http.download(str(url), limit=self.max_attachment_bytes)
