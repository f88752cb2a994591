"""What `status` and `queue` show: twins and open queue entries as read from the state store, with no lock and no rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rulelang.errors import ConfigError

from .messages import send_failure
from .state import ERROR, IN_PROGRESS, PENDING, QueueEntry, StateStore, Twin

__all__ = ["find_twin", "status", "queue", "describe_entry"]


def find_twin(store: StateStore, instances: Iterable[str], key: str) -> Twin | None:
    """The active twin holding `key` on any of `instances`."""
    for instance in instances:
        twin = store.twin_for(instance, key)
        if twin is not None:
            return twin
    return None


def status(store: StateStore, instances: Iterable[str], key: str | None = None) -> list[dict[str, Any]]:
    """Twins (or the one holding `key`) with their state: synced, waiting, error (why), paused."""
    paused = store.is_paused()
    if key is not None:
        twin = find_twin(store, instances, key)
        if twin is None:
            raise ConfigError(f"{key} is not synced (no twin holds it)", code="K732")
        twins = [twin]
    else:
        twins = store.twins()
    open_entries: dict[int, list[QueueEntry]] = {}
    for state in (ERROR, PENDING, IN_PROGRESS):
        for e in store.entries(state=state, twin_id=twins[0].id if key is not None else None):
            open_entries.setdefault(e.twin_id, []).append(e)
    out = []
    for twin in twins:
        entries = sorted(open_entries.get(twin.id, []), key=lambda e: e.id)
        errors = [e for e in entries if e.state == ERROR]
        state = "error" if errors else ("paused" if paused else "waiting") if entries else "synced"
        row = {"twin": twin.id, "keys": {twin.instance_a: twin.key_a, twin.instance_b: twin.key_b},
               "state": state, "reason": errors[0].reason if errors else None, "queued": len(entries),
               "updated_at": twin.updated_at}
        if key is not None:
            row["entries"] = [describe_entry(e) for e in entries]
            row["events"] = [{"at": ev.at, "level": ev.level, "kind": ev.kind, "message": ev.message}
                             for ev in store.events(twin_id=twin.id, limit=20)]
        out.append(row)
    return out


def queue(store: StateStore, states: Iterable[str] = (ERROR, PENDING, IN_PROGRESS)) -> list[dict[str, Any]]:
    """Open queue entries, oldest first."""
    rows = [e for s in states for e in store.entries(state=s)]
    return [describe_entry(e, store.get_twin(e.twin_id)) for e in sorted(rows, key=lambda e: e.id)]


def describe_entry(entry: QueueEntry, twin: Twin | None = None) -> dict[str, Any]:
    """A queue entry for people and `--json`: what, where, state, why."""
    target = entry.direction.partition(" -> ")[2]
    out = {"id": entry.id, "direction": entry.direction, "source": f"{entry.source_instance} {entry.source_key}",
           "seq": entry.seq, "state": entry.state, "attempts": entry.attempts, "reason": entry.reason,
           "next_attempt_at": entry.next_attempt_at, "created_at": entry.created_at,
           "kind": "send-failure" if send_failure(entry) is not None else "replica"}
    if twin is not None:
        out["target"] = f"{target} {twin.key_on(target) or '(not created yet)'}"
    return out
