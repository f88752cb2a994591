"""Claiming from the queue: the same entries as the rule says (first open entry of a twin and direction, due),
with a cost that does not grow with what waits behind a head or is not due yet."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from runtime import _state_schema
from runtime._sqlite import migrate
from runtime._state_sqlite import SQLiteStateStore
from runtime.state import StateError, state_path

DIRECTIONS = ("QA -> Dev", "Dev -> QA")

# The claim rule as written before `head` existed, evaluated from scratch: the reference.
CLAIMABLE = (
    "SELECT q.id FROM queue q WHERE q.state IN ('pending', 'in_progress') "
    "AND (q.next_attempt_at IS NULL OR q.next_attempt_at <= :now) "
    "AND (:direction IS NULL OR q.direction = :direction) "
    "AND NOT EXISTS (SELECT 1 FROM queue e WHERE e.twin_id = q.twin_id AND e.direction = q.direction "
    "AND e.seq < q.seq AND e.state != 'done') ORDER BY q.id LIMIT :limit")
FIRST_OPEN = (
    "SELECT q.id FROM queue q WHERE q.state != 'done' AND NOT EXISTS (SELECT 1 FROM queue e "
    "WHERE e.twin_id = q.twin_id AND e.direction = q.direction AND e.seq < q.seq AND e.state != 'done')")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _ids(conn: sqlite3.Connection, sql: str, params: dict | tuple = ()) -> list[int]:
    return [r[0] for r in conn.execute(sql, params)]


def _enqueue(store: SQLiteStateStore, twin_id: int, direction: str, n: int, seq: int | None = None) -> int | None:
    entry = store.enqueue(message_id=f"m{n}", twin_id=twin_id, direction=direction,
                          source_instance=direction.split(" -> ")[0], source_key=f"K-{twin_id}", replica={"n": n},
                          seq=seq)
    return entry.id if entry is not None else None


def test_claim_takes_what_the_rule_says_through_every_kind_of_write(tmp_path: Path) -> None:
    clock = Clock()
    store = SQLiteStateStore(state_path(tmp_path), clock=clock)
    conn = store._db.conn
    rng = random.Random(20261128)
    twins = [store.ensure_twin("QA", f"QA-{i}", "Dev").id for i in range(4)]
    ids: list[int] = []
    claims = 0
    for n in range(1500):
        op = rng.random()
        if op < 0.3 or not ids:
            # now and then a peer's numbered message arrives ahead of, or behind, the ones queued
            seq = rng.randint(1, 40) if rng.random() < 0.3 else None
            try:
                new = _enqueue(store, rng.choice(twins), rng.choice(DIRECTIONS), n, seq)
            except StateError:
                new = None  # that number is taken
            if new is not None:
                ids.append(new)
        elif op < 0.55:
            direction = rng.choice([*DIRECTIONS, None])
            limit = rng.randint(1, 4)
            now = store._now()
            expected = _ids(conn, CLAIMABLE, {"now": now, "direction": direction, "limit": limit})
            got = store.claim(direction=direction, limit=limit, lease_seconds=rng.choice([5, 60]))
            assert [e.id for e in got] == expected, n
            claims += bool(got)
        elif op < 0.75:
            store.complete(rng.choice(ids))
        elif op < 0.85:
            store.postpone(rng.choice(ids), "503", rng.choice([0, 10, 30]))  # a done one comes back too
        elif op < 0.9:
            store.fail(rng.choice(ids), "bad")
        elif op < 0.93:
            store.retry()
        elif op < 0.95:
            store.release_claims()
        else:
            clock.now += timedelta(seconds=rng.choice([1, 15, 61]))
        assert sorted(_ids(conn, "SELECT id FROM queue WHERE head = 1")) == sorted(_ids(conn, FIRST_OPEN)), n
    assert claims > 100
    store.close()


def test_an_older_file_gets_its_heads_when_it_migrates(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, str(path), _state_schema.MIGRATIONS[:2])
    conn.execute("INSERT INTO twins VALUES (1, 'Dev', NULL, 'QA', 'QA-1', 'active', 't', 't')")
    rows = [(1, "QA -> Dev", 1, "done"), (2, "QA -> Dev", 2, "error"), (3, "QA -> Dev", 3, "pending"),
            (4, "Dev -> QA", 4, "pending"), (5, "Dev -> QA", 2, "pending"), (6, "Dev -> QA", 3, "done")]
    conn.executemany("INSERT INTO queue (id, message_id, twin_id, direction, source_instance, source_key, seq, "
                     "replica, state, created_at, updated_at) VALUES (?, ?, 1, ?, 'QA', 'QA-1', ?, '{}', ?, 't', 't')",
                     [(i, f"m{i}", d, seq, state) for i, d, seq, state in rows])
    conn.close()
    with SQLiteStateStore(path) as store:
        assert store.schema_version == len(_state_schema.MIGRATIONS)
        assert _ids(store._db.conn, "SELECT id FROM queue WHERE head = 1 ORDER BY id") == [2, 5]
        assert [e.id for e in store.claim(limit=10)] == [5]  # entry 2's error holds back entry 3


def _counting_steps(store: SQLiteStateStore, work: Callable[[], Any]) -> tuple[Any, int]:
    """What `work` returns, and the SQLite VM instructions it took."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    store._db.conn.set_progress_handler(count, 1)
    try:
        return work(), steps
    finally:
        store._db.conn.set_progress_handler(None, 1)


