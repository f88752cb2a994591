"""Changes to a local tracker's file: its schema, and every write, each inside one Write (one transaction, one stamp)."""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import os
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime._isotime import later_stamp
from runtime._sqlite import SQLiteFile
from runtime.changes import ENTITY_KINDS, AddItem, DeleteItem, MoveStatus, Operation, SetField, UpdateItem
from runtime.connector import PermanentError

from ._model import Invalid, check_custom, coerce_field, coerce_item

__all__ = ["MIGRATIONS", "Write", "Batch", "writing", "meta", "set_meta", "create", "set_fields", "apply_operations",
           "add_item", "need"]

MIGRATIONS: list[tuple[str, ...]] = [
    (
        # project, workflow (JSON list), next_number, clock (the last stamp given)
        "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE COLLATE NOCASE, name TEXT NOT NULL)",
        # fields: a JSON object of the neutral fields other than key, created, updated and the items.
        """CREATE TABLE issues (
            number  INTEGER PRIMARY KEY,
            key     TEXT NOT NULL UNIQUE,
            fields  TEXT NOT NULL,
            marker  TEXT UNIQUE,
            created TEXT NOT NULL,
            updated TEXT NOT NULL
        )""",
        "CREATE INDEX issues_updated ON issues (updated, number)",
        # Comments, attachments and worklogs; AUTOINCREMENT so an id is never given twice.
        # origin: the remote id a synced item was created from; file: an attachment's content.
        """CREATE TABLE items (
            id        INTEGER PRIMARY KEY AUTOINCREMENT,
            issue_key TEXT NOT NULL REFERENCES issues (key),
            kind      TEXT NOT NULL CHECK (kind IN ('comments', 'attachments', 'worklogs')),
            data      TEXT NOT NULL,
            origin    TEXT,
            file      TEXT,
            created   TEXT NOT NULL,
            updated   TEXT NOT NULL
        )""",
        "CREATE INDEX items_issue ON items (issue_key, id)",
    ),
]


@dataclass
class Write:
    """One write transaction; every issue it touches gets `stamp` as its new `updated`."""

    conn: sqlite3.Connection
    stamp: str
    project: str
    workflow: tuple[str, ...]
    folder: Path
    touched: set[str] = field(default_factory=set)
    written: list[Path] = field(default_factory=list)  # removed if the transaction fails
    doomed: list[Path] = field(default_factory=list)  # removed once it has committed

    def resolve_user(self, user_id: str | None, email: str | None, name: str | None) -> dict[str, Any] | None:
        # E-mail first: it names the same person on both trackers, while an id may be the other
        # tracker's and match an unrelated local user.
        for column, value in (("email", email), ("id", user_id), ("name", name)):
            if value:
                row = self.conn.execute(f"SELECT id, email, name FROM users WHERE {column} = ? COLLATE NOCASE",
                                        (value,)).fetchone()
                if row is not None:
                    return dict(row)
        return None


