"""LocalTracker: an issue tracker in a folder (tracker.sqlite + attachments/), speaking the Connector protocol."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from rulelang.errors import ConfigError, PayloadError
from runtime._isotime import canonical
from runtime._sqlite import SQLiteFile, migrate
from runtime.changes import ChangeSet, LinkIssue, SetField
from runtime.connector import Applied, PermanentError
from runtime.jql import Query, parse_query

from . import _writes
from ._model import Invalid, issue_view, item_view
from ._writes import MIGRATIONS, Write

__all__ = ["LocalTracker", "TRACKER_FILE"]

TRACKER_FILE = "tracker.sqlite"
_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,19}$")


class LocalTracker:
    """An issue tracker kept in a folder; the sync engine's embedded default connector.

    `path/tracker.sqlite` holds one project's issues (keys `PROJ-N`), their
    comments, attachments (metadata; content under `path/attachments/`) and
    worklogs, and a users table.  `project` is fixed when the folder is first
    used (default: the folder's name in capitals, e.g. qa -> QA); `workflow`,
    when given, is stored and limits the statuses an issue may take.

    Every change runs in one SQLite transaction and gives the issue a new
    `updated` stamp (UTC, milliseconds), strictly later than any stamp the
    tracker gave before, so `search(updated_since=...)` never misses a change.

    Malformed stored data (a hand-edited file) does not stop a search: the
    issue is skipped and its PayloadError, which names the key, is kept in
    `tracker.errors` (reset by each search / list_issues).  `get_issue` raises it.

    For people: `show(key)` renders an issue as text, `export()` the whole
    tracker as JSON-ready data.
    """

    def __init__(self, path: str | Path, *, project: str | None = None,
                 workflow: Sequence[str] | None = None) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.errors: list[PayloadError] = []
        self._batch: _writes.Batch | None = None
        self._db = SQLiteFile(self.path / TRACKER_FILE)
        try:
            migrate(self._db.conn, str(self._db.path), MIGRATIONS)
            self.project, self.workflow = self._configure(project, workflow)
        except BaseException:
            self._db.close()
            raise

    def _configure(self, project: str | None, workflow: Sequence[str] | None) -> tuple[str, tuple[str, ...]]:
        with self._db.transaction() as conn:
            stored = _writes.meta(conn, "project")
            if stored is None:
                if project is None:
                    derived = re.sub(r"[^A-Za-z0-9_]", "", self.path.resolve().name).upper()
                    project = derived if _PROJECT_KEY.match(derived) else "PROJ"
                if not _PROJECT_KEY.match(project):
                    raise ConfigError(f"project key '{project}' must be capital letters, digits or _, "
                                      "starting with a letter (like QA)", code="K750")
                _writes.set_meta(conn, "project", project)
                stored = project
            elif project is not None and project != stored:
                raise ConfigError(f"{self.path} holds project {stored}, not {project}", code="K751")
            if workflow is not None:
                statuses = [s.strip() for s in workflow]
                if not all(statuses) or len({s.casefold() for s in statuses}) != len(statuses):
                    raise ConfigError("a workflow is a list of distinct, non-empty statuses", code="K752")
                _writes.set_meta(conn, "workflow", json.dumps(statuses))
            return stored, tuple(json.loads(_writes.meta(conn, "workflow") or "[]"))

    def close(self) -> None:
        self._db.close()

    def _writing(self) -> AbstractContextManager[Write]:
        return _writes.writing(self._db, self.project, self.workflow, self.path, self._batch)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group the writes made inside into one transaction: one commit (one fsync) instead of one each.

        Each write is still atomic on its own (a savepoint): one that fails is undone alone. What the
        writes did commits together at the end, also when the block ends with an exception (as if each
        had committed at once); a crash before then undoes them all, which the sync engine's markers and
        item matching recover from like any other interrupted attempt. Other writers wait meanwhile.
        """
        if self._batch is not None:
            yield
            return
        batch = self._batch = _writes.Batch()
        stopped: BaseException | None = None
        try:
            with self._db.transaction():
                try:
                    yield
                except BaseException as e:  # keep what the writes before it did, as without a batch
                    stopped = e
        except BaseException:
            for path in batch.written:
                path.unlink(missing_ok=True)
            raise
        finally:
            self._batch = None
        for path in batch.doomed:
            path.unlink(missing_ok=True)
        if stopped is not None:
            raise stopped

    def __enter__(self) -> LocalTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- reading ----

    def _view(self, row: Mapping[str, Any]) -> dict[str, Any]:
        key = row["key"]
        items: dict[str, list[dict[str, Any]]] = {"comments": [], "attachments": [], "worklogs": []}
        try:
            for item in self._db.rows("SELECT id, kind, data, created, updated FROM items "
                                      "WHERE issue_key = ? ORDER BY id", (key,)):
                items[item["kind"]].append(item_view(item["kind"], item["id"], item["data"],
                                                     item["created"], item["updated"]))
            return issue_view(key, row["fields"], row["created"], row["updated"], items)
        except Invalid as e:
            raise PayloadError(f"issue {key}: {e}", code="P610") from None

    def _readable(self, rows: list[Any], query: Query | None) -> Iterator[dict[str, Any]]:
        self.errors = []  # now, not at the first next(): errors always belong to the latest call
        return self._matching(rows, query)

    def _matching(self, rows: list[Any], query: Query | None) -> Iterator[dict[str, Any]]:
        for row in rows:
            try:
                issue = self._view(row)
            except PayloadError as e:
                self.errors.append(e)
                continue
            if query is None or query.matches(issue):
                yield issue

    def search(self, query: str | None = None, updated_since: str | None = None) -> Iterator[dict[str, Any]]:
        """Issues matching the trigger query, changed at or after `updated_since`, oldest change first.
        A bad query raises ConfigError here, not while iterating."""
        parsed = _parse(query)
        since = None
        if updated_since is not None:
            since = canonical(updated_since)
            if since is None:
                raise PermanentError(f"updated_since must be an ISO-8601 date-time, not {updated_since!r}")
        rows = self._db.rows("SELECT key, fields, created, updated FROM issues WHERE ? IS NULL OR updated >= ? "
                             "ORDER BY updated, number", (since, since))
        return self._readable(rows, parsed)

    def list_issues(self, query: str | None = None) -> list[dict[str, Any]]:
        """Every issue (matching the query), in key order; unreadable ones are in `errors`."""
        parsed = _parse(query)
        rows = self._db.rows("SELECT key, fields, created, updated FROM issues ORDER BY number")
        return list(self._readable(rows, parsed))

    def get_issue(self, key: str) -> dict[str, Any] | None:
        row = self._db.one("SELECT key, fields, created, updated FROM issues WHERE key = ?", (key,))
        return self._view(row) if row is not None else None

    def find_by_marker(self, marker: str) -> str | None:
        row = self._db.one("SELECT key FROM issues WHERE marker = ?", (marker,))
        return row["key"] if row is not None else None

    # ---- users ----

    def lookup_user(self, email: str) -> dict[str, Any] | None:
        row = self._db.one("SELECT id, email, name FROM users WHERE email = ?", (email.strip(),))
        return dict(row) if row is not None else None

    def add_user(self, email: str, name: str | None = None, *, id: str | None = None) -> dict[str, Any]:
        """Seed a user; adding an e-mail again updates its name."""
        email = email.strip()
        if "@" not in email:
            raise PayloadError(f"'{email}' is not an e-mail address", code="P611")
        with self._db.transaction() as conn:
            known = self.lookup_user(email)
            if known and id is not None and id != known["id"]:
                raise PayloadError(f"{email} is user {known['id']} already, not {id}", code="P611")
            user_id = known["id"] if known else id or _free_user_id(conn)
            conn.execute("INSERT INTO users (id, email, name) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                         "email = excluded.email, name = excluded.name", (user_id, email, name or email))
        return {"id": user_id, "email": email, "name": name or email}

    def users(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._db.rows("SELECT id, email, name FROM users ORDER BY email")]

    # ---- the sync engine's write path ----

    def apply(self, key: str | None, changes: ChangeSet, *, marker: str | None = None) -> Applied:
        """Apply a change set in one transaction: all of it, or (on any error) none of it.

        With `changes.create`, an issue already carrying `marker` is the one an
        earlier, interrupted attempt created: it is updated instead, items already
        added (matched by their remote id) are not added again, and `created` is true.
        Refusals (bad values, a status outside the workflow, a missing issue) raise PermanentError.
        """
        links = [op.key for op in changes.operations if isinstance(op, LinkIssue)]
        try:
            with self._writing() as w:
                created = changes.create
                if created and links:
                    raise Invalid("a change set either creates an issue or links to one, not both")
                target = links[-1] if links else key
                earlier = self.find_by_marker(marker) if created and marker else None
                if created:
                    target = earlier or _writes.create(w, marker)
                elif target is None:
                    raise Invalid("no issue to change: give a key, a link or create")
                ids = _writes.apply_operations(w, target, changes.operations, new=created,
                                               replay=earlier is not None)
                return Applied(target, created, ids)
        except Invalid as e:
            raise PermanentError(f"{key or (links[-1] if links else 'new issue')}: {e}") from None

    # ---- plain methods, for people and the CLI ----

    def create_issue(self, fields: Mapping[str, Any]) -> str:
        """A new issue from neutral fields (summary needed); its key."""
        try:
            with self._writing() as w:
                key = _writes.create(w, None)
                _writes.set_fields(w, key, _field_changes(fields), new=True)
                return key
        except Invalid as e:
            raise PayloadError(f"new issue: {e}", code="P611") from None

    def edit_issue(self, key: str, fields: Mapping[str, Any]) -> None:
        """Set neutral fields; `custom` is merged name by name (a None value removes one)."""
        try:
            with self._writing() as w:
                _writes.set_fields(w, key, _field_changes(fields))
        except Invalid as e:
            raise PayloadError(f"{key}: {e}", code="P611") from None

    def add_comment(self, key: str, body: str, author: Any = None, internal: bool = False) -> str:
        """A new comment's id."""
        return self._add_one(key, "comments", {"body": body, "author": author, "internal": internal})

    def add_attachment(self, key: str, filename: str, content: bytes, *, mime_type: str | None = None,
                       author: Any = None) -> str:
        """Store `content` under attachments/; the new attachment's id."""
        return self._add_one(key, "attachments", {"filename": filename, "content": content,
                                                  "mime_type": mime_type, "author": author})

    def add_worklog(self, key: str, seconds: int, *, started: str | None = None, comment: str | None = None,
                    author: Any = None) -> str:
        return self._add_one(key, "worklogs", {"seconds": seconds, "started": started, "comment": comment,
                                               "author": author})

    def _add_one(self, key: str, kind: str, value: dict[str, Any]) -> str:
        try:
            with self._writing() as w:
                _writes.need(w, key)
                return _writes.add_item(w, key, kind, value, origin=None)
        except Invalid as e:
            raise PayloadError(f"{key}: {e}", code="P611") from None

    def attachment_path(self, attachment_id: str) -> Path | None:
        """Where an attachment's content is, or None (unknown id, or metadata only)."""
        row = self._db.one("SELECT file FROM items WHERE id = ? AND kind = 'attachments'", (attachment_id,))
        return self.path / row["file"] if row is not None and row["file"] else None

    def show(self, key: str) -> str:
        """The issue as text for a person to read."""
        issue = self.get_issue(key)
        if issue is None:
            raise PermanentError(f"issue {key} does not exist in {self.path}")
        return _render(issue)

    def export(self) -> dict[str, Any]:
        """The whole tracker as JSON-ready data: project, workflow, users, issues, and unreadable issues."""
        issues = self.list_issues()
        return {"project": self.project, "workflow": list(self.workflow), "users": self.users(),
                "issues": issues, "errors": [str(e) for e in self.errors]}


def _free_user_id(conn: sqlite3.Connection) -> str:
    number = conn.execute("SELECT count(*) FROM users").fetchone()[0] + 1
    while conn.execute("SELECT 1 FROM users WHERE id = ?", (f"u{number}",)).fetchone() is not None:
        number += 1
    return f"u{number}"


def _parse(query: str | None) -> Query | None:
    return parse_query(query, file="<trigger>") if query else None


def _field_changes(fields: Mapping[str, Any]) -> list[SetField]:
    changes: list[SetField] = []
    for name, value in fields.items():
        if name == "custom" and isinstance(value, Mapping):
            changes.extend(SetField(("custom", str(k)), v) for k, v in value.items())
        else:
            changes.append(SetField((name,), value))
    return changes


def _user_text(user: Any) -> str:
    if not user:
        return "-"
    return f"{user.get('name') or user.get('email')}" + (f" <{user['email']}>" if user.get("email") else "")


def _render(issue: Mapping[str, Any]) -> str:
    lines = [f"{issue['key']}  {issue['type'] or '-'}  [{issue['status'] or '-'}]  {issue['summary'] or ''}"]
    facts = [("priority", issue["priority"]), ("resolution", issue["resolution"]),
             ("assignee", _user_text(issue["assignee"])), ("reporter", _user_text(issue["reporter"])),
             ("labels", ", ".join(issue["labels"])), ("components", ", ".join(issue["components"])),
             ("fix versions", ", ".join(issue["fix_versions"])), ("due", issue["due"]),
             ("parent", issue["parent"]), ("created", issue["created"]), ("updated", issue["updated"])]
    lines += [f"  {name}: {value}" for name, value in facts if value not in (None, "", "-")]
    lines += [f"  link: {link['type']} {link['key']}" for link in issue["links"]]
    lines += [f"  {name}: {json.dumps(value, ensure_ascii=False)}" for name, value in issue["custom"].items()]
    if issue["description"]:
        lines += ["", *("  " + line for line in issue["description"].splitlines())]
    for c in issue["comments"]:
        lines += ["", f"  comment {c['id']} by {_user_text(c['author'])}, {c['created']}"
                  + (" (internal)" if c["internal"] else ""), *("    " + line for line in c["body"].splitlines())]
    for a in issue["attachments"]:
        lines.append(f"  attachment {a['id']}: {a['filename']} ({a['size']} bytes, {a['mime_type'] or '?'})")
    for wl in issue["worklogs"]:
        lines.append(f"  worklog {wl['id']}: {wl['seconds']} s by {_user_text(wl['author'])}"
                     + (f": {wl['comment']}" if wl["comment"] else ""))
    return "\n".join(lines)

