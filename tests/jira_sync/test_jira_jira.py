"""`rulelang sync` between Jira Cloud (REST v3, ADF) and Jira Data Center (REST v2, wiki markup), both ways,
over real sockets with 429s and 5xx injected on both sites."""

from __future__ import annotations

import pathlib

import pytest

from connectors.jira.model import issue_from_jira
from runtime.state import open_state, state_path
from tests.jira_server import JiraServer

from .helpers import JIRA_IN, JIRA_OUT, Person, bodies, jira_instance, no_duplicates, sync, write_folder

SPEC = b"%PDF-1.4 cloud spec\n" * 30
TRACE = b"java.lang.NullPointerException\n\tat Ops.run\n" * 20


def neutral(server: JiraServer, key: str) -> dict:
    return issue_from_jira(server.issue_json(key))


def folder_for(tmp_path: pathlib.Path, cloud: JiraServer, dc: JiraServer,
               monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    return write_folder(
        tmp_path / "acme-ops",
        {"Acme": jira_instance(cloud, "ACME", monkeypatch, rules=("acme-out.rules", "acme-in.rules")),
         "Ops": jira_instance(dc, "OPS", monkeypatch, rules=("ops-out.rules", "ops-in.rules"))},
        {"acme-out.rules": JIRA_OUT, "acme-in.rules": JIRA_IN, "ops-out.rules": JIRA_OUT, "ops-in.rules": JIRA_IN},
        sync={"Acme -> Ops": "automatic", "Ops -> Acme": "automatic"},
        triggers=[("Acme", 'labels = "to-ops"'), ("Ops", 'labels = "to-acme"')])


def twins(folder: pathlib.Path) -> dict[str, str]:
    with open_state(state_path(folder)) as store:
        pairs = [(t.key_on("Acme"), t.key_on("Ops")) for t in store.twins()]
    return {a: o for a, o in pairs} | {o: a for a, o in pairs}  # type: ignore[misc]


def test_cloud_and_data_center_both_ways_through_faults(tmp_path, jira_server_factory, monkeypatch):
    cloud = jira_server_factory("cloud", project="ACME")
    dc = jira_server_factory("dc", project="OPS")
    folder = folder_for(tmp_path, cloud, dc, monkeypatch)
    login = cloud.seed_issue("Login loops", type="Bug", labels=["to-ops"], status="In Progress",
                             description="Users bounce between two pages",
                             comments=["seen by 3 customers", {"body": "agent-only note", "internal": True}])
    cloud.seed_issue("Dark mode", type="Story", labels=["to-ops"])
    cloud.seed_issue("Stays in Acme", labels=["internal"])
    outage = dc.seed_issue("Disk full on db-2", type="Bug", labels=["to-acme"],
                           description="h2. Impact\n* *all* writes fail\n* reads are {{slow}}",
                           comments=["paged at 03:00"])
    ann, ole = Person(cloud, "Ann Acme", "ann@acme.example"), Person(dc, "Ole Ops", "ole@ops.example")
    try:
        ann.attach(login, "spec.pdf", SPEC)
        ole.attach(outage, "trace.txt", TRACE)

        cloud.throttle(2, retry_after="0", method="POST", path="/search/jql$")
        cloud.fail(503, method="GET", path="/attachment/content/", headers={"Retry-After": "0"})
        cloud.fail(502, method="POST", path="/comment$", process=True)
        dc.throttle(1, retry_after="0", method="GET", path="/search$")
        dc.fail(503, times=2, method="POST", path="/issue$", headers={"Retry-After": "0"})
        dc.fail(502, method="POST", path="/comment$", process=True)
        dc.fail(500, method="POST", path="/attachments$", process=True)
        report = sync(folder)
        assert report["in_error"] == 0, report
        assert report["directions"]["Acme -> Ops"]["created"] == 2
        assert report["directions"]["Ops -> Acme"]["created"] == 1
        assert all(f.spent for f in cloud.faults + dc.faults)

        pairs = twins(folder)
        ops_login, acme_outage = pairs[login], pairs[outage]
        copy = neutral(dc, ops_login)
        assert (copy["summary"], copy["status"], copy["type"]) == ("Login loops", "In Progress", "Bug")
        assert bodies(copy) == ["Sync Bot: seen by 3 customers"]  # the internal note stayed in Acme
        [spec] = dc.get(ops_login).attachments
        assert (spec.filename, dc.attachment_bytes(spec.id)) == ("spec.pdf", SPEC)
        back = neutral(cloud, acme_outage)
        original = neutral(dc, outage)
        assert back["description"] == original["description"]  # wiki -> Markdown -> ADF -> the same Markdown
        assert "**all**" in back["description"] and "`slow`" in back["description"]
        assert isinstance(cloud.issue_json(acme_outage)["fields"]["description"], dict)  # ADF on Cloud
        [trace] = cloud.get(acme_outage).attachments
        assert cloud.attachment_bytes(trace.id) == TRACE
        assert bodies(back) == ["Sync Bot: paged at 03:00"]

        # Both sides work: Ops closes the copy and comments on both; Acme comments on its bug.
        ole.move(ops_login, "Done")
        ole.comment(ops_login, "disk cleaned, login works")
        ole.comment(outage, "resolved at 04:10")
        ann.comment(login, "thanks!")
        cloud.fail(503, method="POST", path="/transitions$", headers={"Retry-After": "0"})
        dc.throttle(1, retry_after="0", method="POST", path="/comment$")
        for _ in range(2):  # a change and the other side's answer to it
            assert sync(folder)["in_error"] == 0
        assert all(f.spent for f in cloud.faults + dc.faults)
    finally:
        ann.close()
        ole.close()

    assert neutral(cloud, login)["status"] == "Done"
    assert bodies(neutral(cloud, login)) == ["seen by 3 customers", "agent-only note", "thanks!",
                                            "Ole Ops: disk cleaned, login works"]
    assert bodies(neutral(dc, ops_login)) == ["Sync Bot: seen by 3 customers", "disk cleaned, login works",
                                             "Ann Acme: thanks!"]
    assert bodies(neutral(cloud, acme_outage)) == ["Sync Bot: paged at 03:00", "Ole Ops: resolved at 04:10"]
    for server in (cloud, dc):
        for key in server.keys():
            assert not no_duplicates(bodies(neutral(server, key))), key
    assert len(cloud.keys()) == 4 and len(dc.keys()) == 3  # one copy per issue, no more

    cloud.reset_counts()
    dc.reset_counts()
    report = sync(folder)
    assert report["total"]["sent"] == 0
    for server in (cloud, dc):
        assert {e for e in server.counts() if not e.startswith("GET") and "search" not in e} == set()
