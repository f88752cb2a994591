"""batch(): the writes inside commit once, together; each stays atomic on its own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from connectors.local import LocalTracker
from connectors.local.tracker import TRACKER_FILE
from runtime.changes import AddItem, ChangeSet, DeleteItem, SetField
from runtime.connector import PermanentError


def _new(summary: str) -> ChangeSet:
    return ChangeSet(True, (SetField(("summary",), summary),))


def _committed(folder: Path) -> list[str]:
    """The summaries another connection sees."""
    with sqlite3.connect(folder / TRACKER_FILE) as db:
        return sorted(db.execute("SELECT json_extract(fields, '$.summary') FROM issues").fetchall())


def test_writes_in_a_batch_commit_together_and_a_refused_one_alone_is_undone(tmp_path: Path) -> None:
    with LocalTracker(tmp_path / "dev", project="DEV") as dev:
        with dev.batch():
            first = dev.apply(None, _new("one"), marker="m1")
            with pytest.raises(PermanentError):
                dev.apply(None, ChangeSet(True, (SetField(("summary",), "two"), SetField(("labels",), 5))))
            third = dev.apply(None, _new("three"), marker="m3")
            assert _committed(tmp_path / "dev") == []  # nothing committed yet
            assert dev.get_issue(first.key)["summary"] == "one"  # but the batch reads its own writes
        assert _committed(tmp_path / "dev") == [("one",), ("three",)]
        stamps = [dev.get_issue(k)["updated"] for k in (first.key, third.key)]
        assert stamps[0] < stamps[1]  # each write still has its own stamp


def test_an_exception_in_the_block_keeps_the_writes_before_it(tmp_path: Path) -> None:
    with LocalTracker(tmp_path / "dev", project="DEV") as dev:
        with pytest.raises(KeyboardInterrupt), dev.batch():
            dev.apply(None, _new("one"), marker="m1")
            raise KeyboardInterrupt
        assert _committed(tmp_path / "dev") == [("one",)]
        assert dev.find_by_marker("m1") is not None


def test_a_deleted_attachment_keeps_its_file_until_the_batch_commits(tmp_path: Path) -> None:
    with LocalTracker(tmp_path / "dev", project="DEV") as dev:
        created = dev.apply(None, ChangeSet(True, (SetField(("summary",), "s"), AddItem(
            "attachments", "a1", {"filename": "f.bin", "content": b"data"}))))
        local = created.created_ids["attachments"]["a1"]
        path = dev.attachment_path(local)
        assert path is not None and path.exists()
        with dev.batch():
            dev.apply(created.key, ChangeSet(False, (DeleteItem("attachments", "a1", local),)))
            assert path.exists()  # a crash now would undo the delete: the item needs its file
        assert not path.exists()