def meta(conn: sqlite3.Connection, name: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
    return row[0] if row is not None else None


def set_meta(conn: sqlite3.Connection, name: str, value: str) -> None:
    conn.execute("INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                 (name, value))


@dataclass
class Batch:
    """Writes grouped into one transaction (`LocalTracker.batch`): files to remove once it has committed,
    and files written, to remove if it does not."""

    written: list[Path] = field(default_factory=list)
    doomed: list[Path] = field(default_factory=list)


@contextmanager
def writing(db: SQLiteFile, project: str, workflow: tuple[str, ...], folder: Path,
            batch: Batch | None = None) -> Iterator[Write]:
    """One Write; inside a batch it is a savepoint of the batch's transaction, and the files it doomed
    go when the batch commits (until then a crash would undo the delete and keep the item)."""
    w: Write | None = None
    try:
        with db.transaction() as conn:
            # Taken inside the write lock, so stamps follow commit order across processes too.
            w = Write(conn, later_stamp(meta(conn, "clock")), project, workflow, folder)
            yield w
            if w.touched:
                set_meta(conn, "clock", w.stamp)
                conn.executemany("UPDATE issues SET updated = ? WHERE key = ?", [(w.stamp, k) for k in w.touched])
    except BaseException:
        for path in w.written if w else ():
            path.unlink(missing_ok=True)
        raise
    if batch is not None:
        batch.written += w.written
        batch.doomed += w.doomed
        return
    for path in w.doomed:
        path.unlink(missing_ok=True)


def need(w: Write, key: str) -> dict[str, Any]:
    """The stored fields of an issue that must exist."""
    row = w.conn.execute("SELECT fields FROM issues WHERE key = ?", (key,)).fetchone()
    if row is None:
        raise Invalid(f"issue {key} does not exist")
    try:
        fields = json.loads(row[0])
    except json.JSONDecodeError:
        fields = None
    if not isinstance(fields, dict):
        raise Invalid(f"issue {key} has malformed stored fields; repair or export it first")
    return fields


def create(w: Write, marker: str | None) -> str:
    """A new, bare issue (default type and status); the caller sets its fields in the same Write."""
    number = int(meta(w.conn, "next_number") or 1)
    set_meta(w.conn, "next_number", str(number + 1))
    key = f"{w.project}-{number}"
    fields = {"project": w.project, "type": "Task", "status": w.workflow[0] if w.workflow else "To Do"}
    w.conn.execute("INSERT INTO issues (number, key, fields, marker, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
                   (number, key, json.dumps(fields), marker, w.stamp, w.stamp))
    w.touched.add(key)
    return key


def _status(w: Write, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"a status is non-empty text, found {json.dumps(value)}")
    if not w.workflow:
        return value.strip()
    for allowed in w.workflow:
        if allowed.casefold() == value.strip().casefold():
            return allowed
    raise PermanentError(f"{key}: status '{value}' is not in the workflow of {w.project}; "
                         f"allowed: {', '.join(w.workflow)}")


def set_fields(w: Write, key: str, changes: Sequence[SetField | MoveStatus], *, new: bool = False) -> None:
    fields = need(w, key)
    before = json.dumps(fields, sort_keys=True)
    for change in changes:
        if isinstance(change, MoveStatus):
            fields["status"] = _status(w, key, change.status)
            continue
        path, value = change.path, change.value
        if len(path) == 2 and path[0] == "custom":
            custom = dict(fields.get("custom") or {})
            check_custom(path[1], value)
            if value is None:
                custom.pop(path[1], None)
            else:
                custom[path[1]] = value
            fields["custom"] = custom
        elif len(path) != 1:
            raise Invalid(f"cannot set '{'.'.join(path)}'")
        elif path[0] == "status":
            fields["status"] = _status(w, key, value)
        elif path[0] == "project":
            if not isinstance(value, str) or value.strip().upper() != w.project:
                raise Invalid(f"this tracker holds project {w.project} only, not {json.dumps(value)}")
        else:
            fields[path[0]] = coerce_field(path[0], value, w.resolve_user)
    parent = fields.get("parent")
    if parent is not None and (parent == key or w.conn.execute(
            "SELECT 1 FROM issues WHERE key = ?", (parent,)).fetchone() is None):
        raise Invalid(f"parent {parent} does not exist" if parent != key else "an issue cannot be its own parent")
    changed = json.dumps(fields, sort_keys=True) != before
    if (new or changed) and not fields.get("summary"):
        raise Invalid("an issue needs a summary")  # as in Jira, which answers 400
    if changed:
        w.conn.execute("UPDATE issues SET fields = ? WHERE key = ?", (json.dumps(fields, ensure_ascii=False), key))
        w.touched.add(key)


def apply_operations(w: Write, key: str, operations: Sequence[Operation], *, new: bool,
                     replay: bool) -> dict[str, dict[str, str]]:
    """Fields and status first, then items in order; {kind: {remote id: new local id}}.
    `replay`: items whose remote id the issue already has (an earlier attempt added them) are kept."""
    set_fields(w, key, [op for op in operations if isinstance(op, SetField | MoveStatus)], new=new)
    known: dict[tuple[str, str], str] = {}
    if replay:
        rows = w.conn.execute("SELECT kind, origin, id FROM items WHERE issue_key = ? AND origin IS NOT NULL",
                              (key,))
        known = {(r[0], r[1]): str(r[2]) for r in rows}
    created: dict[str, dict[str, str]] = {}
    for op in operations:
        if not isinstance(op, AddItem | UpdateItem | DeleteItem):
            continue
        if op.kind not in ENTITY_KINDS:
            raise Invalid(f"unknown item kind '{op.kind}' (one of {', '.join(ENTITY_KINDS)})")
        if isinstance(op, AddItem):
            local_id = known.get((op.kind, op.remote_id)) or add_item(w, key, op.kind, op.value, op.remote_id)
            created.setdefault(op.kind, {})[op.remote_id] = local_id
        elif isinstance(op, UpdateItem):
            _update_item(w, key, op.kind, op.local_id, op.value)
        else:
            _delete_item(w, key, op.kind, op.local_id)
    return created


def _attachment_content(value: dict[str, Any]) -> bytes | None:
    content = value.pop("content", None)
    encoded = value.pop("content_base64", None)
    if encoded is not None:
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise Invalid("'content_base64' is not base64 text") from None
    if content is not None and not isinstance(content, bytes | bytearray):
        raise Invalid("an attachment's 'content' must be bytes (or give 'content_base64')")
    return bytes(content) if content is not None else None


def add_item(w: Write, key: str, kind: str, value: Any, origin: str | None) -> str:
    if not isinstance(value, Mapping):
        raise Invalid(f"a {kind[:-1]} must be a map, found {json.dumps(value, default=repr)}")
    value = dict(value)
    content = _attachment_content(value) if kind == "attachments" else None
    if kind == "attachments":
        if content is not None:
            value["size"] = len(content)
        value.setdefault("size", 0)
        if value.get("mime_type") is None and isinstance(value.get("filename"), str):
            value["mime_type"] = mimetypes.guess_type(value["filename"])[0]
    if kind == "worklogs" and value.get("started") is None:
        value["started"] = w.stamp
    data = coerce_item(kind, value, w.resolve_user, partial=False)
    cur = w.conn.execute("INSERT INTO items (issue_key, kind, data, origin, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
                         (key, kind, json.dumps(data, ensure_ascii=False), origin, w.stamp, w.stamp))
    item_id = cur.lastrowid
    if content is not None:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", data["filename"])[-100:]
        relative = f"attachments/{item_id}-{safe}"
        target = w.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        w.written.append(target)
        scratch = target.with_name(target.name + ".part")
        w.written.append(scratch)
        with open(scratch, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(scratch, target)
        w.conn.execute("UPDATE items SET file = ? WHERE id = ?", (relative, item_id))
    w.touched.add(key)
    return str(item_id)


def _item_row(w: Write, key: str, kind: str, local_id: str) -> sqlite3.Row | None:
    return w.conn.execute("SELECT data, file FROM items WHERE id = ? AND issue_key = ? AND kind = ?",
                          (local_id, key, kind)).fetchone()


def _update_item(w: Write, key: str, kind: str, local_id: str, value: Any) -> None:
    row = _item_row(w, key, kind, local_id)
    if row is None:
        raise Invalid(f"{kind[:-1]} {local_id} of {key} does not exist")
    if isinstance(value, Mapping) and ("content" in value or "content_base64" in value):
        raise Invalid("an attachment's content cannot change: delete it and add a new one")
    changes = coerce_item(kind, value, w.resolve_user, partial=True)
    try:
        old = json.loads(row["data"])
    except json.JSONDecodeError:
        raise Invalid(f"{kind[:-1]} {local_id} of {key} has malformed stored data") from None
    data = dict(old, **changes)
    if data != old:
        w.conn.execute("UPDATE items SET data = ?, updated = ? WHERE id = ?",
                       (json.dumps(data, ensure_ascii=False), w.stamp, local_id))
        w.touched.add(key)


def _delete_item(w: Write, key: str, kind: str, local_id: str) -> None:
    row = _item_row(w, key, kind, local_id)
    if row is None:
        return  # already gone: deleting is idempotent, so a retried change set does not fail here
    w.conn.execute("DELETE FROM items WHERE id = ?", (local_id,))
    if row["file"]:
        w.doomed.append(w.folder / row["file"])
    w.touched.add(key)
