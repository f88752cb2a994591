"""The sync engine's durable state, behind one interface: twins, replicas, id maps, queue, intents, cursors, flags, events.

`StateStore` is the interface the engine programs against; `open_state(path)`
gives the default implementation, an SQLite file per connection folder
(`<folder>/.state/state.sqlite`, see `state_path`).  A PostgreSQL store can
implement the same class later.

Every method is one transaction.  `with store.transaction():` groups several
into one atomic step (nested groups become savepoints), e.g. enqueue + cursor
advance, or apply bookkeeping + marking the queue entry done.

Two replicas are kept per twin and direction:
- `sent`: the last replica queued, compared (by hash) with the next outgoing
  replica to drop echoes and repeats;
- `applied`: the last replica applied on the receiving side, the `previous`
  of the next incoming run.
They differ while a message is in flight, which is why both exist.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rulelang.errors import RulelangError

__all__ = [
    "StateStore", "StateError", "Twin", "StoredReplica", "QueueEntry", "Event", "Delivery",
    "open_state", "state_path", "replica_hash", "canonical_json",
    "QueueState", "ReplicaKind", "PENDING", "IN_PROGRESS", "DONE", "ERROR", "ACTIVE", "UNLINKED",
]

QueueState = Literal["pending", "in_progress", "done", "error"]
ReplicaKind = Literal["sent", "applied"]
PENDING, IN_PROGRESS, DONE, ERROR = "pending", "in_progress", "done", "error"
ACTIVE, UNLINKED = "active", "unlinked"


class StateError(RulelangError):
    """The state store refused something (codes K79x): a twin conflict, an unknown twin, entry or marker, …

    A state file from a newer rulelang is a ConfigError K793 (runtime._sqlite.migrate).
    """

    default_code = "K790"


def canonical_json(value: Any) -> str:
    """One text per JSON value (sorted keys, no spaces), so equal replicas hash equal."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def replica_hash(replica: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(replica).encode("utf-8")).hexdigest()


def state_path(connection_folder: str | Path) -> Path:
    """Where a connection folder keeps its state file."""
    return Path(connection_folder) / ".state" / "state.sqlite"


def open_state(path: str | Path) -> StateStore:
    """Open (creating and migrating as needed) the SQLite state store at `path`."""
    from ._state_sqlite import SQLiteStateStore  # the implementation imports this module's types

    return SQLiteStateStore(path)


@dataclass(frozen=True, slots=True)
class Twin:
    """An issue and its counterpart: one key per instance (None until that side exists).

    The two instances are stored in name order, so a twin reads the same from either side.
    """

    id: int
    instance_a: str
    key_a: str | None
    instance_b: str
    key_b: str | None
    status: str
    created_at: str
    updated_at: str

    def key_on(self, instance: str) -> str | None:
        return self.key_a if self._side(instance) == "a" else self.key_b

    def other(self, instance: str) -> str:
        """The other instance's name."""
        return self.instance_b if self._side(instance) == "a" else self.instance_a

    def _side(self, instance: str) -> str:
        if instance == self.instance_a:
            return "a"
        if instance == self.instance_b:
            return "b"
        raise StateError(f"twin {self.id} joins {self.instance_a} and {self.instance_b}, not {instance}",
                         code="K792")


@dataclass(frozen=True, slots=True)
class StoredReplica:
    twin_id: int
    direction: str
    kind: str
    replica: dict[str, Any]
    hash: str
    recorded_at: str


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One replica message waiting for, or past, delivery."""

    id: int
    message_id: str
    twin_id: int
    direction: str
    source_instance: str
    source_key: str
    seq: int
    replica: dict[str, Any]
    state: QueueState
    reason: str | None
    attempts: int
    next_attempt_at: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    at: str
    level: str
    kind: str
    message: str
    twin_id: int | None
    data: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A webhook notice recorded by `rulelang serve`: which issue of which instance changed."""

    delivery_id: str
    instance: str
    key: str
    event: str
    state: str  # pending | done
    received_at: str


