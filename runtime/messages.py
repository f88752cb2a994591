"""Replica messages: the only thing that crosses between a connection's sending half and its receiving half.

The sending half posts each replica to an Outbox as a ReplicaMessage (a
message id, the twin's source key, a per-twin sequence number). The
receiving half's Inbox persists the message in its queue *before* it
acknowledges; a message id it already holds is acknowledged and ignored.
On a single node the DirectOutbox hands messages straight to the Inbox, in
the sender's own transaction, so a cursor advance and the messages it
produced commit together; a two-node transport is another Outbox.

Replicas from outside are untrusted: `check_payload` bounds their size and
depth and refuses NaN, infinities, lone surrogates and integers past int64.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from rulelang.errors import PayloadError
from rulelang.model import ISSUE_FIELDS

from .state import QueueEntry, StateStore

__all__ = [
    "ReplicaMessage", "Ack", "Outbox", "Inbox", "DirectOutbox", "check_payload", "check_replica",
    "new_message_id", "send_failure", "SEND_FAILED", "MAX_PAYLOAD_BYTES", "MAX_DEPTH",
]

MAX_PAYLOAD_BYTES = 1024 * 1024
MAX_DEPTH = 64
_INT64 = 2**63
# A sending-side failure (a rule failed on the source issue) waits in the queue as this one-key document,
# so it holds back its twin's later messages and `retry` re-runs the outgoing rules. Replicas cannot
# carry this key: their top-level keys are issue-model fields (check_replica).
SEND_FAILED = "$send_failed"


def new_message_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class ReplicaMessage:
    """One replica from `source_instance`'s issue `source_key`, travelling `direction` ("A -> B").

    `failure` instead of a replica: the sending half could not build one (the reason, with the rule's
    position); it is parked on arrival. `seq` is the twin's message number, given by the outbox.
    """

    message_id: str
    connection: str
    direction: str
    source_instance: str
    source_key: str
    replica: Mapping[str, Any] = field(default_factory=dict)
    seq: int | None = None
    failure: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"message_id": self.message_id, "connection": self.connection, "direction": self.direction,
               "source_instance": self.source_instance, "source_key": self.source_key,
               "replica": dict(self.replica), "seq": self.seq}
        if self.failure is not None:
            out["failure"] = self.failure
        return out

    @classmethod
    def from_json(cls, doc: Any) -> ReplicaMessage:
        """A message from its JSON form; PayloadError (P620) when it is not one."""
        if not isinstance(doc, Mapping):
            raise PayloadError("a replica message must be a JSON object", code="P620")
        texts = ("message_id", "connection", "direction", "source_instance", "source_key")
        for name in texts:
            if not isinstance(doc.get(name), str) or not doc[name]:
                raise PayloadError(f"replica message: '{name}' must be non-empty text", code="P620")
        seq = doc.get("seq")
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool) or not 0 < seq < _INT64):
            raise PayloadError("replica message: 'seq' must be a positive integer", code="P620")
        failure = doc.get("failure")
        if failure is not None and not isinstance(failure, str):
            raise PayloadError("replica message: 'failure' must be text", code="P620")
        replica = doc.get("replica", {})
        if failure is None:
            check_replica(replica)
        return cls(*(doc[n] for n in texts), replica=replica, seq=seq, failure=failure)


@dataclass(frozen=True)
class Ack:
    """The receiving half's answer: the message is safely stored (or was already: `repeat`)."""

    message_id: str
    twin_id: int
    repeat: bool = False
    seq: int | None = None
    entry_id: int | None = None


class Outbox(Protocol):
    """Where the sending half puts messages; `post` returns once the receiver has acknowledged."""

    def post(self, message: ReplicaMessage) -> Ack: ...


class Inbox:
    """The receiving half's door: persist, then acknowledge; repeats are acknowledged and ignored."""

    def __init__(self, store: StateStore, *, trusted: bool = False) -> None:
        self.store = store
        self.trusted = trusted  # messages from this node's own sending half are not re-checked

    def accept(self, message: ReplicaMessage) -> Ack:
        if message.failure is not None:
            stored: Mapping[str, Any] = {SEND_FAILED: message.failure}
        else:
            if not self.trusted:
                check_replica(message.replica)
            stored = message.replica
        source, _, target = message.direction.partition(" -> ")
        with self.store.transaction():
            twin = self.store.ensure_twin(message.source_instance, message.source_key, target or source)
            entry = self.store.enqueue(message_id=message.message_id, twin_id=twin.id,
                                       direction=message.direction, source_instance=message.source_instance,
                                       source_key=message.source_key, replica=stored, seq=message.seq)
        if entry is None:
            return Ack(message.message_id, twin.id, repeat=True, seq=message.seq)
        return Ack(message.message_id, twin.id, seq=entry.seq, entry_id=entry.id)


class DirectOutbox:
    """Single node: the outbox feeds the inbox directly, inside the caller's transaction."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def post(self, message: ReplicaMessage) -> Ack:
        return self.inbox.accept(message)


def send_failure(entry: QueueEntry) -> str | None:
    """The reason when this queue entry holds a sending-side failure instead of a replica."""
    value = entry.replica.get(SEND_FAILED) if len(entry.replica) == 1 else None
    return value if isinstance(value, str) else None


def check_replica(replica: Any) -> None:
    """A replica is a JSON object of issue-model fields within the payload limits (PayloadError P621)."""
    if not isinstance(replica, Mapping):
        raise PayloadError("a replica must be a JSON object", code="P621")
    for name in replica:
        if name not in ISSUE_FIELDS:
            raise PayloadError(f"a replica has no field '{name}' (extra data travels in custom)", code="P621")
    check_payload(replica, what="replica")


def check_payload(value: Any, *, what: str = "payload", max_bytes: int = MAX_PAYLOAD_BYTES,
                  max_depth: int = MAX_DEPTH) -> None:
    """Raise PayloadError unless `value` is plain JSON within the limits (sandbox.md, untrusted payloads)."""
    _walk(value, 0, what, max_depth)
    try:
        size = len(json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode())
    except (ValueError, UnicodeEncodeError) as e:
        raise PayloadError(f"{what}: not valid JSON ({e})", code="P622") from None
    if size > max_bytes:
        raise PayloadError(f"{what}: {size} bytes, more than the limit of {max_bytes}", code="P623")


def _walk(value: Any, depth: int, what: str, max_depth: int) -> None:
    if depth > max_depth:
        raise PayloadError(f"{what}: nested deeper than {max_depth} levels", code="P624")
    kind = type(value)
    if kind is str:
        _text(value, what)
    elif kind is dict:
        for k, v in value.items():
            if type(k) is not str:
                raise PayloadError(f"{what}: a map key must be text", code="P622")
            _text(k, what)
            _walk(v, depth + 1, what, max_depth)
    elif kind is list:
        for v in value:
            _walk(v, depth + 1, what, max_depth)
    elif kind is int:
        if not -_INT64 <= value < _INT64:
            raise PayloadError(f"{what}: integer {value} is outside int64", code="P625")
    elif kind is float:
        if not math.isfinite(value):
            raise PayloadError(f"{what}: NaN and infinities are not JSON", code="P622")
    elif value is not None and kind is not bool:
        raise PayloadError(f"{what}: {kind.__name__} is not a JSON value", code="P622")


def _text(value: str, what: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadError(f"{what}: text with a lone surrogate", code="P622") from None
