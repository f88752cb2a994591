"""The SQLite state store: twins, replicas, id maps, queue order and retries, intents, cursors, flags, events."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rulelang.errors import ConfigError
from runtime import _state_schema
from runtime._state_sqlite import SQLiteStateStore
from runtime.state import StateError, StateStore, open_state, replica_hash, state_path

QA_DEV = "QA -> Dev"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[SQLiteStateStore]:
    s = SQLiteStateStore(state_path(tmp_path), clock=clock)
    yield s
    s.close()


def enqueue(store: StateStore, twin_id: int, n: int, key: str = "QA-1", direction: str = QA_DEV):
    return store.enqueue(message_id=f"m-{twin_id}-{direction}-{n}", twin_id=twin_id, direction=direction,
                         source_instance=direction.split(" -> ")[0], source_key=key, replica={"n": n})


def test_file_lives_in_the_connection_folder_in_wal_mode(tmp_path: Path) -> None:
    with open_state(state_path(tmp_path)) as store:
        assert isinstance(store, StateStore)
        store.set_cursor("QA", "2024-01-01T00:00:00.000Z")
    assert (tmp_path / ".state" / "state.sqlite").exists()
    conn = sqlite3.connect(tmp_path / ".state" / "state.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(_state_schema.MIGRATIONS)
    conn.close()


def test_twins_read_the_same_from_either_side(store: SQLiteStateStore) -> None:
    twin = store.ensure_twin("QA", "QA-1", "Dev")
    assert (twin.key_on("QA"), twin.key_on("Dev"), twin.other("QA")) == ("QA-1", None, "Dev")
    assert store.ensure_twin("QA", "QA-1", "Dev") == twin
    linked = store.link_twin(twin.id, "Dev", "DEV-7")
    assert store.twin_for("Dev", "DEV-7") == linked == store.twin_for("QA", "QA-1")
    assert store.ensure_twin("Dev", "DEV-7", "QA").id == twin.id
    assert store.link_twin(twin.id, "Dev", "DEV-7") == linked  # linking again is harmless
    with pytest.raises(StateError, match="not Jira"):
        twin.key_on("Jira")


def test_an_issue_never_has_two_active_twins(store: SQLiteStateStore) -> None:
    one = store.ensure_twin("QA", "QA-1", "Dev")
    two = store.ensure_twin("QA", "QA-2", "Dev")
    store.link_twin(one.id, "Dev", "DEV-1")
    with pytest.raises(StateError, match="DEV-1 on Dev already belongs to twin") as caught:
        store.link_twin(two.id, "Dev", "DEV-1")
    assert caught.value.diagnostic.code == "K791"
    with pytest.raises(StateError, match="already has DEV-1"):
        store.link_twin(one.id, "Dev", "DEV-2")
    with pytest.raises(StateError):
        store.ensure_twin("QA", "QA-1", "QA")


def test_unlinked_twin_frees_its_issues(store: SQLiteStateStore) -> None:
    old = store.ensure_twin("QA", "QA-1", "Dev")
    store.unlink_twin(old.id)
    assert store.twin_for("QA", "QA-1") is None
    new = store.ensure_twin("QA", "QA-1", "Dev")
    assert new.id != old.id
    assert [t.id for t in store.twins()] == [new.id]
    assert [t.status for t in store.twins(None)] == ["unlinked", "active"]


def test_sent_and_applied_replicas_are_kept_apart(store: SQLiteStateStore) -> None:
    twin = store.ensure_twin("QA", "QA-1", "Dev")
    assert store.last_replica(twin.id, QA_DEV, "sent") is None
    store.record_replica(twin.id, QA_DEV, "sent", {"summary": "b", "labels": ["x"]})
    store.record_replica(twin.id, QA_DEV, "applied", {"summary": "a"})
    sent = store.last_replica(twin.id, QA_DEV, "sent")
    assert sent is not None and sent.replica == {"summary": "b", "labels": ["x"]}
    assert sent.hash == replica_hash({"labels": ["x"], "summary": "b"})  # key order does not matter
    applied = store.last_replica(twin.id, QA_DEV, "applied")
    assert applied is not None and applied.replica == {"summary": "a"}
    assert store.last_replica(twin.id, "Dev -> QA", "applied") is None


def test_id_maps_are_direction_independent(store: SQLiteStateStore) -> None:
    twin = store.ensure_twin("QA", "QA-1", "Dev")
    store.map_ids(twin.id, "comments", "Dev", {"100": "7", "101": "8"})
    assert store.id_map(twin.id, "comments", "Dev") == {"100": "7", "101": "8"}
    assert store.id_map(twin.id, "comments", "QA") == {"7": "100", "8": "101"}
    assert store.id_map(twin.id, "attachments", "Dev") == {}
    store.map_ids(twin.id, "comments", "Dev", {"100": "9"})  # re-created locally: re-mapped
    store.unmap_ids(twin.id, "comments", "Dev", ["101"])
    assert store.id_map(twin.id, "comments", "Dev") == {"100": "9"}


def test_map_ids_in_one_call_ends_as_pair_by_pair(store: SQLiteStateStore) -> None:
    """Each pair replaces the rows holding either of its ids, so of pairs sharing an id the last one stays."""
    twin = store.ensure_twin("QA", "QA-1", "Dev")
    store.map_ids(twin.id, "comments", "Dev", {"100": "7", "101": "8"})
    store.map_ids(twin.id, "comments", "Dev", {"102": "7", "103": "9", "104": "9", "101": "10"})
    assert store.id_map(twin.id, "comments", "Dev") == {"102": "7", "104": "9", "101": "10"}


def test_enqueue_numbers_per_twin_and_direction_and_ignores_repeats(store: SQLiteStateStore) -> None:
    a = store.ensure_twin("QA", "QA-1", "Dev")
    b = store.ensure_twin("QA", "QA-2", "Dev")
    assert [enqueue(store, a.id, n).seq for n in (1, 2)] == [1, 2]
    assert enqueue(store, b.id, 1).seq == 1
    assert enqueue(store, a.id, 1, direction="Dev -> QA").seq == 1
    assert enqueue(store, a.id, 2) is None  # the same message id again
    assert store.queue_counts() == {"pending": 4, "in_progress": 0, "done": 0, "error": 0}
    inbox = store.enqueue(message_id="peer-9", twin_id=b.id, direction=QA_DEV, source_instance="QA",
                          source_key="QA-2", replica={}, seq=5)
    assert inbox is not None and inbox.seq == 5
    assert enqueue(store, b.id, 6).seq == 6
    with pytest.raises(StateError, match="already has message number 5"):
        store.enqueue(message_id="peer-10", twin_id=b.id, direction=QA_DEV, source_instance="QA",
                      source_key="QA-2", replica={}, seq=5)


def test_sequence_numbers_never_repeat_after_a_purge(store: SQLiteStateStore, clock: Clock) -> None:
    twin = store.ensure_twin("QA", "QA-1", "Dev")
    first = enqueue(store, twin.id, 1)
    assert first is not None
    store.complete(first.id)
    clock.advance(60)
    assert store.purge_done(store._now()) == 1
    second = enqueue(store, twin.id, 2)
    assert second is not None and second.seq == 2


def test_claim_keeps_order_per_twin_and_errors_hold_back_only_their_twin(store: SQLiteStateStore) -> None:
    a = store.ensure_twin("QA", "QA-1", "Dev")
    b = store.ensure_twin("QA", "QA-2", "Dev")
    a1, a2, b1 = enqueue(store, a.id, 1), enqueue(store, a.id, 2), enqueue(store, b.id, 1, "QA-2")
    assert a1 and a2 and b1
    claimed = store.claim(limit=10)
    assert [e.id for e in claimed] == [a1.id, b1.id]  # a2 waits behind a1
    assert all(e.state == "in_progress" and e.attempts == 1 for e in claimed)
    assert store.claim(limit=10) == []
    store.fail(a1.id, "rule failed: parent not synced")
    store.complete(b1.id)
    b2 = enqueue(store, b.id, 2, "QA-2")
    assert b2 is not None
    assert [e.id for e in store.claim(limit=10)] == [b2.id]  # a's error holds back a2 only
    errored = store.get_entry(a1.id)
    assert errored is not None and (errored.state, errored.reason) == ("error", "rule failed: parent not synced")
    assert store.retry() == 1
    again = store.claim(limit=10)
    assert [(e.id, e.attempts) for e in again] == [(a1.id, 1)]  # retry starts the count afresh
    store.complete(a1.id)
    assert [e.id for e in store.claim(limit=10)] == [a2.id]


def test_postpone_waits_and_an_expired_lease_is_claimed_again(store: SQLiteStateStore, clock: Clock) -> None:
    twin = store.ensure_twin("QA", "QA-1", "Dev")
    entry = enqueue(store, twin.id, 1)
    assert entry is not None
    store.claim()
    store.postpone(entry.id, "503 from Jira", 30)
    assert store.claim() == []
    clock.advance(31)
    claimed = store.claim(lease_seconds=10)
    assert [(e.id, e.attempts, e.reason) for e in claimed] == [(entry.id, 2, "503 from Jira")]
    assert store.claim() == []  # leased
    clock.advance(11)
    assert [e.attempts for e in store.claim()] == [3]  # its worker died: the lease ran out
    assert store.release_claims() == 1
    assert [e.attempts for e in store.claim(direction=QA_DEV)] == [4]
    assert store.claim(direction="Dev -> QA") == []


def test_entries_filter_and_unknown_entry(store: SQLiteStateStore) -> None:
    twin = store.ensure_twin("QA", "QA-1", "Dev")
    for n in range(3):
        enqueue(store, twin.id, n)
    store.fail(store.entries()[0].id, "bad")
    assert [e.replica["n"] for e in store.entries(state="pending")] == [1, 2]
    assert [e.replica["n"] for e in store.entries(twin_id=twin.id, limit=1)] == [0]
    with pytest.raises(StateError, match="no queue entry 999"):
        store.complete(999)


def test_create_intent_survives_until_resolved(store: SQLiteStateStore) -> None:
    twin = store.ensure_twin("QA", "QA-1", "Dev")
    marker = store.create_intent(twin.id, "Dev")
    assert marker.startswith("rulelang-")
    assert store.create_intent(twin.id, "Dev") == marker  # the interrupted attempt's marker again
    store.resolve_create(marker, "DEV-3")
    assert store.create_intent(twin.id, "Dev") != marker
    with pytest.raises(StateError):
        store.resolve_create("nope", "DEV-4")
    with pytest.raises(StateError):
        store.create_intent(twin.id, "Jira")


def test_cursors_flags_and_events(store: SQLiteStateStore) -> None:
    assert store.cursor("QA") is None
    store.set_cursor("QA", "2024-05-01T00:00:00.000Z")
    store.set_cursor("QA", "2024-05-02T00:00:00.000Z")
    assert store.cursor("QA") == "2024-05-02T00:00:00.000Z"
    assert not store.is_paused()
    store.set_paused(True)
    assert store.is_paused()
    store.set_paused(False)
    assert not store.is_paused()
    store.log("sync", "first")
    store.log("error", "second", level="error", twin_id=4, data={"entry": 1})
    events = store.events()
    assert [(e.kind, e.level, e.twin_id, e.data) for e in events] == [
        ("error", "error", 4, {"entry": 1}), ("sync", "info", None, None)]
    assert [e.message for e in store.events(twin_id=4)] == ["second"]


def test_transaction_is_all_or_nothing_and_nests(store: SQLiteStateStore) -> None:
    twin = store.ensure_twin("QA", "QA-1", "Dev")
    with pytest.raises(RuntimeError):
        with store.transaction():
            enqueue(store, twin.id, 1)
            store.set_cursor("QA", "x")
            raise RuntimeError("crash between steps")
    assert store.entries() == [] and store.cursor("QA") is None
    with store.transaction():
        enqueue(store, twin.id, 1)
        try:
            with store.transaction():
                store.set_cursor("QA", "inner")
                raise ValueError
        except ValueError:
            pass
        store.set_paused(True)
    assert len(store.entries()) == 1 and store.cursor("QA") is None and store.is_paused()


def test_a_second_process_sees_only_committed_state(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    writer, reader = open_state(path), open_state(path)
    try:
        twin = writer.ensure_twin("QA", "QA-1", "Dev")
        with writer.transaction():
            enqueue(writer, twin.id, 1)
            assert reader.entries() == []  # WAL: the reader is not blocked and sees the last commit
        assert len(reader.entries()) == 1
    finally:
        writer.close()
        reader.close()


def test_schema_migrates_step_by_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = state_path(tmp_path)
    with open_state(path) as store:
        store.set_cursor("QA", "v1")
    step = ("ALTER TABLE cursors ADD COLUMN note TEXT", "UPDATE cursors SET note = 'migrated'")
    monkeypatch.setattr(_state_schema, "MIGRATIONS", [*_state_schema.MIGRATIONS, step])
    with open_state(path) as store:
        assert isinstance(store, SQLiteStateStore) and store.schema_version == len(_state_schema.MIGRATIONS)
        assert store.cursor("QA") == "v1"
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT note FROM cursors").fetchone()[0] == "migrated"
    conn.close()


def test_a_failing_migration_leaves_the_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = state_path(tmp_path)
    open_state(path).close()
    broken = ("ALTER TABLE cursors ADD COLUMN note TEXT", "THIS IS NOT SQL")
    monkeypatch.setattr(_state_schema, "MIGRATIONS", [*_state_schema.MIGRATIONS, broken])
    with pytest.raises(sqlite3.OperationalError):
        open_state(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(_state_schema.MIGRATIONS) - 1
    assert "note" not in [r[1] for r in conn.execute("PRAGMA table_info(cursors)")]
    conn.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    open_state(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(ConfigError, match="newer rulelang .*schema version 99") as caught:
        open_state(path)
    assert caught.value.diagnostic.code == "K793"


def _twin_selects(store: SQLiteStateStore) -> list[str]:
    seen: list[str] = []
    store._db.conn.set_trace_callback(lambda sql: seen.append(sql) if sql.startswith("SELECT * FROM twins") else None)
    return seen


def test_a_transaction_reads_each_twin_from_the_file_once(store: SQLiteStateStore) -> None:
    twin = store.ensure_twin("QA", "QA-1", "Dev")
    selects = _twin_selects(store)
    with store.transaction():
        assert store.get_twin(twin.id) == store.get_twin(twin.id) == store.twin_for("QA", "QA-1") == twin
        linked = store.link_twin(twin.id, "Dev", "DEV-7")
        assert store.get_twin(twin.id) == store.twin_for("Dev", "DEV-7") == linked
    assert len(selects) == 1
    assert store.get_twin(twin.id) == linked and len(selects) == 2  # outside a transaction: always the file


def test_a_rolled_back_write_is_not_remembered(store: SQLiteStateStore) -> None:
    twin = store.ensure_twin("QA", "QA-1", "Dev")
    with store.transaction():
        assert store.get_twin(twin.id) == twin
        with pytest.raises(RuntimeError):
            with store.transaction():
                store.link_twin(twin.id, "Dev", "DEV-7")
                raise RuntimeError("the delivery failed after the link")
        assert store.get_twin(twin.id) == twin and store.twin_for("Dev", "DEV-7") is None
        store.unlink_twin(twin.id)
        assert store.twin_for("QA", "QA-1") is None and store.get_twin(twin.id).status == "unlinked"


def test_another_process_s_writes_are_seen_by_the_next_transaction(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    engine, cli = open_state(path), open_state(path)
    try:
        twin = engine.ensure_twin("QA", "QA-1", "Dev")
        with engine.transaction():
            assert engine.twin_for("QA", "QA-1") == twin
        cli.unlink_twin(twin.id)  # `rulelang unlink` from another process, between two transactions
        with engine.transaction():
            assert engine.twin_for("QA", "QA-1") is None and engine.get_twin(twin.id).status == "unlinked"
    finally:
        engine.close()
        cli.close()
