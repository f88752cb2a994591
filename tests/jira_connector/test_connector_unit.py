"""Unit tests of JiraConnector decisions over httpx.MockTransport: transitions, bad answers, config."""

from __future__ import annotations

import json

import httpx
import pytest

from connectors.jira.client import RetryPolicy
from connectors.jira.connector import JiraConnector
from rulelang.errors import ConfigError
from runtime.changes import ChangeSet, MoveStatus
from runtime.connector import PermanentError, TransientError

ENV = {"J_EMAIL": "bot@example.com", "J_TOKEN": "tok", "J_PAT": "pat"}
FIELDS = [{"id": "summary", "name": "Summary", "custom": False},
          {"id": "customfield_1", "name": "Team", "custom": True, "schema": {"type": "option"}}]


def connector(routes: dict[str, object], *, flavor: str = "cloud") -> tuple[JiraConnector, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = routes.get(f"{request.method} {request.url.path.split('/api/')[1][1:]}")
        if isinstance(answer, httpx.Response):
            return answer
        if answer is None:
            return httpx.Response(404, json={"errorMessages": ["nope"], "errors": {}})
        return httpx.Response(200, json=answer)

    auth = {"email_env": "J_EMAIL", "token_env": "J_TOKEN"} if flavor == "cloud" else {"token_env": "J_PAT"}
    jira = JiraConnector("https://jira.example.net", "DEV", flavor=flavor, auth=auth, env=ENV,
                         http_client=httpx.Client(transport=httpx.MockTransport(handler)),
                         retry=RetryPolicy(attempts=2, base=0.0), sleep=lambda s: None, marker_settle=0)
    return jira, seen


def test_refused_transition_lists_the_available_ones():
    issue = {"key": "DEV-1", "fields": {"status": {"name": "To Do"}},
             "transitions": [{"id": "11", "name": "Start", "to": {"name": "In Progress"}},
                             {"id": "31", "name": "Finish", "to": {"name": "Done"}}]}
    jira, seen = connector({"GET /issue/DEV-1": issue})
    with pytest.raises(PermanentError) as err:
        jira.apply("DEV-1", ChangeSet(False, (MoveStatus("Closed"),)))
    assert str(err.value).endswith("cannot move DEV-1 from 'To Do' to 'Closed': no transition leads there; "
                                   "available: 'Start' → 'In Progress', 'Finish' → 'Done'")
    assert [r.method for r in seen] == ["GET"] and seen[0].url.params["expand"] == "transitions"
    assert err.value.applied is not None and err.value.applied.key == "DEV-1"


def test_transition_to_the_current_status_sends_nothing():
    jira, seen = connector({"GET /issue/DEV-1": {"fields": {"status": {"name": "Done"}}, "transitions": []}})
    assert jira.apply("DEV-1", ChangeSet(False, (MoveStatus("done"),))).key == "DEV-1"
    assert len(seen) == 1


def test_transition_picks_the_one_leading_to_the_status():
    issue = {"fields": {"status": {"name": "To Do"}},
             "transitions": [{"id": "11", "name": "Start", "to": {"name": "In Progress"}},
                             {"id": "31", "name": "Finish", "to": {"name": "Done"}}]}
    jira, seen = connector({"GET /issue/DEV-1": issue,
                            "POST /issue/DEV-1/transitions": httpx.Response(204)})
    jira.apply("DEV-1", ChangeSet(False, (MoveStatus("Done"),)))
    assert json.loads(seen[-1].content) == {"transition": {"id": "31"}}


def test_search_page_without_issues_is_a_clear_error():
    jira, _ = connector({"GET /field": FIELDS, "POST /search/jql": {"isLast": True}})
    with pytest.raises(PermanentError, match="without an 'issues' list"):
        list(jira.search())


def test_search_page_with_truncated_json_is_transient():
    truncated = httpx.Response(200, headers={"Content-Type": "application/json"}, content=b'{"issues": [{')
    jira, _ = connector({"GET /field": FIELDS, "GET /search": truncated}, flavor="dc")
    with pytest.raises(TransientError, match="malformed JSON"):
        list(jira.search())


def test_get_issue_404_is_none_and_foreign_project_is_out_of_scope():
    jira, _ = connector({"GET /field": FIELDS,
                         "GET /issue/OPS-1": {"key": "OPS-1", "fields": {"project": {"key": "OPS"}}}})
    assert jira.get_issue("DEV-404") is None and jira.get_issue("OPS-1") is None


def test_unknown_custom_field_in_config_suggests_the_right_one():
    jira, _ = connector({"GET /field": FIELDS})
    jira.custom_fields = ["Taem"]
    with pytest.raises(ConfigError, match="custom field 'Taem' does not exist .*did you mean 'Team'"):
        jira.wanted_fields()


def test_config_checks():
    with pytest.raises(ConfigError, match="https"):
        JiraConnector("http://jira.example.net", "DEV", auth={"token_env": "J_PAT"}, flavor="dc", env=ENV)
    with pytest.raises(ConfigError, match="environment variable NOPE"):
        JiraConnector("https://jira.example.net", "DEV", auth={"token_env": "NOPE"}, flavor="dc", env=ENV)
    cloud = JiraConnector.from_config({"url": "https://x.atlassian.net", "project": "DEV",
                                       "auth": {"email_env": "J_EMAIL", "token_env": "J_TOKEN"}}, env=ENV)
    dc = JiraConnector.from_config({"url": "https://jira.corp", "project": "DEV",
                                    "auth": {"token_env": "J_PAT"}, "page_size": 50}, env=ENV)
    assert (cloud.flavor, dc.flavor, dc.page_size) == ("cloud", "dc", 50)
    with pytest.raises(ConfigError, match="needs 'project'"):
        JiraConnector.from_config({"url": "https://jira.corp", "auth": {}}, env=ENV)
