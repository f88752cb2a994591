"""The state file's queue of replica messages: numbered per twin and direction, claimed in that order under a lease."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from .state import DONE, ERROR, IN_PROGRESS, PENDING, QueueEntry, QueueState, StateError, canonical_json

if TYPE_CHECKING:
    from ._sqlite import SQLiteFile

__all__ = ["QueueTable"]

_QUEUE_COLUMNS = ("id, message_id, twin_id, direction, source_instance, source_key, seq, replica, state, "
                  "reason, attempts, next_attempt_at, created_at, updated_at")

# Claimable: a head (the migration adding `head` in _state_schema.py says why), pending or with its lease run
# out, and due.
# Two arms, each read in order from the index queue_ready: fresh entries (no next_attempt_at) by id, which
# stops at `limit`, and retries and expired leases, which are all claimable already. Entries blocked
# behind a head or not due yet are never read.
_CLAIM_ARM = ("SELECT " + _QUEUE_COLUMNS + " FROM queue INDEXED BY queue_ready "
              "WHERE head = 1 AND state IN ('pending', 'in_progress') AND {direction} AND {due} "
              "ORDER BY id LIMIT :limit")


def _claim_sql(direction: str) -> str:
    arms = (_CLAIM_ARM.format(direction=direction, due=due)
            for due in ("next_attempt_at IS NULL", "next_attempt_at <= :now"))
    return " UNION ALL ".join(f"SELECT * FROM ({arm})" for arm in arms) + " ORDER BY id LIMIT :limit"


_CLAIM_ONE = _claim_sql("direction = :direction")
_CLAIM_ANY = _claim_sql("1")  # no direction: the whole index of heads (only tests and tools claim so)

_HEAD = "FROM queue WHERE twin_id = :twin AND direction = :direction AND head = 1"
_SET_STATE = ("UPDATE queue SET state = :state, reason = :reason, next_attempt_at = :next, updated_at = :now, "
              "head = CASE WHEN :state = 'done' THEN 0 ELSE head END WHERE id = :id")


class QueueTable:
    """SQLiteStateStore's queue methods; the store brings the file, the clock and transactions."""

    if TYPE_CHECKING:
        _db: SQLiteFile

        def _now(self, plus_seconds: float = 0.0) -> str: ...

        def transaction(self) -> AbstractContextManager[None]: ...

    @staticmethod
    def _entry(row: Mapping[str, Any]) -> QueueEntry:
        values = dict(row)
        values["replica"] = json.loads(values["replica"])
        return QueueEntry(**values)

    def enqueue(self, *, message_id: str, twin_id: int, direction: str, source_instance: str,
                source_key: str, replica: Mapping[str, Any], seq: int | None = None) -> QueueEntry | None:
        text = canonical_json(replica)
        with self.transaction():
            repeat, twin_known, last, head, head_seq = self._db.conn.execute(  # the look-ups, one statement
                "SELECT EXISTS (SELECT 1 FROM queue WHERE message_id = :message), "
                "EXISTS (SELECT 1 FROM twins WHERE id = :twin), "
                "(SELECT last_seq FROM sequences WHERE twin_id = :twin AND direction = :direction), "
                f"(SELECT id {_HEAD}), (SELECT seq {_HEAD})",
                {"message": message_id, "twin": twin_id, "direction": direction}).fetchone()
            if repeat:
                return None
            if not twin_known:
                raise StateError(f"there is no twin {twin_id}", code="K792")
            last = last or 0
            if seq is None:
                seq = last + 1
            elif self._db.one("SELECT 1 FROM queue WHERE twin_id = ? AND direction = ? AND seq = ?",
                           (twin_id, direction, seq)) is not None:
                raise StateError(f"twin {twin_id} already has message number {seq} for {direction}",
                                 code="K794")
            self._db.conn.execute(
                "INSERT INTO sequences (twin_id, direction, last_seq) VALUES (?, ?, ?) "
                "ON CONFLICT (twin_id, direction) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)",
                (twin_id, direction, seq))
            now, first = self._now(), head is None or seq < head_seq
            if first and head is not None:  # a peer's message numbered before the one that led so far
                self._db.conn.execute("UPDATE queue SET head = 0 WHERE id = ?", (head,))
            cur = self._db.conn.execute(
                "INSERT INTO queue (message_id, twin_id, direction, source_instance, source_key, seq, replica, "
                "state, attempts, created_at, updated_at, head) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
                (message_id, twin_id, direction, source_instance, source_key, seq, text, now, now, int(first)))
            return QueueEntry(cur.lastrowid or 0, message_id, twin_id, direction, source_instance, source_key,
                              seq, json.loads(text), PENDING, None, 0, None, now, now)

    def claim(self, *, direction: str | None = None, limit: int = 1, lease_seconds: float = 300.0
              ) -> list[QueueEntry]:
        with self.transaction():
            now = self._now()
            rows = self._db.conn.execute(_CLAIM_ONE if direction is not None else _CLAIM_ANY,
                                         {"now": now, "direction": direction, "limit": limit}).fetchall()
            lease_end = self._now(lease_seconds)
            self._db.conn.executemany("UPDATE queue SET state = 'in_progress', attempts = attempts + 1, "
                                      "next_attempt_at = ?, updated_at = ? WHERE id = ?",
                                      [(lease_end, now, row["id"]) for row in rows])
            claimed = []
            for row in rows:
                values = dict(row) | {"state": IN_PROGRESS, "attempts": row["attempts"] + 1,
                                      "next_attempt_at": lease_end, "updated_at": now}
                claimed.append(self._entry(values))
            return claimed

    def _set_state(self, entry_id: int, state: str, reason: str | None, next_attempt_at: str | None) -> None:
        # No savepoint: the one check that can fail comes before any write.
        with self._db.transaction(savepoint=False) as conn:
            values = {"id": entry_id, "state": state, "reason": reason, "next": next_attempt_at, "now": self._now()}
            if state != DONE and conn.execute(_SET_STATE + " AND state != 'done'", values).rowcount:
                return  # from one open state to another: the head stays where it is
            row = conn.execute("SELECT twin_id, direction, seq, head FROM queue WHERE id = ?", (entry_id,)).fetchone()
            if row is None:
                raise StateError(f"there is no queue entry {entry_id}", code="K795")
            chain = {"twin": row[0], "direction": row[1], "seq": row[2]}
            if state == DONE:
                conn.execute(_SET_STATE, values)
                if row[3]:  # the next open one leads now (those before it are done)
                    conn.execute("UPDATE queue SET head = 1 WHERE id = (SELECT id FROM queue WHERE twin_id = :twin "
                                 "AND direction = :direction AND seq > :seq AND state != 'done' ORDER BY seq LIMIT 1)",
                                 chain)
                return
            head = conn.execute(f"SELECT id, seq {_HEAD}", chain).fetchone()  # a done entry opens again
            conn.execute(_SET_STATE, values)
            if head is None or row[2] < head[1]:
                if head is not None:
                    conn.execute("UPDATE queue SET head = 0 WHERE id = ?", (head[0],))
                conn.execute("UPDATE queue SET head = 1 WHERE id = ?", (entry_id,))

    def complete(self, entry_id: int) -> None:
        self._set_state(entry_id, DONE, None, None)

    def postpone(self, entry_id: int, reason: str, delay_seconds: float) -> None:
        self._set_state(entry_id, PENDING, reason, self._now(max(0.0, delay_seconds)))

    def fail(self, entry_id: int, reason: str) -> None:
        self._set_state(entry_id, ERROR, reason, None)

    def retry(self, entry_ids: Iterable[int] | None = None) -> int:
        update = ("UPDATE queue SET state = 'pending', attempts = 0, next_attempt_at = NULL, updated_at = ? "
                  "WHERE state = 'error'")
        with self.transaction():
            if entry_ids is None:
                return self._db.conn.execute(update, (self._now(),)).rowcount
            return sum(self._db.conn.execute(update + " AND id = ?", (self._now(), i)).rowcount for i in entry_ids)

    def release_claims(self) -> int:
        return self._db.run("UPDATE queue SET state = 'pending', next_attempt_at = NULL, updated_at = ? "
                         "WHERE state = 'in_progress'", (self._now(),))

    def get_entry(self, entry_id: int) -> QueueEntry | None:
        row = self._db.one(f"SELECT {_QUEUE_COLUMNS} FROM queue WHERE id = ?", (entry_id,))
        return self._entry(row) if row is not None else None

    def entries(self, *, state: QueueState | None = None, twin_id: int | None = None,
                limit: int | None = None) -> list[QueueEntry]:
        # Only the filters asked for go into the statement, so SQLite can take an index for them: the engine
        # lists open entries every pass, and done ones (kept for de-duplication) must not make that slower.
        where, params = [], []
        if state is not None:
            where.append("state = ?")
            params.append(state)
        if twin_id is not None:
            where.append("twin_id = ?")
            params.append(twin_id)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        rows = self._db.rows(f"SELECT {_QUEUE_COLUMNS} FROM queue {clause}ORDER BY id LIMIT ?",
                             (*params, -1 if limit is None else limit))
        return [self._entry(r) for r in rows]

    def queue_counts(self) -> dict[str, int]:
        counts = {PENDING: 0, IN_PROGRESS: 0, DONE: 0, ERROR: 0}
        counts.update({r[0]: r[1] for r in self._db.rows("SELECT state, count(*) FROM queue GROUP BY state")})
        return counts

    def purge_done(self, before: str) -> int:
        return self._db.run("DELETE FROM queue WHERE state = 'done' AND updated_at < ?", (before,))
