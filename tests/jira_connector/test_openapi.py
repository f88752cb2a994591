"""The connector's requests and the server's answers, checked against Atlassian's OpenAPI description."""

from __future__ import annotations

import base64

import pytest

from runtime.changes import AddItem, ChangeSet, DeleteItem, MoveStatus, SetField, UpdateItem
from runtime.connector import PermanentError
from tests.jira_server import Exchange, JiraServer

from .conftest import connector_for
from .openapi import operation_for, problems, spec

# Every operation the connector uses; a scenario that stops using one should fail here, not silently.
USED = {
    ("/rest/api/3/field", "get"), ("/rest/api/3/myself", "get"), ("/rest/api/3/issue", "post"),
    ("/rest/api/3/issue/{issueIdOrKey}", "get"), ("/rest/api/3/issue/{issueIdOrKey}", "put"),
    ("/rest/api/3/issue/{issueIdOrKey}/transitions", "post"),
    ("/rest/api/3/issue/{issueIdOrKey}/comment", "get"), ("/rest/api/3/issue/{issueIdOrKey}/comment", "post"),
    ("/rest/api/3/issue/{issueIdOrKey}/comment/{id}", "put"),
    ("/rest/api/3/issue/{issueIdOrKey}/comment/{id}", "delete"),
    ("/rest/api/3/issue/{issueIdOrKey}/attachments", "post"), ("/rest/api/3/attachment/{id}", "delete"),
    ("/rest/api/3/attachment/content/{id}", "get"), ("/rest/api/3/user/search", "get"),
}
SEARCH = {"cloud": ("/rest/api/3/search/jql", "post"), "dc": ("/rest/api/3/search", "get")}


def scenario(server: JiraServer) -> list[Exchange]:
    """A small sync through the connector: everything it knows how to do, and some refusals."""
    for i in range(3):
        server.seed_issue(f"seeded {i}", comments=["hello"], assignee="alice@example.com",
                          custom={"Team": "Red", "Release Notes": "notes"})
    jira = connector_for(server)
    list(jira.search("labels is EMPTY", "2024-01-01T00:00:00Z"))
    created = jira.apply(None, ChangeSet(True, (
        SetField(("summary",), "From QA"), SetField(("type",), "Bug"), SetField(("description",), "*hi*"),
        SetField(("assignee",), jira.lookup_user("alice@example.com")), SetField(("custom", "Team"), "Blue"),
        SetField(("custom", "Release Notes"), "**bold** note"), SetField(("due",), "2024-05-01"),
        MoveStatus("In Progress"),
        AddItem("comments", "c1", {"body": "one"}), AddItem("comments", "c2", {"body": "two", "internal": True}),
        AddItem("attachments", "a1", {"filename": "a.txt", "content": base64.b64encode(b"abc").decode()}),
    )), marker="m-openapi")
    key, ids = created.key, created.created_ids
    jira.apply(key, ChangeSet(False, (
        SetField(("summary",), "From QA, edited"), SetField(("labels",), ["x"]), MoveStatus("Done"),
        AddItem("comments", "c3", {"body": "three"}),
        UpdateItem("comments", "c1", ids["comments"]["c1"], {"body": "one!", "internal": False}),
        DeleteItem("comments", "c2", ids["comments"]["c2"]),
        DeleteItem("attachments", "a1", ids["attachments"]["a1"]))))
    jira.get_issue(key)
    jira.find_by_marker("m-openapi")
    connector_for(server).find_by_marker("m-openapi")
    made = jira.apply(key, ChangeSet(False, (AddItem("attachments", "a2", {"filename": "b.txt",
                                                                          "content": "eHl6"}),)))
    jira.download_attachment({"id": made.created_ids["attachments"]["a2"], "filename": "b.txt"})
    with pytest.raises(PermanentError):
        jira.apply(None, ChangeSet(True, (SetField(("summary",), "no type"),)))  # 400 with errors
    with pytest.raises(PermanentError):
        jira.apply(key, ChangeSet(False, (MoveStatus("Nowhere"),)))
    return server.exchanges


def test_spec_fixture_is_the_one_described():
    assert spec()["openapi"].startswith("3.0") and len(spec()["paths"]) == 417


def test_connector_and_server_follow_the_openapi_description(jira_server: JiraServer):
    exchanges = scenario(jira_server)
    found = [p for ex in exchanges for p in problems(ex)]
    assert found == []
    used = {operation_for(ex) for ex in exchanges}
    assert USED | {SEARCH[jira_server.flavor]} <= used
    assert {ex.status for ex in exchanges} >= {200, 201, 204, 400}


def test_the_checker_catches_a_bad_exchange(cloud_jira: JiraServer):
    """The checker is not vacuous: an extra key in a strict schema and an undeclared parameter fail."""
    bad = Exchange("POST", "/rest/api/3/search/jql", {"startAt": ["0"]}, "POST /search/jql",
                   {"content-type": "application/json"}, b'{"jql": "project = DEV", "startAt": 0}', 200,
                   {"Content-Type": "application/json"}, b'{"issues": [], "total": 0}')
    found = problems(bad)
    assert any("'startAt' is not declared" in p for p in found)
    assert any("request" in p and "startAt" in p for p in found)
    assert any("response 200" in p and "total" in p for p in found)
