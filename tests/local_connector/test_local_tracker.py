"""The local tracker for people and for polling: issues, stamps, search, workflow, users, bad stored data."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from connectors.local import TRACKER_FILE, LocalTracker
from rulelang.errors import ConfigError, PayloadError
from runtime.connector import Connector, PermanentError

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def qa(tmp_path: Path):
    tracker = LocalTracker(tmp_path / "qa")
    yield tracker
    tracker.close()


def test_it_is_a_connector_and_keys_follow_the_project(tmp_path: Path, qa: LocalTracker) -> None:
    assert isinstance(qa, Connector)
    assert qa.project == "QA"  # from the folder's name
    assert [qa.create_issue({"summary": f"s{i}"}) for i in range(3)] == ["QA-1", "QA-2", "QA-3"]
    assert (tmp_path / "qa" / TRACKER_FILE).exists()
    with LocalTracker(tmp_path / "other", project="DEV") as dev:
        assert dev.create_issue({"summary": "x"}) == "DEV-1"
    with LocalTracker(tmp_path / "other") as again:
        assert again.project == "DEV"
    with pytest.raises(ConfigError, match="holds project DEV, not OPS"):
        LocalTracker(tmp_path / "other", project="OPS")
    with pytest.raises(ConfigError, match="capital letters"):
        LocalTracker(tmp_path / "third", project="dev team")
    with LocalTracker(tmp_path / "123") as odd:
        assert odd.project == "PROJ"


def test_a_new_issue_has_every_model_field(qa: LocalTracker) -> None:
    key = qa.create_issue({"summary": "Login fails", "type": "Bug", "labels": "ui", "priority": "High",
                           "description": "# Steps\n\n1. open", "due": "2024-06-15T10:00:00+02:00",
                           "custom": {"Story Points": 3}})
    issue = qa.get_issue(key)
    assert issue is not None
    assert list(issue) == ["key", "project", "type", "summary", "description", "status", "priority",
                           "resolution", "labels", "components", "fix_versions", "affects_versions", "assignee",
                           "reporter", "due", "created", "updated", "parent", "links", "comments", "attachments",
                           "worklogs", "custom"]
    assert issue["key"] == key and issue["project"] == "QA" and issue["status"] == "To Do"
    assert issue["labels"] == ["ui"] and issue["due"] == "2024-06-15" and issue["custom"] == {"Story Points": 3}
    assert issue["description"] == "# Steps\n\n1. open"
    assert STAMP.match(issue["created"]) and issue["created"] == issue["updated"]
    assert qa.get_issue("QA-99") is None
    with pytest.raises(PayloadError, match="new issue: an issue needs a summary"):
        qa.create_issue({"type": "Bug"})


def test_updated_is_strictly_increasing_and_only_moves_on_change(tmp_path: Path, qa: LocalTracker) -> None:
    key = qa.create_issue({"summary": "s"})
    other = LocalTracker(tmp_path / "qa")  # a second writer on the same folder (the CLI, say)
    stamps = []
    for i in range(30):
        (qa if i % 2 else other).edit_issue(key, {"summary": f"s{i}"})
        stamps.append(qa.get_issue(key)["updated"])  # type: ignore[index]
    other.close()
    assert all(STAMP.match(s) for s in stamps)
    assert stamps == sorted(set(stamps)), "every change gets its own, later stamp"
    qa.edit_issue(key, {"summary": "s29"})  # same value: nothing changed
    assert qa.get_issue(key)["updated"] == stamps[-1]  # type: ignore[index]
    qa.add_comment(key, "a comment is a change of the issue")
    assert qa.get_issue(key)["updated"] > stamps[-1]  # type: ignore[index,operator]


def test_search_by_query_and_updated_since_oldest_change_first(qa: LocalTracker) -> None:
    a = qa.create_issue({"summary": "a", "type": "Bug", "labels": ["to-dev"]})
    b = qa.create_issue({"summary": "b", "type": "Task"})
    c = qa.create_issue({"summary": "c", "type": "Bug"})
    qa.edit_issue(a, {"priority": "High"})  # a is now the latest change
    assert [i["key"] for i in qa.search()] == [b, c, a]
    assert [i["key"] for i in qa.search("issuetype = Bug")] == [c, a]
    assert [i["key"] for i in qa.search('issuetype = Bug AND labels = "to-dev" ORDER BY key')] == [a]
    since = qa.get_issue(c)["updated"]  # type: ignore[index]
    assert [i["key"] for i in qa.search(updated_since=since)] == [c, a]  # at or after
    # the same instant written with an offset means the same
    assert [i["key"] for i in qa.search(updated_since=since[:-1] + "+00:00")] == [c, a]
    assert [i["key"] for i in qa.list_issues("type = Bug")] == [a, c]
    with pytest.raises(ConfigError, match="unknown field 'stauts'"):
        qa.search("stauts = Open")
    with pytest.raises(PermanentError, match="ISO-8601"):
        qa.search(updated_since="yesterday")


def test_a_cursor_over_updated_never_misses_a_change(qa: LocalTracker) -> None:
    seen: list[tuple[str, str]] = []
    cursor = None
    for round_ in range(5):
        for i in range(3):
            qa.create_issue({"summary": f"r{round_}-{i}"})
        for issue in qa.search(updated_since=cursor):
            if (issue["key"], issue["updated"]) not in seen:
                seen.append((issue["key"], issue["updated"]))
            cursor = issue["updated"]
    assert len(seen) == 15


def test_workflow_limits_statuses_and_is_remembered(tmp_path: Path) -> None:
    with LocalTracker(tmp_path / "dev", workflow=["Open", "In Progress", "Done"]) as dev:
        key = dev.create_issue({"summary": "x"})
        assert dev.get_issue(key)["status"] == "Open"  # type: ignore[index]
        dev.edit_issue(key, {"status": "in progress"})
        assert dev.get_issue(key)["status"] == "In Progress"  # type: ignore[index]
    with LocalTracker(tmp_path / "dev") as dev:
        assert dev.workflow == ("Open", "In Progress", "Done")
        with pytest.raises(PermanentError) as caught:
            dev.edit_issue(key, {"status": "Closed"})
        assert caught.value.diagnostic.message == (
            "DEV-1: status 'Closed' is not in the workflow of DEV; allowed: Open, In Progress, Done")
    with pytest.raises(ConfigError, match="distinct"):
        LocalTracker(tmp_path / "dev", workflow=["Open", "open"])


def test_without_a_workflow_any_status_goes(qa: LocalTracker) -> None:
    key = qa.create_issue({"summary": "x", "status": "Waiting for Godot"})
    assert qa.get_issue(key)["status"] == "Waiting for Godot"  # type: ignore[index]


def test_users_are_seeded_and_looked_up(qa: LocalTracker) -> None:
    ada = qa.add_user("ada@acme.example", "Ada Lovelace")
    assert qa.lookup_user("ADA@acme.example") == ada == {"id": "u1", "email": "ada@acme.example",
                                                         "name": "Ada Lovelace"}
    assert qa.lookup_user("bob@acme.example") is None
    assert qa.add_user("ada@acme.example", "Ada King")["id"] == "u1"
    key = qa.create_issue({"summary": "x", "assignee": "ada@acme.example",
                           "reporter": {"email": "eve@else.example", "name": "Eve"}})
    issue = qa.get_issue(key)
    assert issue is not None
    assert issue["assignee"] == {"id": "u1", "email": "ada@acme.example", "name": "Ada King"}
    assert issue["reporter"] == {"id": None, "email": "eve@else.example", "name": "Eve"}
    qa.edit_issue(key, {"assignee": "Ada King"})  # by name works too
    assert qa.get_issue(key)["assignee"]["id"] == "u1"  # type: ignore[index]
    with pytest.raises(PayloadError, match="not an e-mail"):
        qa.add_user("ada")
    assert qa.add_user("cy@acme.example", "Cy", id="u3")["id"] == "u3"
    assert qa.add_user("dee@acme.example", "Dee")["id"] == "u4"  # u3 is taken: never two users, one id
    with pytest.raises(PayloadError, match="is user u1 already, not u9"):
        qa.add_user("ada@acme.example", id="u9")
    assert len(qa.users()) == 3


@pytest.mark.parametrize(("fields", "message"), [
    ({"sumary": "x"}, "QA-1: unknown field 'sumary' (did you mean 'summary'?)"),
    ({"labels": 3}, "QA-1: 'labels' must be a list of text, found 3"),
    ({"due": "soon"}, "QA-1: 'due' must be a date like 2024-06-15, found \"soon\""),
    ({"updated": "2024-01-01"}, "QA-1: 'updated' is read-only"),
    ({"comments": []}, "QA-1: 'comments' changes through its own operations (add, update, delete), not as a field"),
    ({"parent": "QA-9"}, "QA-1: parent QA-9 does not exist"),
    ({"parent": "QA-1"}, "QA-1: an issue cannot be its own parent"),
    ({"assignee": 5}, "QA-1: a user must be an e-mail, a name or {id, email, name}, found 5"),
    ({"links": [{"type": "blocks"}]}, "QA-1: 'links' must be a list of {type, key}, found [{\"type\": \"blocks\"}]"),
    ({"project": "DEV"}, "QA-1: this tracker holds project QA only, not \"DEV\""),
    ({"summary": "  "}, "QA-1: an issue needs a summary"),
])
def test_bad_values_are_refused_with_the_issue_key(qa: LocalTracker, fields: dict, message: str) -> None:
    key = qa.create_issue({"summary": "x"})
    before = qa.get_issue(key)
    with pytest.raises(PayloadError) as caught:
        qa.edit_issue(key, fields)
    assert caught.value.diagnostic.message == message
    assert qa.get_issue(key) == before


def test_custom_fields_merge_by_name(qa: LocalTracker) -> None:
    key = qa.create_issue({"summary": "x", "custom": {"A": 1, "B": [1, 2]}})
    qa.edit_issue(key, {"custom": {"A": None, "C": {"value": "x"}}})
    assert qa.get_issue(key)["custom"] == {"B": [1, 2], "C": {"value": "x"}}  # type: ignore[index]


def test_comments_attachments_and_worklogs_by_hand(tmp_path: Path, qa: LocalTracker) -> None:
    qa.add_user("ada@acme.example", "Ada")
    key = qa.create_issue({"summary": "x"})
    c = qa.add_comment(key, "hello", author="ada@acme.example", internal=True)
    a = qa.add_attachment(key, "../../etc/shot 1.png", b"\x89PNG data")
    w = qa.add_worklog(key, 3600, started="2024-05-01T10:00:00+02:00", comment="triage")
    issue = qa.get_issue(key)
    assert issue is not None
    [comment] = issue["comments"]
    assert STAMP.match(comment["created"]) and comment["created"] == comment["updated"] < issue["updated"]
    assert comment == {"id": c, "author": {"id": "u1", "email": "ada@acme.example", "name": "Ada"},
                       "body": "hello", "created": comment["created"], "updated": comment["created"],
                       "internal": True}
    [att] = issue["attachments"]
    assert (att["id"], att["filename"], att["size"], att["mime_type"]) == (a, "../../etc/shot 1.png", 9, "image/png")
    path = qa.attachment_path(a)
    assert path is not None and path.read_bytes() == b"\x89PNG data"
    assert path.parent == tmp_path / "qa" / "attachments"  # the file name cannot climb out
    assert issue["worklogs"] == [{"id": w, "author": None, "started": "2024-05-01T08:00:00.000Z",
                                  "seconds": 3600, "comment": "triage"}]
    with pytest.raises(PayloadError, match="'seconds' must be a whole number above 0"):
        qa.add_worklog(key, 0)
    with pytest.raises(PermanentError, match="QA-7 does not exist"):
        qa.show("QA-7")
    with pytest.raises(PayloadError, match="issue QA-7 does not exist"):
        qa.add_comment("QA-7", "x")


def test_malformed_stored_data_spoils_only_its_own_issue(tmp_path: Path, qa: LocalTracker) -> None:
    good = qa.create_issue({"summary": "good"})
    bad_json = qa.create_issue({"summary": "bad json"})
    bad_type = qa.create_issue({"summary": "bad type"})
    bad_comment = qa.create_issue({"summary": "bad comment"})
    qa.add_comment(bad_comment, "x")
    conn = sqlite3.connect(tmp_path / "qa" / TRACKER_FILE)  # a person editing the file by hand
    with conn:
        conn.execute("UPDATE issues SET fields = '{\"summary\": ' WHERE key = ?", (bad_json,))
        conn.execute("UPDATE issues SET fields = '{\"summary\": \"x\", \"labels\": \"a\"}' WHERE key = ?",
                     (bad_type,))
        conn.execute("UPDATE items SET data = '[1]' WHERE issue_key = ?", (bad_comment,))
    conn.close()
    assert [i["key"] for i in qa.search()] == [good]
    assert [str(e.diagnostic.message) for e in qa.errors] == [
        "issue QA-2: stored fields are not valid JSON (Expecting value at character 12)",
        "issue QA-3: 'labels' must be a list of text, found \"a\"",
        "issue QA-4: comment 1: stored data must be a JSON object",
    ]
    assert all(e.diagnostic.code == "P610" for e in qa.errors)
    with pytest.raises(PayloadError, match="issue QA-3: 'labels'"):
        qa.get_issue(bad_type)
    assert [i["key"] for i in qa.list_issues()] == [good] and len(qa.errors) == 3
    exported = qa.export()
    assert [i["key"] for i in exported["issues"]] == [good] and len(exported["errors"]) == 3
    json.dumps(exported)
    assert [i["key"] for i in qa.search("summary ~ good")] == [good]


def test_show_and_export_are_for_people(qa: LocalTracker) -> None:
    qa.add_user("ada@acme.example", "Ada")
    key = qa.create_issue({"summary": "Login fails", "type": "Bug", "labels": ["ui", "auth"],
                           "assignee": "ada@acme.example", "description": "Steps:\n1. open",
                           "custom": {"Severity": "S2"}})
    qa.add_comment(key, "Seen on staging", author="ada@acme.example")
    text = qa.show(key)
    assert text.splitlines()[0] == "QA-1  Bug  [To Do]  Login fails"
    for part in ("  assignee: Ada <ada@acme.example>", "  labels: ui, auth", '  Severity: "S2"', "  Steps:",
                 "    Seen on staging"):
        assert part in text.splitlines(), part
    assert "  comment 1 by Ada <ada@acme.example>, 20" in text
    exported = qa.export()
    assert exported["project"] == "QA" and exported["users"][0]["email"] == "ada@acme.example"
    assert exported["issues"][0]["comments"][0]["body"] == "Seen on staging"


def test_a_user_from_the_other_tracker_is_matched_by_email_not_by_its_foreign_id(qa: LocalTracker) -> None:
    qa.add_user("ada@acme.example", "Ada Lovelace")  # u1
    tom = qa.add_user("tom@acme.example", "Tom Becker")  # u2
    key = qa.create_issue({"summary": "x"})
    # The other tracker's id "u1" belongs to Tom there; the e-mail says who wrote it.
    cid = qa.add_comment(key, "hello", author={"id": "u1", "email": "tom@acme.example", "name": "Tom"})
    comment = next(c for c in qa.get_issue(key)["comments"] if c["id"] == cid)  # type: ignore[index]
    assert comment["author"] == tom
