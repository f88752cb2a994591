"""The state store's webhook deliveries: a delivery id is recorded once, kept across a reopen, then purged."""

from __future__ import annotations

from pathlib import Path

from runtime.state import open_state, state_path


def test_deliveries_are_recorded_once_and_survive_a_reopen(tmp_path: Path) -> None:
    path = state_path(tmp_path)
    with open_state(path) as store:
        assert store.record_delivery("Dev/abc", "Dev", "DEV-1", "jira:issue_updated") is True
        assert store.record_delivery("Dev/abc", "Dev", "DEV-1", "jira:issue_updated") is False
        assert store.record_delivery("Dev/def", "Dev", "DEV-2", "comment_created") is True
        assert [(d.delivery_id, d.key, d.event, d.state) for d in store.pending_deliveries()] == [
            ("Dev/abc", "DEV-1", "jira:issue_updated", "pending"), ("Dev/def", "DEV-2", "comment_created", "pending")]
        store.finish_deliveries(["Dev/abc"])
    with open_state(path) as store:
        assert [d.delivery_id for d in store.pending_deliveries()] == ["Dev/def"]
        assert store.record_delivery("Dev/abc", "Dev", "DEV-1", "jira:issue_updated") is False  # still known
        assert store.purge_deliveries("9999-01-01T00:00:00.000Z") == 1  # handled ones only
        assert store.record_delivery("Dev/abc", "Dev", "DEV-1", "jira:issue_updated") is True
        assert len(store.pending_deliveries(limit=1)) == 1
