"""The test server's Jira behaviour: validating writes, workflow moves, comments, attachments and search."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

from .index import search
from .model import (
    ApiError,
    Attachment,
    Comment,
    CustomField,
    Issue,
    User,
    Workflow,
    adf_text,
)

__all__ = ["JiraState", "SYSTEM_FIELDS"]

# id -> (name, schema type, settable); the system fields the server knows.
SYSTEM_FIELDS: dict[str, tuple[str, str, bool]] = {
    "summary": ("Summary", "string", True),
    "description": ("Description", "string", True),
    "issuetype": ("Issue Type", "issuetype", True),
    "project": ("Project", "project", True),
    "status": ("Status", "status", False),
    "priority": ("Priority", "priority", True),
    "resolution": ("Resolution", "resolution", False),
    "labels": ("Labels", "array", True),
    "components": ("Component/s", "array", True),
    "fixVersions": ("Fix Version/s", "array", True),
    "versions": ("Affects Version/s", "array", True),
    "assignee": ("Assignee", "user", True),
    "reporter": ("Reporter", "user", True),
    "duedate": ("Due date", "date", True),
    "created": ("Created", "datetime", False),
    "updated": ("Updated", "datetime", False),
    "parent": ("Parent", "issuelink", True),
    "issuelinks": ("Linked Issues", "array", False),
    "comment": ("Comment", "comments-page", False),
    "attachment": ("Attachment", "array", False),
    "worklog": ("Log Work", "array", False),
}

_NOT_SETTABLE = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."


class JiraState:
    """Everything the server holds; every method runs under the server's lock."""

    def __init__(self, flavor: str, *, projects: dict[str, str], issue_types: Iterable[str],
                 priorities: Iterable[str], workflow: Workflow, custom_fields: Iterable[CustomField],
                 required: Iterable[str], components: Iterable[str], versions: Iterable[str],
                 attachment_limit: int, search_lag: float, clock: Callable[[], datetime]) -> None:
        self.flavor = flavor
        self.projects = dict(projects)  # key -> name
        self.issue_types = list(issue_types)
        self.priorities = list(priorities)
        self.workflow = workflow
        self.custom = {cf.id: cf for cf in custom_fields}
        self.required = list(required)
        self.components = list(components)
        self.versions = list(versions)
        self.attachment_limit = attachment_limit
        self.search_lag = search_lag
        self.clock = clock
        self.users: list[User] = []
        self.issues: dict[str, Issue] = {}
        self.by_id: dict[int, Issue] = {}
        self.attachments: dict[int, Attachment] = {}
        self._next_issue = 10000
        self._next_comment = 20000
        self._next_attachment = 30000
        self._counters: dict[str, int] = {}

    # ---- lookups
    def now(self) -> datetime:
        t = self.clock().astimezone(UTC)
        return t.replace(microsecond=t.microsecond // 1000 * 1000)  # Jira keeps milliseconds

    def issue(self, id_or_key: str) -> Issue:
        found = self.by_id.get(int(id_or_key)) if id_or_key.isdigit() else self.issues.get(id_or_key.upper())
        if found is None:
            raise ApiError(404, "Issue does not exist or you do not have permission to see it.")
        return found

    def user_by_ref(self, ref: Any, field_id: str) -> User | None:
        if ref is None:
            return None
        key = "accountId" if self.flavor == "cloud" else "name"
        wanted = ref.get(key) if isinstance(ref, dict) else None
        for user in self.users:
            if wanted is not None and wanted == (user.account_id if key == "accountId" else user.name):
                return user
        if isinstance(ref, dict) and self.flavor == "cloud" and "name" in ref and "accountId" not in ref:
            raise ApiError(400, errors={field_id: "'accountId' must be the only user identifying property "
                                                  "in the request object (GDPR strict mode)."})
        raise ApiError(400, errors={field_id: f"User '{wanted}' does not exist."})

    # ---- writes
    def create_issue(self, body: dict, actor: User) -> Issue:
        fields = body.get("fields")
        if not isinstance(fields, dict):
            raise ApiError(400, "Issue must have fields: the request body needs a 'fields' object.")
        errors: dict[str, str] = {}
        project = fields.get("project") or {}
        pkey = project.get("key") if isinstance(project, dict) else None
        if isinstance(project, dict) and "id" in project:
            pkey = next((k for i, k in enumerate(self.projects, 1) if str(10000 + i) == str(project["id"])), None)
        if pkey not in self.projects:
            errors["project"] = "valid project is required"
        if "issuetype" not in fields:
            errors["issuetype"] = "Specify an issue type"
        values = self._coerce_all({k: v for k, v in fields.items() if k != "project"}, errors)
        if not str(values.get("summary") or "").strip() and "summary" not in errors:
            errors["summary"] = "You must specify a summary of the issue."
        for fid in self.required:
            if values.get(fid) in (None, "", []) and fid not in errors:
                errors[fid] = f"{self._field_name(fid)} is required."
        props = self._properties(body.get("properties"), errors)
        if errors:
            raise ApiError(400, errors=errors)
        assert pkey is not None
        now = self.now()
        self._next_issue += 1
        self._counters[pkey] = self._counters.get(pkey, 0) + 1
        base = {"summary": "", "description": None, "priority": "Medium" if "Medium" in self.priorities else None,
                "labels": [], "components": [], "fixVersions": [], "versions": [], "assignee": None,
                "reporter": actor, "duedate": None, "parent": None, "resolution": None}
        base.update(values)
        base.update(status=self.workflow.initial, created=now, updated=now)
        issue = Issue(self._next_issue, f"{pkey}-{self._counters[pkey]}", pkey, base, properties=props)
        self.issues[issue.key] = issue
        self.by_id[issue.id] = issue
        self.touch(issue, bump=False)
        return issue

    def edit_issue(self, issue: Issue, body: dict, actor: User) -> None:
        errors: dict[str, str] = {}
        values = self._coerce_all(body.get("fields") or {}, errors)
        for fid, ops in (body.get("update") or {}).items():
            for op in ops if isinstance(ops, list) else []:
                for verb, arg in op.items():
                    if verb == "set":
                        values.update(self._coerce_all({fid: arg}, errors))
                    elif verb in ("add", "remove") and fid == "labels":
                        current = list(values.get(fid, issue.fields.get(fid)) or [])
                        values[fid] = (current + [arg] if arg not in current else current) if verb == "add" \
                            else [x for x in current if x != arg]
                    else:
                        errors[fid] = f"Operation '{verb}' is not supported on field '{fid}'."
        if "summary" in values and not str(values["summary"] or "").strip():
            errors["summary"] = "You must specify a summary of the issue."
        props = self._properties(body.get("properties"), errors)
        if errors:
            raise ApiError(400, errors=errors)
        issue.fields.update(values)
        issue.properties.update(props)
        self.touch(issue)

    def do_transition(self, issue: Issue, body: dict, actor: User) -> None:
        tid = str((body.get("transition") or {}).get("id", ""))
        moves = {t[0]: t for t in self.workflow.available(issue.fields["status"])}
        if tid not in moves:
            raise ApiError(400, f"Transition id '{tid}' is not valid for this issue.")
        errors: dict[str, str] = {}
        values = self._coerce_all(body.get("fields") or {}, errors)
        if errors:
            raise ApiError(400, errors=errors)
        target = moves[tid][2]
        issue.fields.update(values)
        issue.fields["status"] = target
        issue.fields["resolution"] = "Done" if self.workflow.categories[target] == "done" else None
        self.touch(issue)

    def add_comment(self, issue: Issue, body: dict, actor: User) -> Comment:
        errors: dict[str, str] = {}
        text = self._rich(body.get("body"), "comment", errors)
        if not errors and not adf_text(text).strip():
            errors["comment"] = "Comment body can not be empty!"
        props = self._properties(body.get("properties"), errors)
        if errors:
            raise ApiError(400, errors=errors)
        self._next_comment += 1
        now = self.now()
        comment = Comment(self._next_comment, text, actor, now, now, actor, props)
        issue.comments.append(comment)
        self.touch(issue)
        return comment

    def comment(self, issue: Issue, cid: str) -> Comment:
        for c in issue.comments:
            if str(c.id) == cid:
                return c
        raise ApiError(404, f"Can not find a comment for the id: {cid}.")

    def update_comment(self, issue: Issue, cid: str, body: dict, actor: User) -> Comment:
        comment = self.comment(issue, cid)
        errors: dict[str, str] = {}
        text = self._rich(body.get("body"), "comment", errors)
        props = self._properties(body.get("properties"), errors)
        if errors:
            raise ApiError(400, errors=errors)
        comment.body, comment.updated, comment.update_author = text, self.now(), actor
        comment.properties.update(props)
        self.touch(issue)
        return comment

    def delete_comment(self, issue: Issue, cid: str) -> None:
        comment = self.comment(issue, cid)
        issue.comments.remove(comment)
        self.touch(issue)

    def add_attachment(self, issue: Issue, filename: str, mime: str, content: bytes, actor: User) -> Attachment:
        self._next_attachment += 1
        att = Attachment(self._next_attachment, issue.id, filename, mime, content, actor, self.now())
        self.attachments[att.id] = att
        issue.attachments.append(att)
        self.touch(issue)
        return att

    def delete_attachment(self, aid: str) -> None:
        att = self.attachments.pop(int(aid)) if aid.isdigit() and int(aid) in self.attachments else None
        if att is None:
            raise ApiError(404, f"The attachment with id '{aid}' does not exist.")
        issue = self.by_id[att.issue_id]
        issue.attachments.remove(att)
        self.touch(issue)

    def touch(self, issue: Issue, *, bump: bool = True) -> None:
        """Record a write: bump `updated` and queue a snapshot the search index will see after the lag."""
        if bump:
            issue.fields["updated"] = self.now()
        visible = time.monotonic() + self.search_lag
        now = time.monotonic()
        live = [entry for entry in issue.index if entry[0] > now]
        older = [entry for entry in issue.index if entry[0] <= now][-1:]
        issue.index = older + live + [(visible, issue.snapshot())]

    # ---- search
    def search(self, jql: str, viewer: User, *, require_bound: bool, fresh: set[int] | frozenset = frozenset()
               ) -> list[Issue]:
        """Issues matching `jql` as the index sees them; ids in `fresh` are read live (Cloud's reconcileIssues)."""
        return search(self, jql, viewer, require_bound=require_bound, fresh=fresh)

    # ---- field coercion
    def _field_name(self, fid: str) -> str:
        return self.custom[fid].name if fid in self.custom else SYSTEM_FIELDS.get(fid, (fid,))[0]

    def _coerce_all(self, fields: dict, errors: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for fid, value in fields.items():
            try:
                out[fid] = self._coerce(fid, value, errors)
            except ValueError as exc:
                errors[fid] = str(exc)
        return {k: v for k, v in out.items() if k not in errors}

    def _coerce(self, fid: str, value: Any, errors: dict[str, str]) -> Any:
        if fid in self.custom:
            return self._coerce_custom(self.custom[fid], value, errors)
        spec = SYSTEM_FIELDS.get(fid)
        if spec is None or not spec[2] or fid == "project":
            raise ValueError(_NOT_SETTABLE.format(fid))
        if fid == "summary":
            if not isinstance(value, str):
                raise ValueError("Summary must be a string.")
            if len(value) > 255:
                raise ValueError("Summary must be less than 255 characters.")
            return value
        if fid == "description":
            return self._rich(value, fid, errors)
        if fid == "issuetype":
            return _named(value, self.issue_types, "valid issue type is required", fid)
        if fid == "priority":
            return None if value is None else _named(value, self.priorities, "Specify a valid priority", fid)
        if fid == "labels":
            if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
                raise ValueError("Labels must be a list of strings.")
            bad = [x for x in value if not x or " " in x]
            if bad:
                raise ValueError(f"The label '{bad[0]}' contains spaces which is invalid.")
            return list(value)
        if fid in ("components", "fixVersions", "versions"):
            allowed = self.components if fid == "components" else self.versions
            if not isinstance(value, list):
                raise ValueError(f"data was not an array: {fid}")
            return [_named(v, allowed, f"{'Component' if fid == 'components' else 'Version'} name "
                                        f"'{(v or {}).get('name') if isinstance(v, dict) else v}' is not valid", fid)
                    for v in value]
        if fid in ("assignee", "reporter"):
            user = self.user_by_ref(value, fid)
            return user
        if fid == "duedate":
            return _date(value, "Error parsing date string: {}")
        if fid == "parent":
            if value is None:
                return None
            key = value.get("key") or (self.by_id.get(int(value["id"])).key if str(value.get("id", "")).isdigit()
                                       and int(value["id"]) in self.by_id else None)
            if key not in self.issues:
                raise ValueError("Could not find issue by id or key.")
            return key
        raise ValueError(_NOT_SETTABLE.format(fid))

    def _coerce_custom(self, cf: CustomField, value: Any, errors: dict[str, str]) -> Any:
        if value is None:
            return None
        if cf.type == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"Operation value must be a number: {cf.name}")
            return value
        if cf.type == "string":
            if not isinstance(value, str):
                raise ValueError("Operation value must be a string")
            return value
        if cf.type == "textarea":
            return self._rich(value, cf.id, errors)
        if cf.type == "option":
            name = value.get("value") if isinstance(value, dict) else None
            if name not in cf.options:
                raise ValueError(f"Option value '{name}' is not valid")
            return name
        if cf.type == "labels":
            if not isinstance(value, list):
                raise ValueError("Labels must be a list of strings.")
            return list(value)
        if cf.type == "date":
            return _date(value, "Error parsing date string: {}")
        if cf.type == "user":
            return self.user_by_ref(value, cf.id)
        raise ValueError(_NOT_SETTABLE.format(cf.id))

    def _rich(self, value: Any, fid: str, errors: dict[str, str]) -> Any:
        if value is None:
            return None
        if self.flavor == "cloud":
            if not (isinstance(value, dict) and value.get("type") == "doc" and value.get("version") == 1
                    and isinstance(value.get("content"), list)):
                errors[fid] = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            return value
        if not isinstance(value, str):
            errors[fid] = "Operation value must be a string"
        return value

    def _properties(self, props: Any, errors: dict[str, str]) -> dict[str, Any]:
        if props is None:
            return {}
        if not isinstance(props, list) or not all(isinstance(p, dict) and "key" in p for p in props):
            errors["properties"] = "Properties must be a list of {key, value} objects."
            return {}
        return {p["key"]: p.get("value") for p in props}


def _named(value: Any, allowed: list[str], message: str, fid: str) -> str:
    if isinstance(value, dict):
        if "name" in value:
            for name in allowed:
                if name.lower() == str(value["name"]).lower():
                    return name
        elif "id" in value:
            for i, name in enumerate(allowed):
                if str(10000 + i) == str(value["id"]):
                    return name
    raise ValueError(message)


def _date(value: Any, message: str) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValueError(message.format(value)) from None
