"""Tests of the Jira-compatible test server itself: the behaviour the connector tests rely on."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.jira_server import JiraServer


def raw(server: JiraServer, *, auth: bool = True) -> httpx.Client:
    env = server.auth_env()
    version = 3 if server.flavor == "cloud" else 2
    kw: dict = {"base_url": f"{server.url}/rest/api/{version}"}
    if auth and server.flavor == "cloud":
        kw["auth"] = httpx.BasicAuth(env["JIRA_EMAIL"], env["JIRA_TOKEN"])
    elif auth:
        kw["headers"] = {"Authorization": f"Bearer {env['JIRA_PAT']}"}
    return httpx.Client(**kw)


def test_auth_is_required_and_checked(jira_server: JiraServer):
    assert raw(jira_server, auth=False).get("/myself").status_code == 401
    wrong = httpx.BasicAuth("sync-bot@example.com", "nope") if jira_server.flavor == "cloud" else None
    c = httpx.Client(base_url=raw(jira_server).base_url, auth=wrong,
                     headers={} if wrong else {"Authorization": "Bearer nope"})
    assert c.get("/myself").status_code == 401
    me = raw(jira_server).get("/myself").json()
    assert me["displayName"] == "Sync Bot" and ("accountId" in me) == (jira_server.flavor == "cloud")


def test_create_reports_missing_fields_the_jira_way(jira_server: JiraServer):
    r = raw(jira_server).post("/issue", json={"fields": {"project": {"key": "DEV"}}})
    assert r.status_code == 400
    assert r.json() == {"errorMessages": [], "errors": {"issuetype": "Specify an issue type",
                                                        "summary": "You must specify a summary of the issue."}}


def test_rich_text_must_match_the_flavour(jira_server: JiraServer):
    fields = {"project": {"key": "DEV"}, "issuetype": {"name": "Bug"}, "summary": "s", "description": "plain"}
    r = raw(jira_server).post("/issue", json={"fields": fields})
    if jira_server.flavor == "cloud":
        assert r.status_code == 400 and "Atlassian Document" in r.json()["errors"]["description"]
    else:
        assert r.status_code == 201


def test_cloud_old_search_is_gone(cloud_jira: JiraServer):
    assert raw(cloud_jira).get("/search", params={"jql": "project = DEV"}).status_code == 410
    r = raw(cloud_jira).post("/search/jql", json={"jql": "ORDER BY key"})
    assert r.status_code == 400 and "Unbounded" in r.json()["errorMessages"][0]


def test_pagination_is_capped_by_the_server(jira_server_factory):
    for flavor in ("cloud", "dc"):
        server = jira_server_factory(flavor, page_cap=3)
        for i in range(7):
            server.seed_issue(f"i{i}")
        c = raw(server)
        if flavor == "cloud":
            page = c.post("/search/jql", json={"jql": "project = DEV", "maxResults": 100, "fields": ["key"]}).json()
            assert len(page["issues"]) == 3 and page["nextPageToken"] and page["isLast"] is False
        else:
            page = c.get("/search", params={"jql": "project = DEV", "maxResults": 100}).json()
            assert (len(page["issues"]), page["total"], page["maxResults"]) == (3, 7, 3)


def test_search_lags_behind_create(jira_server_factory):
    server = jira_server_factory("dc", search_lag=0.3)
    c = raw(server)
    made = c.post("/issue", json={"fields": {"project": {"key": "DEV"}, "issuetype": {"name": "Bug"},
                                             "summary": "fresh"}}).json()
    query = {"jql": "project = DEV AND summary ~ fresh"}
    assert c.get("/search", params=query).json()["total"] == 0
    assert c.get(f"/issue/{made['key']}").status_code == 200  # reads by key are consistent
    time.sleep(0.35)
    assert c.get("/search", params=query).json()["total"] == 1


def test_jql_subset(dc_jira: JiraServer):
    dc_jira.seed_issue("alpha bug", type="Bug", labels=["to-dev"], priority="High", status="In Progress")
    dc_jira.seed_issue("beta task", labels=["other"], custom={"Story Points": 5})
    dc_jira.seed_issue("gamma", type="Bug", assignee="alice@example.com")
    c = raw(dc_jira)

    def keys(jql: str) -> list[str]:
        return [i["key"] for i in c.get("/search", params={"jql": jql}).json()["issues"]]

    assert keys('issuetype = Bug AND labels = "to-dev"') == ["DEV-1"]
    assert keys("status in (\"In Progress\", Done) OR priority = Low ORDER BY key") == ["DEV-1"]
    assert keys('"Story Points" >= 3') == ["DEV-2"] == keys("cf[10016] > 4")
    assert keys("labels is EMPTY") == ["DEV-3"] == keys("assignee = alice")
    assert keys("NOT (type = Bug) ORDER BY key DESC") == ["DEV-2"]
    assert keys("summary ~ amm") == ["DEV-3"]
    assert keys("project = DEV ORDER BY key ASC") == ["DEV-1", "DEV-2", "DEV-3"]
    bad = c.get("/search", params={"jql": "nosuchfield = 1"})
    assert bad.status_code == 400 and "does not exist" in bad.json()["errorMessages"][0]


def test_transitions_follow_the_workflow(jira_server: JiraServer):
    key = jira_server.seed_issue("t")
    c = raw(jira_server)
    moves = {t["to"]["name"]: t["id"] for t in c.get(f"/issue/{key}/transitions").json()["transitions"]}
    assert set(moves) == {"In Progress", "Done"}
    r = c.post(f"/issue/{key}/transitions", json={"transition": {"id": "999"}})
    assert r.status_code == 400 and "not valid" in r.json()["errorMessages"][0]
    assert c.post(f"/issue/{key}/transitions", json={"transition": {"id": moves["Done"]}}).status_code == 204
    assert jira_server.get(key).fields["status"] == "Done" and jira_server.get(key).fields["resolution"] == "Done"


def test_attachments_need_the_xsrf_header_and_respect_the_limit(jira_server_factory):
    server = jira_server_factory("cloud", attachment_limit=10)
    key = server.seed_issue("a")
    c = raw(server)
    assert c.post(f"/issue/{key}/attachments", files={"file": ("a.txt", b"x")}).status_code == 403
    no_check = {"X-Atlassian-Token": "no-check"}
    assert c.post(f"/issue/{key}/attachments", files={"file": ("a.txt", b"x" * 11)}, headers=no_check
                  ).status_code == 413
    made = c.post(f"/issue/{key}/attachments", files={"file": ("a.txt", b"\r\n--xy")}, headers=no_check).json()
    assert c.get(made[0]["content"]).content == b"\r\n--xy"


def test_rate_limit_faults_and_counts(jira_server_factory):
    server = jira_server_factory("dc")
    c = raw(server)
    server.rate_limit(2, window=60, retry_after="7", html=True)
    statuses = [c.get("/myself").status_code for _ in range(3)]
    last = server.exchanges[-1]
    assert statuses == [200, 200, 429] and last.response_headers["Retry-After"] == "7"
    assert last.response_body.startswith(b"<!DOCTYPE html>")
    server.clear_faults()
    server.fail(502, times=1, path=r"/field$")
    assert [c.get("/field").status_code for _ in range(2)] == [502, 200]
    assert server.counts()["GET /myself"] == 3 and server.count("GET /field") == 2
    assert server.connections == 1  # one keep-alive connection served all of it


def test_processed_fault_hides_a_successful_write(cloud_jira: JiraServer):
    key = cloud_jira.seed_issue("c")
    cloud_jira.fail(502, method="POST", path="/comment$", process=True)
    body = {"body": {"type": "doc", "version": 1, "content": [{"type": "paragraph",
                                                                "content": [{"type": "text", "text": "hi"}]}]}}
    assert raw(cloud_jira).post(f"/issue/{key}/comment", json=body).status_code == 502
    assert len(cloud_jira.get(key).comments) == 1


def test_hidden_emails_on_cloud(jira_server_factory):
    server = jira_server_factory("cloud", hide_emails=True)
    found = raw(server).get("/user/search", params={"query": "alice@example.com"}).json()
    assert [u["displayName"] for u in found] == ["Alice Example"] and "emailAddress" not in found[0]


@pytest.mark.parametrize("flavor", ["cloud", "dc"])
def test_wrong_api_version_is_not_found(jira_server_factory, flavor):
    server = jira_server_factory(flavor)
    other = 2 if flavor == "cloud" else 3
    r = raw(server).get(f"{server.url}/rest/api/{other}/myself")
    assert r.status_code == 404
