"""The default StateStore: one SQLite file per connection folder, safe against a kill at any moment.

Safety comes from SQLite itself: every method (or `transaction()` group) is one
transaction, the journal is WAL with synchronous=FULL (runtime/_sqlite.py says
why), and nothing is kept in memory between calls that a kill could lose. The
one thing kept in memory is a read cache of twins, valid for one transaction
(see `_seen_twins`). The queue's methods are a mixin of their own (runtime/_state_queue.py).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from . import _state_schema
from ._isotime import format_utc, utc_now
from ._sqlite import SQLiteFile, migrate
from ._state_queue import QueueTable
from .state import (
    ACTIVE,
    UNLINKED,
    Delivery,
    Event,
    ReplicaKind,
    StateError,
    StateStore,
    StoredReplica,
    Twin,
    canonical_json,
)

__all__ = ["SQLiteStateStore"]


class SQLiteStateStore(QueueTable, StateStore):
    """StateStore over one SQLite file; `clock` is there for tests of delays and leases."""

    def __init__(self, path: str | Path, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._db = SQLiteFile(path)
        self._seen: dict[Any, Twin] = {}
        self._seen_epoch: int | None = None
        self.path = self._db.path
        try:
            self.schema_version = migrate(self._db.conn, str(self.path), _state_schema.MIGRATIONS)
        except BaseException:
            self._db.close()
            raise

    def _now(self, plus_seconds: float = 0.0) -> str:
        moment = self._clock()
        return format_utc(moment + timedelta(seconds=plus_seconds) if plus_seconds else moment)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._db.transaction():
            yield

    def _atomic(self) -> AbstractContextManager[Any]:
        """For a method that checks, then writes once: a transaction of its own, or none inside the caller's
        (a savepoint would only undo a write that failed, and SQLite undoes a failed statement by itself)."""
        return self._db.transaction(savepoint=False)

    def close(self) -> None:
        self._db.close()

    # ---- twins ----

    def _seen_twins(self) -> dict[Any, Twin] | None:
        """Twins read or written in the open transaction, by id and by (instance, key); None outside one.

        A delivery reads the same twin several times in one transaction. Inside BEGIN IMMEDIATE no other
        process writes, and the cache is dropped at the transaction's end and at any rollback (SQLiteFile's
        epoch), so what it holds is what the file holds."""
        epoch = self._db.epoch
        if epoch is None:
            return None
        if epoch != self._seen_epoch:
            self._seen, self._seen_epoch = {}, epoch
        return self._seen

    def _remember(self, twin: Twin | None) -> Twin | None:
        seen = self._seen_twins()
        if seen is not None and twin is not None:
            seen[twin.id] = twin
            if twin.status == ACTIVE:
                for instance, key in ((twin.instance_a, twin.key_a), (twin.instance_b, twin.key_b)):
                    if key is not None:
                        seen[(instance, key)] = twin
        return twin

    def _twin(self, row: sqlite3.Row | None) -> Twin | None:
        return self._remember(Twin(**dict(row))) if row is not None else None

    def twin_for(self, instance: str, key: str) -> Twin | None:
        seen = self._seen_twins()
        if seen is not None and (instance, key) in seen:
            return seen[(instance, key)]
        # Two lookups, one per partial index: with an OR between them SQLite scans the whole table.
        return self._twin(self._db.one(
            "SELECT * FROM twins WHERE status = 'active' AND instance_a = ? AND key_a = ? "
            "UNION ALL "
            "SELECT * FROM twins WHERE status = 'active' AND instance_b = ? AND key_b = ? LIMIT 1",
            (instance, key, instance, key)))

    def get_twin(self, twin_id: int) -> Twin | None:
        seen = self._seen_twins()
        if seen is not None and twin_id in seen:
            return seen[twin_id]
        return self._twin(self._db.one("SELECT * FROM twins WHERE id = ?", (twin_id,)))

    def ensure_twin(self, instance: str, key: str, other_instance: str) -> Twin:
        if instance == other_instance:
            raise StateError(f"a twin joins two instances, not {instance} with itself", code="K792")
        with self._atomic():
            found = self.twin_for(instance, key)
            if found is not None:
                return found
            now = self._now()
            a, b = sorted((instance, other_instance))
            key_a, key_b = (key, None) if a == instance else (None, key)
            cur = self._db.conn.execute(
                "INSERT INTO twins (instance_a, key_a, instance_b, key_b, status, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 'active', ?, ?)", (a, key_a, b, key_b, now, now))
            return self._remember(Twin(cur.lastrowid or 0, a, key_a, b, key_b, ACTIVE, now, now))  # type: ignore[return-value]

    def _need_twin(self, twin_id: int) -> Twin:
        twin = self.get_twin(twin_id)
        if twin is None:
            raise StateError(f"there is no twin {twin_id}", code="K792")
        return twin

    def link_twin(self, twin_id: int, instance: str, key: str) -> Twin:
        with self._atomic():
            twin = self._need_twin(twin_id)
            column = "key_a" if twin._side(instance) == "a" else "key_b"
            current = twin.key_on(instance)
            if current is not None and current != key:
                raise StateError(f"twin {twin_id} already has {current} on {instance}; unlink it to pair {key}",
                                 code="K791")
            if twin.status != ACTIVE:  # for an active twin the unique index below says it
                self._refuse_held(twin_id, instance, key)
            now = self._now()
            try:
                self._db.conn.execute(f"UPDATE twins SET {column} = ?, updated_at = ? WHERE id = ?",
                                      (key, now, twin_id))
            except sqlite3.IntegrityError:  # twins_active_a/b: another active twin holds the issue
                self._refuse_held(twin_id, instance, key)
                raise
            return self._remember(replace(twin, updated_at=now, **{column: key}))  # type: ignore[return-value]

    def _refuse_held(self, twin_id: int, instance: str, key: str) -> None:
        holder = self.twin_for(instance, key)
        if holder is not None and holder.id != twin_id:
            raise StateError(f"{key} on {instance} already belongs to twin {holder.id} "
                             f"({holder.instance_a} {holder.key_a} <-> {holder.instance_b} {holder.key_b})",
                             code="K791")

    def unlink_twin(self, twin_id: int) -> None:
        with self._atomic():
            self._need_twin(twin_id)
            self._db.conn.execute("UPDATE twins SET status = ?, updated_at = ? WHERE id = ?",
                               (UNLINKED, self._now(), twin_id))
            self._seen.clear()

    def twins(self, status: str | None = ACTIVE) -> list[Twin]:
        rows = self._db.rows("SELECT * FROM twins WHERE ? IS NULL OR status = ? ORDER BY id", (status, status))
        return [Twin(**dict(r)) for r in rows]

    # ---- replicas ----

    def last_replica(self, twin_id: int, direction: str, kind: ReplicaKind) -> StoredReplica | None:
        row = self._db.one("SELECT * FROM replicas WHERE twin_id = ? AND direction = ? AND kind = ?",
                        (twin_id, direction, kind))
        if row is None:
            return None
        return StoredReplica(row["twin_id"], row["direction"], row["kind"], json.loads(row["replica"]),
                             row["hash"], row["recorded_at"])

    def record_replica(self, twin_id: int, direction: str, kind: ReplicaKind,
                       replica: Mapping[str, Any]) -> StoredReplica:
        text, now = canonical_json(replica), self._now()
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()  # replica_hash, without encoding it twice
        self._db.run("INSERT INTO replicas (twin_id, direction, kind, replica, hash, recorded_at) "
                  "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (twin_id, direction, kind) DO UPDATE SET "
                  "replica = excluded.replica, hash = excluded.hash, recorded_at = excluded.recorded_at",
                  (twin_id, direction, kind, text, digest, now))
        return StoredReplica(twin_id, direction, kind, json.loads(text), digest, now)

    # ---- id maps ----

    def _id_columns(self, twin_id: int, local_instance: str) -> tuple[str, str]:
        """(local column, remote column) for this side of the twin."""
        side = self._need_twin(twin_id)._side(local_instance)
        return ("id_a", "id_b") if side == "a" else ("id_b", "id_a")

    def id_map(self, twin_id: int, kind: str, local_instance: str) -> dict[str, str]:
        local, remote = self._id_columns(twin_id, local_instance)
        rows = self._db.rows(f"SELECT {remote}, {local} FROM id_maps WHERE twin_id = ? AND kind = ?", (twin_id, kind))
        return {r[0]: r[1] for r in rows}

    def map_ids(self, twin_id: int, kind: str, local_instance: str, pairs: Mapping[str, str]) -> None:
        with self._atomic():
            local, remote = self._id_columns(twin_id, local_instance)
            now = self._now()
            # Pair by pair, each pair drops the rows holding either of its ids: the table is unique on both
            # ids, so REPLACE does exactly that (of pairs sharing a local id, the last one stays).
            self._db.conn.executemany(f"INSERT OR REPLACE INTO id_maps (twin_id, kind, {remote}, {local}, "
                                      "created_at) VALUES (?, ?, ?, ?, ?)",
                                      [(twin_id, kind, str(r), str(loc), now) for r, loc in pairs.items()])

    def unmap_ids(self, twin_id: int, kind: str, local_instance: str, remote_ids: Iterable[str]) -> None:
        with self.transaction():
            _, remote = self._id_columns(twin_id, local_instance)
            for remote_id in remote_ids:
                self._db.conn.execute(f"DELETE FROM id_maps WHERE twin_id = ? AND kind = ? AND {remote} = ?",
                                   (twin_id, kind, str(remote_id)))

    # ---- idempotent create ----

    def create_intent(self, twin_id: int, instance: str) -> str:
        with self._atomic():
            self._need_twin(twin_id)._side(instance)
            row = self._db.one("SELECT marker FROM create_intents WHERE twin_id = ? AND instance = ? AND key IS NULL",
                            (twin_id, instance))
            if row is not None:
                return str(row[0])
            marker = f"rulelang-{uuid.uuid4().hex}"
            self._db.conn.execute("INSERT INTO create_intents (marker, twin_id, instance, created_at) VALUES (?, ?, ?, ?)",
                               (marker, twin_id, instance, self._now()))
            return marker

    def resolve_create(self, marker: str, key: str) -> None:
        if not self._db.run("UPDATE create_intents SET key = ?, resolved_at = ? WHERE marker = ?",
                         (key, self._now(), marker)):
            raise StateError(f"there is no create intent {marker}", code="K795")

    # ---- cursors and flags ----

    def cursor(self, instance: str) -> str | None:
        row = self._db.one("SELECT value FROM cursors WHERE instance = ?", (instance,))
        return row[0] if row is not None else None

    def set_cursor(self, instance: str, value: str) -> None:
        self._db.run("INSERT INTO cursors (instance, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (instance) "
                  "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                  (instance, value, self._now()))

    def is_paused(self) -> bool:
        row = self._db.one("SELECT value FROM flags WHERE name = 'paused'")
        return row is not None and row[0] == "1"

    def set_paused(self, paused: bool) -> None:
        self._db.run("INSERT INTO flags (name, value) VALUES ('paused', ?) "
                  "ON CONFLICT (name) DO UPDATE SET value = excluded.value", ("1" if paused else "0",))

    # ---- webhook deliveries ----

    def record_delivery(self, delivery_id: str, instance: str, key: str, event: str) -> bool:
        return self._db.run("INSERT INTO webhook_deliveries (delivery_id, instance, issue_key, event, received_at) "
                            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (delivery_id) DO NOTHING",
                            (delivery_id, instance, key, event, self._now())) == 1

    def pending_deliveries(self, limit: int = 500) -> list[Delivery]:
        rows = self._db.rows("SELECT delivery_id, instance, issue_key, event, state, received_at FROM "
                             "webhook_deliveries WHERE state = 'pending' ORDER BY received_at, rowid LIMIT ?", (limit,))
        return [Delivery(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

    def finish_deliveries(self, delivery_ids: Iterable[str]) -> None:
        now = self._now()
        with self.transaction():
            self._db.conn.executemany("UPDATE webhook_deliveries SET state = 'done', done_at = ? WHERE delivery_id = ?",
                                      [(now, d) for d in delivery_ids])

    def purge_deliveries(self, before: str) -> int:
        return self._db.run("DELETE FROM webhook_deliveries WHERE state = 'done' AND received_at < ?", (before,))

    # ---- event log ----

    def log(self, kind: str, message: str, *, level: str = "info", twin_id: int | None = None,
            data: Mapping[str, Any] | None = None) -> None:
        self._db.run("INSERT INTO events (at, level, kind, message, twin_id, data) VALUES (?, ?, ?, ?, ?, ?)",
                  (self._now(), level, kind, message, twin_id, canonical_json(data) if data is not None else None))

    def events(self, *, twin_id: int | None = None, limit: int = 100) -> list[Event]:
        rows = self._db.rows("SELECT * FROM events WHERE ? IS NULL OR twin_id = ? ORDER BY id DESC LIMIT ?",
                          (twin_id, twin_id, limit))
        return [Event(r["id"], r["at"], r["level"], r["kind"], r["message"], r["twin_id"],
                      json.loads(r["data"]) if r["data"] is not None else None) for r in rows]
