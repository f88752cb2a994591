"""Renders the test server's records as Jira REST JSON, v3 (Cloud) or v2 (Data Center)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .model import Attachment, Comment, Issue, User
from .state import SYSTEM_FIELDS, JiraState

__all__ = ["Renderer", "jira_time"]

_CUSTOM_SCHEMA = {
    "number": ("number", "float"), "string": ("string", "textfield"), "textarea": ("string", "textarea"),
    "option": ("option", "select"), "labels": ("array", "labels"), "date": ("date", "datepicker"),
    "user": ("user", "userpicker"),
}
# Fields a search returns for "*navigable": everything but the heavy entity lists.
_NOT_NAVIGABLE = {"comment", "attachment", "worklog"}


def jira_time(dt: datetime, tz: str) -> str:
    """Jira's timestamp format, in the viewer's zone: 2024-01-15T10:30:00.000+0100."""
    local = dt.astimezone(ZoneInfo(tz))
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}" + local.strftime("%z")


class Renderer:
    """JSON for one flavour; `base` is the server's URL (known only once the socket is bound)."""

    def __init__(self, state: JiraState, base: str) -> None:
        self.state = state
        self.cloud = state.flavor == "cloud"
        self.base = base
        self.api = f"{base}/rest/api/{3 if self.cloud else 2}"

    def user(self, u: User | None, viewer: User | None = None) -> dict | None:
        if u is None:
            return None
        avatars = {s: f"{self.base}/avatar/{u.name}?s={s[:2]}" for s in ("48x48", "24x24", "16x16", "32x32")}
        out: dict[str, Any] = {"displayName": u.display_name, "active": u.active, "timeZone": u.time_zone,
                               "avatarUrls": avatars}
        if self.cloud:
            out.update(self=f"{self.api}/user?accountId={u.account_id}", accountId=u.account_id,
                       accountType="atlassian")
        else:
            out.update(self=f"{self.api}/user?username={quote(u.name)}", name=u.name,
                       key=f"JIRAUSER{10000 + self.state.users.index(u)}")
        if u.email_visible or not self.cloud or u is viewer:
            out["emailAddress"] = u.email
        return out

    def comment(self, c: Comment, issue: Issue, viewer: User, *, properties: bool = False) -> dict:
        out = {"self": f"{self.api}/issue/{issue.id}/comment/{c.id}", "id": str(c.id),
               "author": self.user(c.author, viewer), "body": c.body,
               "updateAuthor": self.user(c.update_author, viewer),
               "created": jira_time(c.created, viewer.time_zone), "updated": jira_time(c.updated, viewer.time_zone),
               "jsdPublic": not c.internal}
        if properties:
            out["properties"] = [{"key": k, "value": v} for k, v in c.properties.items()]
        return out

    def comments_page(self, issue: Issue, viewer: User, start: int = 0, limit: int | None = None,
                      *, properties: bool = False) -> dict:
        chosen = issue.comments[start:] if limit is None else issue.comments[start:start + limit]
        return {"comments": [self.comment(c, issue, viewer, properties=properties) for c in chosen],
                "self": f"{self.api}/issue/{issue.id}/comment",
                "maxResults": len(chosen) if limit is None else limit, "total": len(issue.comments),
                "startAt": start}

    def content_url(self, a: Attachment) -> str:
        if self.cloud:
            return f"{self.base}/rest/api/3/attachment/content/{a.id}"
        return f"{self.base}/secure/attachment/{a.id}/{quote(a.filename)}"

    def attachment(self, a: Attachment, viewer: User) -> dict:
        return {"self": f"{self.api}/attachment/{a.id}", "id": str(a.id), "filename": a.filename,
                "author": self.user(a.author, viewer), "created": jira_time(a.created, viewer.time_zone),
                "size": len(a.content), "mimeType": a.mime_type, "content": self.content_url(a)}

    def _named(self, kind: str, name: str | None, pool: list[str], **extra: Any) -> dict | None:
        if name is None:
            return None
        rid = str(10000 + pool.index(name)) if name in pool else "1"
        return {"self": f"{self.api}/{kind}/{rid}", "id": rid, "name": name, **extra}

    def field_value(self, issue: Issue, fid: str, viewer: User) -> Any:
        st, f = self.state, issue.fields
        if fid in st.custom:
            cf, value = st.custom[fid], f.get(fid)
            if cf.type == "option" and value is not None:
                rid = str(10100 + cf.options.index(value))
                return {"self": f"{self.api}/customFieldOption/{rid}", "value": value, "id": rid}
            if cf.type == "user":
                return self.user(value, viewer)
            return value
        if fid == "project":
            idx = list(st.projects).index(issue.project) + 1
            return {"self": f"{self.api}/project/{10000 + idx}", "id": str(10000 + idx), "key": issue.project,
                    "name": st.projects[issue.project], "projectTypeKey": "software"}
        if fid == "issuetype":
            return self._named("issuetype", f["issuetype"], st.issue_types, subtask=False, description="",
                               iconUrl=f"{self.base}/images/issuetype.png")
        if fid == "status":
            return st.workflow.status_json(f["status"], self.api)
        if fid == "priority":
            return self._named("priority", f["priority"], st.priorities, iconUrl=f"{self.base}/images/p.svg")
        if fid == "resolution":
            return self._named("resolution", f["resolution"], ["Done"], description="Work has been done.")
        if fid == "components":
            return [self._named("component", n, st.components) for n in f["components"]]
        if fid in ("fixVersions", "versions"):
            return [self._named("version", n, st.versions, archived=False, released=False) for n in f[fid]]
        if fid in ("assignee", "reporter"):
            return self.user(f[fid], viewer)
        if fid in ("created", "updated"):
            return jira_time(f[fid], viewer.time_zone)
        if fid == "parent":
            parent = st.issues.get(f["parent"]) if f["parent"] else None
            if parent is None:
                return None
            return {"id": str(parent.id), "key": parent.key, "self": f"{self.api}/issue/{parent.id}",
                    "fields": {"summary": parent.fields["summary"],
                               "status": st.workflow.status_json(parent.fields["status"], self.api),
                               "issuetype": self.field_value(parent, "issuetype", viewer)}}
        if fid == "issuelinks":
            return []
        if fid == "comment":
            return self.comments_page(issue, viewer)
        if fid == "attachment":
            return [self.attachment(a, viewer) for a in issue.attachments]
        if fid == "worklog":
            return {"startAt": 0, "maxResults": 20, "total": 0, "worklogs": []}
        return f.get(fid)

    def all_field_ids(self) -> list[str]:
        return list(SYSTEM_FIELDS) + list(self.state.custom)

    def select_fields(self, wanted: list[str] | None, default: str) -> list[str]:
        """Jira's `fields` parameter: ids, `*all`, `*navigable`, `-id` exclusions; unknown ids are ignored."""
        tokens = [t.strip() for w in (wanted or [default]) for t in w.split(",") if t.strip()]
        every = self.all_field_ids()
        chosen: list[str] = []
        for tok in tokens:
            if tok == "*all":
                chosen += every
            elif tok == "*navigable":
                chosen += [f for f in every if f not in _NOT_NAVIGABLE]
            elif not tok.startswith("-") and tok in every:
                chosen.append(tok)
        excluded = {t[1:] for t in tokens if t.startswith("-")}
        return [f for i, f in enumerate(chosen) if f not in excluded and f not in chosen[:i]]

    def issue(self, issue: Issue, viewer: User, *, fields: list[str], expand: set[str] = frozenset(),
              properties: list[str] = ()) -> dict:
        out: dict[str, Any] = {"expand": "renderedFields,names,schema,operations,editmeta,changelog",
                               "id": str(issue.id), "self": f"{self.api}/issue/{issue.id}", "key": issue.key}
        out["fields"] = {fid: self.field_value(issue, fid, viewer) for fid in fields}
        if "names" in expand:
            out["names"] = {fid: self.field_name(fid) for fid in fields}
        if "transitions" in expand:
            out["transitions"] = self.transitions(issue)
        if properties:
            keys = list(issue.properties) if "*all" in properties else properties
            out["properties"] = {k: issue.properties[k] for k in keys if k in issue.properties}
        return out

    def field_name(self, fid: str) -> str:
        return self.state.custom[fid].name if fid in self.state.custom else SYSTEM_FIELDS[fid][0]

    def transitions(self, issue: Issue) -> list[dict]:
        return [{"id": tid, "name": name, "to": self.state.workflow.status_json(target, self.api),
                 "hasScreen": False, "isGlobal": False, "isInitial": False, "isAvailable": True,
                 "isConditional": False, "isLooped": False}
                for tid, name, target in self.state.workflow.available(issue.fields["status"])]

    def fields_catalogue(self) -> list[dict]:
        out = []
        for fid, (name, typ, _settable) in SYSTEM_FIELDS.items():
            schema = {"type": typ, "system": fid}
            if typ == "array":
                schema["items"] = "string" if fid == "labels" else "option"
            out.append({"id": fid, "key": fid, "name": name, "custom": False, "orderable": True,
                        "navigable": fid not in _NOT_NAVIGABLE, "searchable": True,
                        "clauseNames": [fid], "schema": schema})
        for cf in self.state.custom.values():
            typ, plugin = _CUSTOM_SCHEMA.get(cf.type, ("string", "textfield"))
            out.append({"id": cf.id, "key": cf.id, "name": cf.name, "custom": True, "orderable": True,
                        "navigable": True, "searchable": True,
                        "clauseNames": [f"cf[{cf.numeric_id}]", cf.name],
                        "schema": {"type": typ, "custom": f"com.atlassian.jira.plugin.system.customfieldtypes:{plugin}",
                                   "customId": int(cf.numeric_id)}})
        return out
