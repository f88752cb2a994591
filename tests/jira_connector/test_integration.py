"""The Jira connector over real HTTP against the test server, in both flavours."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import httpx
import pytest

from runtime.changes import AddItem, ChangeSet, DeleteItem, MoveStatus, SetField, UpdateItem
from runtime.connector import Connector, PermanentError, TransientError
from tests.jira_server import JiraServer

from .conftest import connector_for

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def create_changes(*extra) -> ChangeSet:
    return ChangeSet(True, (
        SetField(("summary",), "Login fails"),
        SetField(("description",), "Steps:\n\n1. open\n2. **click**"),
        SetField(("type",), "Bug"),
        SetField(("labels",), ["from-qa"]),
        SetField(("custom", "Story Points"), 3),
        MoveStatus("In Progress"),
        AddItem("comments", "qa-c1", {"body": "first", "internal": False}),
        AddItem("comments", "qa-c2", {"body": "for agents only", "internal": True}),
        AddItem("attachments", "qa-a1", {"filename": "shot.png", "mime_type": "image/png", "size": len(PNG),
                                         "content": base64.b64encode(PNG).decode()}),
        *extra,
    ))


def test_is_a_connector(jira_server: JiraServer):
    assert isinstance(connector_for(jira_server), Connector)


def test_create_update_and_read_back(jira_server: JiraServer):
    jira = connector_for(jira_server)
    applied = jira.apply(None, create_changes(), marker="qa:QA-7")
    key = applied.key
    assert applied.created and set(applied.created_ids) == {"comments", "attachments"}
    record = jira_server.get(key)
    assert record.fields["summary"] == "Login fails" and record.fields["status"] == "In Progress"
    assert record.fields["customfield_10016"] == 3 and record.fields["labels"] == ["from-qa"]
    assert record.properties["rulelang.marker"] == {"value": "qa:QA-7"}
    assert [c.internal for c in record.comments] == [False, True]
    assert jira_server.attachment_bytes(applied.created_ids["attachments"]["qa-a1"]) == PNG
    c1, c2 = (applied.created_ids["comments"][r] for r in ("qa-c1", "qa-c2"))

    issue = jira.get_issue(key)
    assert issue["summary"] == "Login fails" and issue["status"] == "In Progress"
    assert "**click**" in issue["description"] and issue["custom"]["Story Points"] == 3
    assert [(c["id"], c["body"].strip(), bool(c.get("internal"))) for c in issue["comments"]] == [
        (c1, "first", False), (c2, "for agents only", True)]
    assert [a["filename"] for a in issue["attachments"]] == ["shot.png"]

    jira_server.reset_counts()
    again = jira.apply(key, ChangeSet(False, (
        SetField(("summary",), "Login fails on Safari"), SetField(("labels",), ["from-qa", "safari"]),
        MoveStatus("Done"), UpdateItem("comments", "qa-c1", c1, {"body": "first, edited"}),
        DeleteItem("comments", "qa-c2", c2))))
    assert again.key == key and not again.created
    assert jira_server.count("PUT /issue/{key}") == 1  # every field in one PUT
    record = jira_server.get(key)
    assert record.fields["summary"] == "Login fails on Safari" and record.fields["status"] == "Done"
    assert [c.id for c in record.comments] == [int(c1)] and "edited" in str(record.comments[0].body)
    assert jira.get_issue("DEV-999") is None


def test_search_pages_in_update_order_and_asks_only_for_needed_fields(jira_server_factory):
    for flavor in ("cloud", "dc"):
        server = jira_server_factory(flavor, page_cap=3)
        for i in range(7):
            server.seed_issue(f"issue {i}", updated=datetime(2024, 3, 1, 10, 59 - i, tzinfo=UTC),
                              comments=[f"comment {i}"])
        jira = connector_for(server)
        found = list(jira.search())
        assert [i["summary"] for i in found] == [f"issue {i}" for i in reversed(range(7))]
        assert all(len(i["comments"]) == 1 for i in found)  # comments come with the page: no N+1
        searches = [e for e in server.exchanges if "search" in e.endpoint]
        assert len(searches) == 3 and server.count() == 3 + 1  # + GET /field
        if flavor == "cloud":
            fields = searches[0].request_json()["fields"]
        else:
            fields = searches[0].query["fields"][0].split(",")
        assert "summary" in fields and "customfield_10016" in fields and "*all" not in fields


def test_updated_since_is_sent_in_the_users_time_zone(jira_server_factory):
    server = jira_server_factory("dc", time_zone="Europe/Berlin")
    server.seed_issue("old", updated=datetime(2024, 3, 1, 10, 29, 59, tzinfo=UTC))
    server.seed_issue("boundary", updated=datetime(2024, 3, 1, 10, 30, 0, tzinfo=UTC))
    server.seed_issue("new", updated=datetime(2024, 3, 1, 12, 0, tzinfo=UTC))
    jira = connector_for(server)
    found = [i["summary"] for i in jira.search('type = Task ORDER BY key', "2024-03-01T10:30:45Z")]
    assert found == ["boundary", "new"]
    jql = [e for e in server.exchanges if e.endpoint == "GET /search"][0].query["jql"][0]
    assert 'updated >= "2024/03/01 11:30"' in jql and "(type = Task)" in jql


def test_refused_transition_names_the_available_ones(jira_server: JiraServer):
    key = jira_server.seed_issue("t")
    with pytest.raises(PermanentError) as err:
        connector_for(jira_server).apply(key, ChangeSet(False, (MoveStatus("In Review"),)))
    text = str(err.value)
    assert "from 'To Do' to 'In Review'" in text
    assert "'Start Progress' → 'In Progress'" in text and "'Done' → 'Done'" in text


def test_missing_required_field_names_it(jira_server_factory):
    server = jira_server_factory("cloud", required_fields=["customfield_10020"])
    with pytest.raises(PermanentError, match=r"customfield_10020 \(Team\): Team is required"):
        connector_for(server).apply(None, ChangeSet(True, (SetField(("summary",), "x"),
                                                           SetField(("type",), "Task"))))
    assert server.keys() == []


def test_429_storms_are_retried_without_duplicates(jira_server: JiraServer):
    jira_server.throttle(times=2, method="POST", path=r"/issue$")
    jira_server.throttle(times=3, method="POST", path=r"/comment$", html=jira_server.flavor == "dc")
    jira_server.throttle(times=2, method="POST", path=r"/attachments$", retry_after=None)
    applied = connector_for(jira_server).apply(None, create_changes(), marker="m-storm")
    assert jira_server.keys() == [applied.key]
    assert len(jira_server.get(applied.key).comments) == 2
    assert len(jira_server.get(applied.key).attachments) == 1


def test_steady_rate_limit_is_honoured(jira_server_factory):
    server = jira_server_factory("cloud", page_cap=2)
    for i in range(5):
        server.seed_issue(f"i{i}")
    server.rate_limit(2, window=0.3, retry_after="0.3")  # 5 requests take far less than one window
    jira = connector_for(server)
    assert len(list(jira.search())) == 5 and jira.lookup_user("alice@example.com")
    assert server.rate is not None and server.rate.refused >= 1


def test_lost_answers_are_recovered_not_reposted(jira_server: JiraServer):
    jira_server.fail(502, method="POST", path=r"/issue$", process=True)
    jira_server.fail(504, method="POST", path=r"/comment$", process=True)
    jira_server.fail(502, method="POST", path=r"/attachments$", process=True)
    jira_server.fail(502, method="POST", path=r"/transitions$", process=True)
    applied = connector_for(jira_server).apply(None, create_changes(), marker="m-lost")
    record = jira_server.get(applied.key)
    assert jira_server.keys() == [applied.key] and record.fields["status"] == "In Progress"
    assert len(record.comments) == 2 and len(record.attachments) == 1
    assert set(applied.created_ids["comments"]) == {"qa-c1", "qa-c2"}


def test_timeout_after_the_write_does_not_duplicate_a_comment(cloud_jira: JiraServer):
    key = cloud_jira.seed_issue("slow")
    cloud_jira.slow(0.6, method="POST", path=r"/comment$")
    jira = connector_for(cloud_jira, timeout=httpx.Timeout(0.3))
    applied = jira.apply(key, ChangeSet(False, (AddItem("comments", "r1", {"body": "once"}),)))
    assert len(cloud_jira.get(key).comments) == 1
    assert applied.created_ids["comments"]["r1"] == str(cloud_jira.get(key).comments[0].id)


def test_a_retried_apply_after_a_failure_finishes_without_duplicates(jira_server: JiraServer):
    jira_server.fail(500, method="POST", path=r"/comment$", after=1, times=None)
    jira = connector_for(jira_server)
    with pytest.raises(TransientError) as err:
        jira.apply(None, create_changes(), marker="m-retry")
    partial = err.value.applied
    assert partial.created and list(partial.created_ids["comments"]) == ["qa-c1"]
    jira_server.clear_faults()
    fresh = connector_for(jira_server)  # a restarted engine: no memory of the first attempt
    key = fresh.find_by_marker("m-retry")
    assert key == partial.key
    done = fresh.apply(key, create_changes(), marker="m-retry")
    record = jira_server.get(key)
    assert jira_server.keys() == [key] and len(record.comments) == 2 and len(record.attachments) == 1
    assert done.created_ids["comments"]["qa-c1"] == partial.created_ids["comments"]["qa-c1"]


def test_find_by_marker_waits_for_the_search_index(jira_server_factory):
    server = jira_server_factory("cloud", search_lag=0.3)
    key = connector_for(server).apply(None, ChangeSet(True, (SetField(("summary",), "x"),
                                                             SetField(("type",), "Task"))), marker="m-lag").key
    assert connector_for(server, marker_settle=0.0).find_by_marker("m-lag") is None  # index not there yet
    patient = connector_for(server, marker_settle=3.0, marker_poll=0.05)
    assert patient.find_by_marker("m-lag") == key
    started = time.monotonic()
    assert connector_for(server, marker_settle=0.2, marker_poll=0.05).find_by_marker("m-unknown") is None
    assert 0.2 <= time.monotonic() - started < 1.0  # a true miss costs the settle window, no more


def test_lookup_user(jira_server_factory):
    for flavor in ("cloud", "dc"):
        server = jira_server_factory(flavor)
        jira = connector_for(server)
        alice = jira.lookup_user("Alice@Example.com")
        assert alice == {"id": server.user("alice").account_id if flavor == "cloud" else "alice",
                         "email": "alice@example.com", "name": "Alice Example"}
        assert jira.lookup_user("nobody@example.com") is None
        jira.lookup_user("alice@example.com")
        assert server.count("GET /user/search") == 2  # cached per run
    hidden = jira_server_factory("cloud", hide_emails=True)
    assert connector_for(hidden).lookup_user("bob@example.com") is None
    trusted = connector_for(hidden, hidden_email="single").lookup_user("bob@example.com")
    assert trusted == {"id": hidden.user("bob").account_id, "email": "bob@example.com", "name": "Bob Example"}


def test_attachment_limits_and_download(jira_server_factory):
    server = jira_server_factory("dc", attachment_limit=100)
    key = server.seed_issue("a")
    jira = connector_for(server, max_attachment_bytes=1000)
    big = {"filename": "big.bin", "content": base64.b64encode(b"x" * 500).decode()}
    with pytest.raises(PermanentError, match="413"):
        jira.apply(key, ChangeSet(False, (AddItem("attachments", "r1", big),)))
    with pytest.raises(PermanentError, match="over the 1000 byte limit"):
        jira.apply(key, ChangeSet(False, (AddItem("attachments", "r2", {"filename": "f", "size": 5000}),)))
    with pytest.raises(PermanentError, match="no attachment_source"):
        jira.apply(key, ChangeSet(False, (AddItem("attachments", "r3", {"filename": "f", "content_url": "x"}),)))
    source = connector_for(server, attachment_source=lambda v: b"from elsewhere")
    made = source.apply(key, ChangeSet(False, (AddItem("attachments", "r4", {"filename": "e.txt"}),)))
    att_id = made.created_ids["attachments"]["r4"]
    assert jira.download_attachment({"id": att_id, "filename": "e.txt"}) == b"from elsewhere"


def test_bad_credentials_fail_clearly(jira_server: JiraServer):
    env = {k: "wrong" for k in jira_server.auth_env()}
    from connectors.jira.connector import JiraConnector

    jira = JiraConnector(jira_server.url, "DEV", flavor=jira_server.flavor, auth=jira_server.auth_config(),
                         env=env)
    with pytest.raises(PermanentError, match="401") as err:
        jira.get_issue("DEV-1")
    assert "JIRA_" in str(err.value) and "wrong" not in str(err.value)


def test_one_connection_is_reused(jira_server: JiraServer):
    for i in range(5):
        jira_server.seed_issue(f"i{i}")
    jira = connector_for(jira_server)
    for issue in list(jira.search()):
        jira.get_issue(issue["key"])
    assert jira_server.count() >= 7 and jira_server.connections == 1


def test_request_budget_per_synced_issue(jira_server: JiraServer):
    """No N+1: the calls one issue costs do not grow with the issue's history or the project's size."""
    for i in range(30):
        jira_server.seed_issue(f"old {i}", comments=[f"c{j}" for j in range(5)])
    jira = connector_for(jira_server)
    assert len(list(jira.search(updated_since="2000-01-01T00:00:00Z"))) == 30
    assert jira_server.count() == 3  # GET /field, GET /myself, one search page
    jira_server.reset_counts()
    applied = jira.apply(None, ChangeSet(True, (
        SetField(("summary",), "new"), SetField(("type",), "Task"), SetField(("labels",), ["a"]),
        MoveStatus("In Progress"), AddItem("comments", "r1", {"body": "x"}), AddItem("comments", "r2", {"body": "y"}),
    )), marker="budget")
    counts = jira_server.counts()
    assert counts == {"POST /issue": 1, "GET /issue/{key}": 1, "POST /issue/{key}/transitions": 1,
                      "POST /issue/{key}/comment": 2}
    jira_server.reset_counts()
    jira.apply(applied.key, ChangeSet(False, (
        SetField(("summary",), "newer"), SetField(("labels",), ["b"]), MoveStatus("Done"),
        AddItem("comments", "r3", {"body": "z"}))))
    assert jira_server.counts() == {"PUT /issue/{key}": 1, "GET /issue/{key}": 1,
                                    "POST /issue/{key}/transitions": 1, "GET /issue/{key}/comment": 1,
                                    "POST /issue/{key}/comment": 1}


def test_long_queries_go_in_a_post_body_on_dc(dc_jira: JiraServer):
    dc_jira.seed_issue("wanted", labels=["keep"])
    dc_jira.seed_issue("other")
    noise = " OR ".join(f'labels = "l{i:04d}"' for i in range(300))
    found = list(connector_for(dc_jira).search(f"labels = keep OR {noise}"))
    assert [i["summary"] for i in found] == ["wanted"] and dc_jira.count("POST /search") == 1


def test_garbled_search_answer_is_a_clear_transient_error(jira_server: JiraServer):
    jira_server.seed_issue("x")
    jira_server.malformed(path="/search")
    with pytest.raises(TransientError, match="search.* answered 200 with malformed JSON"):
        list(connector_for(jira_server).search())
