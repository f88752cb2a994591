"""apply(): every change-set operation, idempotent create through markers, and all-or-nothing."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from connectors.local import LocalTracker
from runtime.changes import AddItem, ChangeSet, DeleteItem, LinkIssue, MoveStatus, SetField, UpdateItem
from runtime.connector import Applied, PermanentError


@pytest.fixture
def dev(tmp_path: Path):
    tracker = LocalTracker(tmp_path / "dev", workflow=["To Do", "In Progress", "Done"])
    tracker.add_user("ada@acme.example", "Ada")
    yield tracker
    tracker.close()


def first_sync(marker_items: bool = True) -> ChangeSet:
    ops = [SetField(("project",), "DEV"), SetField(("type",), "Bug"), SetField(("summary",), "[QA] Login fails"),
           SetField(("labels",), ["qa", "login"]), SetField(("custom", "Story Points"), 5),
           MoveStatus("In Progress")]
    if marker_items:
        ops += [AddItem("comments", "c-100", {"id": "c-100", "body": "first", "author": {"email": "ada@acme.example"},
                                              "created": "2020-01-01T00:00:00Z"}),
                AddItem("attachments", "a-200", {"filename": "log.txt",
                                                 "content_base64": base64.b64encode(b"boom").decode()}),
                AddItem("worklogs", "w-300", {"seconds": 600, "comment": "triage"})]
    return ChangeSet(True, tuple(ops))


def test_create_sets_fields_status_and_items(dev: LocalTracker) -> None:
    applied = dev.apply(None, first_sync(), marker="rulelang-abc")
    assert isinstance(applied, Applied) and applied.key == "DEV-1" and applied.created
    assert set(applied.created_ids) == {"comments", "attachments", "worklogs"}
    issue = dev.get_issue("DEV-1")
    assert issue is not None
    assert (issue["type"], issue["summary"], issue["status"], issue["labels"], issue["custom"]) == (
        "Bug", "[QA] Login fails", "In Progress", ["qa", "login"], {"Story Points": 5})
    [comment], [attachment], [worklog] = issue["comments"], issue["attachments"], issue["worklogs"]
    assert comment["id"] == applied.created_ids["comments"]["c-100"] and comment["body"] == "first"
    assert comment["author"] == {"id": "u1", "email": "ada@acme.example", "name": "Ada"}
    assert comment["created"] == issue["created"]  # the tracker's own time, not the replica's
    assert (attachment["filename"], attachment["size"], attachment["mime_type"]) == ("log.txt", 4, "text/plain")
    path = dev.attachment_path(attachment["id"])
    assert path is not None and path.read_bytes() == b"boom"
    assert (worklog["seconds"], worklog["started"]) == (600, issue["created"])
    assert dev.find_by_marker("rulelang-abc") == "DEV-1"
    assert dev.find_by_marker("rulelang-other") is None


def test_a_retried_create_finds_its_marker_and_duplicates_nothing(dev: LocalTracker) -> None:
    first = dev.apply(None, first_sync(), marker="rulelang-abc")
    updated = dev.get_issue(first.key)["updated"]  # type: ignore[index]
    again = dev.apply(None, first_sync(), marker="rulelang-abc")  # the engine crashed before recording
    assert again == first
    issue = dev.get_issue(first.key)
    assert issue is not None and issue["updated"] == updated  # nothing changed
    assert len(issue["comments"]) == len(issue["attachments"]) == len(issue["worklogs"]) == 1
    assert [i["key"] for i in dev.list_issues()] == ["DEV-1"]
    # a retry whose rules ran again on a newer replica brings the newer values, still no second comment
    newer = ChangeSet(True, (SetField(("summary",), "[QA] Login fails on Safari"),
                             AddItem("comments", "c-100", {"body": "first"}),
                             AddItem("comments", "c-101", {"body": "second"})))
    third = dev.apply(None, newer, marker="rulelang-abc")
    assert third.key == first.key and third.created
    assert third.created_ids["comments"]["c-100"] == first.created_ids["comments"]["c-100"]
    issue = dev.get_issue(first.key)
    assert issue is not None and issue["summary"] == "[QA] Login fails on Safari"
    assert [c["body"] for c in issue["comments"]] == ["first", "second"]


def test_without_a_marker_each_create_is_new(dev: LocalTracker) -> None:
    assert dev.apply(None, first_sync(False)).key == "DEV-1"
    assert dev.apply(None, first_sync(False)).key == "DEV-2"


def test_update_an_existing_issue(dev: LocalTracker) -> None:
    key = dev.create_issue({"summary": "old", "labels": ["a"], "custom": {"Keep": 1, "Drop": 2}})
    parent = dev.create_issue({"summary": "epic"})
    changes = ChangeSet(False, (
        SetField(("summary",), "new"), SetField(("description",), "**bold**\n"),
        SetField(("labels",), "single"), SetField(("components",), ["UI"]), SetField(("fix_versions",), ["2.0"]),
        SetField(("affects_versions",), ["1.9"]), SetField(("priority",), "High"),
        SetField(("resolution",), "Fixed"), SetField(("assignee",), {"email": "ada@acme.example", "name": "x"}),
        SetField(("reporter",), "nobody@else.example"), SetField(("due",), "2024-07-01"),
        SetField(("parent",), parent), SetField(("links",), [{"type": "blocks", "key": parent}]),
        SetField(("custom", "Drop"), None), SetField(("custom", "Sev"), {"value": "S1"}),
        MoveStatus("done")))
    applied = dev.apply(key, changes)
    assert applied == Applied(key, False, {})
    issue = dev.get_issue(key)
    assert issue is not None
    assert {k: issue[k] for k in ("summary", "description", "labels", "components", "fix_versions",
                                  "affects_versions", "priority", "resolution", "due", "parent", "links",
                                  "custom", "status")} == {
        "summary": "new", "description": "**bold**\n", "labels": ["single"], "components": ["UI"],
        "fix_versions": ["2.0"], "affects_versions": ["1.9"], "priority": "High", "resolution": "Fixed",
        "due": "2024-07-01", "parent": parent, "links": [{"type": "blocks", "key": parent}],
        "custom": {"Keep": 1, "Sev": {"value": "S1"}}, "status": "Done"}
    assert issue["assignee"] == {"id": "u1", "email": "ada@acme.example", "name": "Ada"}
    assert issue["reporter"] == {"id": None, "email": "nobody@else.example", "name": "nobody@else.example"}
    # clearing
    dev.apply(key, ChangeSet(False, (SetField(("assignee",), None), SetField(("labels",), None),
                                     SetField(("due",), None))))
    issue = dev.get_issue(key)
    assert issue is not None and (issue["assignee"], issue["labels"], issue["due"]) == (None, [], None)


def test_link_applies_to_the_existing_issue(dev: LocalTracker) -> None:
    key = dev.create_issue({"summary": "already here"})
    applied = dev.apply(None, ChangeSet(False, (LinkIssue(key), SetField(("priority",), "Low"))))
    assert applied == Applied(key, False, {})
    assert dev.get_issue(key)["priority"] == "Low"  # type: ignore[index]
    with pytest.raises(PermanentError, match="DEV-9: issue DEV-9 does not exist"):
        dev.apply(None, ChangeSet(False, (LinkIssue("DEV-9"),)))


def test_item_updates_and_deletes(dev: LocalTracker) -> None:
    created = dev.apply(None, first_sync(), marker="m")
    key, ids = created.key, created.created_ids
    attachment_file = dev.attachment_path(ids["attachments"]["a-200"])
    assert attachment_file is not None and attachment_file.exists()
    before = dev.get_issue(key)["updated"]  # type: ignore[index]
    applied = dev.apply(key, ChangeSet(False, (
        UpdateItem("comments", "c-100", ids["comments"]["c-100"], {"body": "first, edited", "internal": True}),
        UpdateItem("worklogs", "w-300", ids["worklogs"]["w-300"], {"seconds": 900}),
        UpdateItem("attachments", "a-200", ids["attachments"]["a-200"], {"filename": "log-1.txt"}),
        AddItem("comments", "c-101", {"body": "another"}),
    )))
    assert list(applied.created_ids) == ["comments"] and "c-101" in applied.created_ids["comments"]
    issue = dev.get_issue(key)
    assert issue is not None and issue["updated"] > before
    [c1, c2] = issue["comments"]
    assert (c1["body"], c1["internal"], c1["updated"] > c1["created"]) == ("first, edited", True, True)
    assert (c2["body"], c2["internal"]) == ("another", False)
    assert issue["worklogs"][0]["seconds"] == 900 and issue["worklogs"][0]["comment"] == "triage"
    assert issue["attachments"][0]["filename"] == "log-1.txt"
    deletes = ChangeSet(False, (DeleteItem("comments", "c-100", ids["comments"]["c-100"]),
                                DeleteItem("attachments", "a-200", ids["attachments"]["a-200"]),
                                DeleteItem("worklogs", "w-300", ids["worklogs"]["w-300"])))
    dev.apply(key, deletes)
    issue = dev.get_issue(key)
    assert issue is not None
    assert ([c["body"] for c in issue["comments"]], issue["attachments"], issue["worklogs"]) == (["another"], [], [])
    assert not attachment_file.exists()
    dev.apply(key, deletes)  # deleting again (a retried change set) is fine
    with pytest.raises(PermanentError, match="comment 1 of DEV-1 does not exist"):
        dev.apply(key, ChangeSet(False, (UpdateItem("comments", "c-100", "1", {"body": "x"}),)))
    worklog = dev.add_worklog(key, 60)
    with pytest.raises(PermanentError, match=f"comment {worklog} of DEV-1 does not exist"):  # not a comment's id
        dev.apply(key, ChangeSet(False, (UpdateItem("comments", "c-100", worklog, {"body": "x"}),)))


def test_attachment_without_content_is_metadata_only(dev: LocalTracker) -> None:
    key = dev.create_issue({"summary": "x"})
    applied = dev.apply(key, ChangeSet(False, (AddItem("attachments", "r1", {"filename": "big.iso",
                                                                             "size": 10_000_000}),)))
    attachment_id = applied.created_ids["attachments"]["r1"]
    assert dev.get_issue(key)["attachments"][0]["size"] == 10_000_000  # type: ignore[index]
    assert dev.attachment_path(attachment_id) is None


def test_an_empty_change_set_changes_nothing(dev: LocalTracker) -> None:
    key = dev.create_issue({"summary": "x"})
    before = dev.get_issue(key)
    assert dev.apply(key, ChangeSet(False)) == Applied(key)
    assert dev.apply(key, ChangeSet(False, (SetField(("summary",), "x"),))) == Applied(key)
    assert dev.get_issue(key) == before


@pytest.mark.parametrize(("key", "changes", "message"), [
    (None, ChangeSet(True, (SetField(("type",), "Bug"),)), "new issue: an issue needs a summary"),
    (None, ChangeSet(True, (LinkIssue("DEV-1"), SetField(("summary",), "x"))),
     "DEV-1: a change set either creates an issue or links to one, not both"),
    (None, ChangeSet(False, (SetField(("summary",), "x"),)), "new issue: no issue to change: give a key, a link or create"),
    ("DEV-1", ChangeSet(False, (MoveStatus("Closed"),)),
     "DEV-1: status 'Closed' is not in the workflow of DEV; allowed: To Do, In Progress, Done"),
    ("DEV-1", ChangeSet(False, (SetField(("prority",), "High"),)), "DEV-1: unknown field 'prority' (did you mean 'priority'?)"),
    ("DEV-1", ChangeSet(False, (SetField(("key",), "DEV-2"),)), "DEV-1: 'key' is read-only"),
    ("DEV-1", ChangeSet(False, (SetField(("assignee", "email"), "x"),)), "DEV-1: cannot set 'assignee.email'"),
    ("DEV-1", ChangeSet(False, (SetField(("custom", "Bad"), {1, 2}),)), "DEV-1: custom field 'Bad' must hold a JSON value"),
    ("DEV-1", ChangeSet(False, (SetField(("custom",), {"Bad": float("nan")}),)),
     "DEV-1: custom field 'Bad' must hold a JSON value"),
    ("DEV-1", ChangeSet(False, (AddItem("issues", "r", {}),)),
     "DEV-1: unknown item kind 'issues' (one of comments, attachments, worklogs)"),
    ("DEV-1", ChangeSet(False, (AddItem("comments", "r", {"body": "x", "autor": "a"}),)),
     "DEV-1: unknown comment field 'autor' (did you mean 'author'?)"),
    ("DEV-1", ChangeSet(False, (AddItem("attachments", "r", {"filename": "a", "content_base64": "%%"}),)),
     "DEV-1: 'content_base64' is not base64 text"),
    ("DEV-1", ChangeSet(False, (AddItem("worklogs", "r", {"seconds": 60, "started": "noon"}),)),
     "DEV-1: 'started' must be a date-time, found \"noon\""),
    ("DEV-404", ChangeSet(False, (SetField(("summary",), "x"),)), "DEV-404: issue DEV-404 does not exist"),
])
def test_refusals_are_permanent_errors(dev: LocalTracker, key: str | None, changes: ChangeSet, message: str) -> None:
    dev.create_issue({"summary": "x"})
    with pytest.raises(PermanentError) as caught:
        dev.apply(key, changes)
    assert caught.value.diagnostic.message == message
    assert caught.value.diagnostic.code == "T802"


def test_a_failing_change_set_leaves_no_trace(tmp_path: Path, dev: LocalTracker) -> None:
    key = dev.create_issue({"summary": "x"})
    before = dev.get_issue(key)
    bad = ChangeSet(False, (SetField(("summary",), "changed"),
                            AddItem("comments", "c1", {"body": "posted?"}),
                            AddItem("attachments", "a1", {"filename": "f.bin", "content": b"data"}),
                            AddItem("worklogs", "w1", {"seconds": -5})))
    with pytest.raises(PermanentError, match="'seconds' must be a whole number above 0"):
        dev.apply(key, bad)
    assert dev.get_issue(key) == before
    attachments = tmp_path / "dev" / "attachments"
    assert not attachments.exists() or list(attachments.iterdir()) == []
    failed_create = ChangeSet(True, (SetField(("summary",), "y"), MoveStatus("Nope")))
    with pytest.raises(PermanentError):
        dev.apply(None, failed_create, marker="m-1")
    assert dev.find_by_marker("m-1") is None
    assert dev.create_issue({"summary": "next"}) == "DEV-2"  # the failed create used no number