class StateStore(ABC):
    """What the engine needs to remember. Times are ISO-8601 UTC text (`2024-05-01T06:30:00.000Z`)."""

    # ---- lifecycle ----
    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Group the calls inside into one atomic step; an exception undoes all of them."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- twins ----
    @abstractmethod
    def ensure_twin(self, instance: str, key: str, other_instance: str) -> Twin:
        """The active twin of `key` on `instance`, created (other side unknown) if there is none."""

    @abstractmethod
    def twin_for(self, instance: str, key: str) -> Twin | None:
        """The active twin holding `key` on `instance`."""

    @abstractmethod
    def get_twin(self, twin_id: int) -> Twin | None: ...

    @abstractmethod
    def link_twin(self, twin_id: int, instance: str, key: str) -> Twin:
        """Record the key on `instance`'s side (after a create or a link).
        StateError K791 when that issue already belongs to another active twin."""

    @abstractmethod
    def unlink_twin(self, twin_id: int) -> None:
        """Stop syncing the pair; its issues may join new twins afterwards."""

    @abstractmethod
    def twins(self, status: str | None = ACTIVE) -> list[Twin]:
        """Twins with this status (None: all), oldest first."""

    # ---- replicas ----
    @abstractmethod
    def last_replica(self, twin_id: int, direction: str, kind: ReplicaKind) -> StoredReplica | None:
        """The last `sent` (queued) or `applied` replica of the twin in this direction."""

    @abstractmethod
    def record_replica(self, twin_id: int, direction: str, kind: ReplicaKind,
                       replica: Mapping[str, Any]) -> StoredReplica: ...

    # ---- id maps: items (comments, attachments, worklogs) and their copies on the other side ----
    @abstractmethod
    def id_map(self, twin_id: int, kind: str, local_instance: str) -> dict[str, str]:
        """{remote id: local id} for items of `kind`, seen from `local_instance`'s side."""

    @abstractmethod
    def map_ids(self, twin_id: int, kind: str, local_instance: str, pairs: Mapping[str, str]) -> None:
        """Remember {remote id: local id}; a remote or local id already mapped is re-mapped."""

    @abstractmethod
    def unmap_ids(self, twin_id: int, kind: str, local_instance: str, remote_ids: Iterable[str]) -> None: ...

    # ---- the queue ----
    @abstractmethod
    def enqueue(self, *, message_id: str, twin_id: int, direction: str, source_instance: str,
                source_key: str, replica: Mapping[str, Any], seq: int | None = None) -> QueueEntry | None:
        """Queue a replica message; `seq` defaults to the twin's next number in this direction.
        None when `message_id` is already queued: a repeat, to acknowledge and ignore."""

    @abstractmethod
    def claim(self, *, direction: str | None = None, limit: int = 1, lease_seconds: float = 300.0
              ) -> list[QueueEntry]:
        """Take up to `limit` deliverable entries (state in_progress, attempts + 1).

        Deliverable: pending and due, or in progress past its lease (its worker died), and
        first of its twin and direction among entries not done, so an entry in error holds
        back the later entries of its own twin only.
        """

    @abstractmethod
    def complete(self, entry_id: int) -> None:
        """Delivered: state done."""

    @abstractmethod
    def postpone(self, entry_id: int, reason: str, delay_seconds: float) -> None:
        """A transient failure: pending again, due after the delay."""

    @abstractmethod
    def fail(self, entry_id: int, reason: str) -> None:
        """A permanent failure: state error until `retry`."""

    @abstractmethod
    def retry(self, entry_ids: Iterable[int] | None = None) -> int:
        """Entries in error (these, or all) become pending and due now; how many."""

    @abstractmethod
    def release_claims(self) -> int:
        """Entries in progress become pending (at start-up, when no other worker runs); how many."""

    @abstractmethod
    def get_entry(self, entry_id: int) -> QueueEntry | None: ...

    @abstractmethod
    def entries(self, *, state: QueueState | None = None, twin_id: int | None = None,
                limit: int | None = None) -> list[QueueEntry]:
        """Queue entries in queue order, filtered."""

    @abstractmethod
    def queue_counts(self) -> dict[str, int]:
        """{state: number of entries} for every state."""

    @abstractmethod
    def purge_done(self, before: str) -> int:
        """Forget done entries updated before this time. Their message ids are forgotten too,
        so purge only past the time a peer could resend them."""

    # ---- idempotent create ----
    @abstractmethod
    def create_intent(self, twin_id: int, instance: str) -> str:
        """The marker to create the twin's issue on `instance` with: recorded (committed) before the
        create call; an unresolved intent from an earlier, interrupted attempt is returned again."""

    @abstractmethod
    def resolve_create(self, marker: str, key: str) -> None:
        """The create with this marker made `key`."""

    # ---- cursors and flags ----
    @abstractmethod
    def cursor(self, instance: str) -> str | None:
        """The updated-since value of the last poll of `instance`."""

    @abstractmethod
    def set_cursor(self, instance: str, value: str) -> None: ...

    @abstractmethod
    def is_paused(self) -> bool: ...

    @abstractmethod
    def set_paused(self, paused: bool) -> None: ...

    # ---- webhook deliveries ----
    @abstractmethod
    def record_delivery(self, delivery_id: str, instance: str, key: str, event: str) -> bool:
        """Remember a webhook notice as pending; False when this delivery id was recorded before (a repeat)."""

    @abstractmethod
    def pending_deliveries(self, limit: int = 500) -> list[Delivery]:
        """Recorded notices not yet handled, oldest first."""

    @abstractmethod
    def finish_deliveries(self, delivery_ids: Iterable[str]) -> None:
        """These notices are handled (their ids are still remembered, to refuse repeats)."""

    @abstractmethod
    def purge_deliveries(self, before: str) -> int:
        """Forget handled notices received before this time; how many."""

    # ---- event log ----
    @abstractmethod
    def log(self, kind: str, message: str, *, level: str = "info", twin_id: int | None = None,
            data: Mapping[str, Any] | None = None) -> None: ...

    @abstractmethod
    def events(self, *, twin_id: int | None = None, limit: int = 100) -> list[Event]:
        """The newest events first."""

