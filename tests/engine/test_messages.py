"""Replica messages between the halves: persisted before acknowledged, repeats ignored, untrusted ones checked."""

from __future__ import annotations

import math

import pytest

from rulelang.errors import PayloadError
from runtime.messages import (
    SEND_FAILED,
    DirectOutbox,
    Inbox,
    ReplicaMessage,
    check_payload,
    check_replica,
    new_message_id,
    send_failure,
)
from runtime.state import open_state


@pytest.fixture
def store(tmp_path):
    with open_state(tmp_path / "state.sqlite") as s:
        yield s


def _message(**kw) -> ReplicaMessage:
    base = {"message_id": new_message_id(), "connection": "c", "direction": "QA -> Dev", "source_instance": "QA",
            "source_key": "QA-1", "replica": {"key": "QA-1", "summary": "hello"}}
    return ReplicaMessage(**(base | kw))


def test_a_message_is_queued_once_and_numbered_per_twin(store):
    outbox = DirectOutbox(Inbox(store))
    first = _message()
    ack = outbox.post(first)
    assert not ack.repeat and ack.seq == 1 and ack.entry_id is not None
    again = outbox.post(first)
    assert again.repeat and again.twin_id == ack.twin_id
    second = outbox.post(_message(replica={"key": "QA-1", "summary": "again"}))
    assert second.seq == 2
    assert [e.seq for e in store.entries(twin_id=ack.twin_id)] == [1, 2]


def test_json_round_trip_and_refusals():
    m = _message(seq=3)
    assert ReplicaMessage.from_json(m.to_json()) == m
    for bad in ({}, {**m.to_json(), "seq": -1}, {**m.to_json(), "source_key": ""},
                {**m.to_json(), "replica": {"summary": "x", "nonsense": 1}}, [1, 2]):
        with pytest.raises(PayloadError):
            ReplicaMessage.from_json(bad)


@pytest.mark.parametrize("payload,code", [
    ({"summary": math.nan}, "P622"), ({"summary": "\ud800"}, "P622"), ({"custom": {"n": 2**70}}, "P625"),
    ({"description": "x" * (1024 * 1024 + 1)}, "P623"), (None, "P624"),
])
def test_untrusted_payloads_are_bounded(payload, code):
    if payload is None:  # nested deeper than allowed
        deep: object = "leaf"
        for _ in range(80):
            deep = [deep]
        payload = {"custom": {"deep": deep}}
    with pytest.raises(PayloadError) as e:
        check_replica(payload)
    assert e.value.diagnostic.code == code


def test_an_untrusted_inbox_checks_and_a_failure_is_kept_as_one(store):
    with pytest.raises(PayloadError):
        Inbox(store).accept(_message(replica={"summary": math.inf}))
    ack = Inbox(store).accept(_message(failure="qa-out.rules:3:5: error X490: no"))
    (entry,) = [e for e in store.entries() if e.id == ack.entry_id]
    assert entry.replica == {SEND_FAILED: "qa-out.rules:3:5: error X490: no"}
    assert send_failure(entry) == "qa-out.rules:3:5: error X490: no"
    check_payload({"ok": [1, 2.5, True, None, "x"]})