def _steps_of_a_claim(tmp_path: Path, waiting_twins: int) -> int:
    """SQLite VM instructions one claim takes, with `waiting_twins` twins whose first entry is not due yet
    and nine entries queued behind it, a twin with a long done history, and one entry that is due."""
    clock = Clock()
    store = SQLiteStateStore(state_path(tmp_path / str(waiting_twins)), clock=clock)
    n = 0
    with store.transaction():
        for t in range(waiting_twins):
            twin = store.ensure_twin("QA", f"QA-{t}", "Dev").id
            for i in range(10):
                n += 1
                entry = _enqueue(store, twin, DIRECTIONS[0], n)
                if i == 0 and entry is not None:
                    store.postpone(entry, "503", 3600)
        old = store.ensure_twin("QA", "QA-old", "Dev").id
        for _ in range(waiting_twins * 5):
            n += 1
            entry = _enqueue(store, old, DIRECTIONS[0], n)
            assert entry is not None
            store.complete(entry)
        _enqueue(store, old, DIRECTIONS[0], n + 1)
    claimed, steps = _counting_steps(store, lambda: store.claim(direction=DIRECTIONS[0], limit=50))
    assert len(claimed) == 1
    store.close()
    return steps


def test_a_claim_reads_no_entry_that_waits_behind_another_or_is_not_due(tmp_path: Path) -> None:
    small, large = _steps_of_a_claim(tmp_path, 10), _steps_of_a_claim(tmp_path, 400)
    assert large < small * 1.2, (small, large)


def _steps_to_list_open_entries(tmp_path: Path, done: int) -> int:
    """SQLite VM instructions for the engine's per-pass listing of open entries, with `done` done entries kept."""
    store = SQLiteStateStore(state_path(tmp_path / f"done-{done}"), clock=Clock())
    with store.transaction():
        twin = store.ensure_twin("QA", "QA-1", "Dev").id
        for n in range(done):
            entry = _enqueue(store, twin, DIRECTIONS[0], n)
            assert entry is not None
            store.complete(entry)
        _enqueue(store, twin, DIRECTIONS[0], done)
    listed, steps = _counting_steps(store, lambda: [e for state in ("pending", "in_progress", "error")
                                                    for e in store.entries(state=state)])
    assert [e.seq for e in listed] == [done + 1]
    assert [e.seq for e in store.entries(twin_id=twin)] == list(range(1, done + 2))  # by twin: all, in order
    store.close()
    return steps


def test_listing_entries_by_state_does_not_read_the_done_history(tmp_path: Path) -> None:
    small, large = _steps_to_list_open_entries(tmp_path, 10), _steps_to_list_open_entries(tmp_path, 2000)
    assert large < small * 1.2, (small, large)
