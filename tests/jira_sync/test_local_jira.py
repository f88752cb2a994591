"""`rulelang sync` between a local tracker and Jira Cloud over real sockets, with 429s and 5xx injected."""

from __future__ import annotations

import pathlib

import pytest

from connectors.local import LocalTracker
from tests.jira_server import JiraServer

from .helpers import (
    JIRA_IN,
    JIRA_OUT,
    LOCAL_IN,
    LOCAL_OUT,
    Person,
    bodies,
    jira_instance,
    local_instance,
    no_duplicates,
    sync,
    write_folder,
)

SHOT = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3
LOG = b"GET /cart 500\n" * 40
ROOT_CAUSE_ADF = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [
    {"type": "text", "text": "Root cause: a "}, {"type": "text", "text": "null", "marks": [{"type": "strong"}]},
    {"type": "text", "text": " cart"}]}]}


def folder_for(tmp_path: pathlib.Path, server: JiraServer, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    return write_folder(
        tmp_path / "qa-jira",
        {"QA": local_instance("qa", "QA", rules=("qa-out.rules", "qa-in.rules")),
         "Dev": jira_instance(server, "DEV_JIRA", monkeypatch, rules=("dev-out.rules", "dev-in.rules"))},
        {"qa-out.rules": LOCAL_OUT, "qa-in.rules": LOCAL_IN, "dev-out.rules": JIRA_OUT, "dev-in.rules": JIRA_IN},
        sync={"QA -> Dev": "automatic", "Dev -> QA": "automatic"},
        triggers=[("QA", 'labels = "to-dev"'), ("Dev", 'labels = "to-qa"')])


def test_local_and_jira_cloud_both_ways_through_faults(tmp_path, cloud_jira, monkeypatch):
    folder = folder_for(tmp_path, cloud_jira, monkeypatch)
    assert cloud_jira.bot.token not in (folder / "connection.toml").read_text()  # secrets: environment only
    with LocalTracker(folder / "qa") as qa:
        bug = qa.create_issue({"summary": "Checkout fails", "type": "Bug", "labels": ["to-dev"],
                               "description": "Steps:\n\n1. open the cart\n2. press **Pay**", "status": "In Progress"})
        qa.add_comment(bug, "seen on staging", author={"email": "ada@qa.example", "name": "Ada"})
        qa.add_comment(bug, "vendor notes: do not share", internal=True)
        qa.add_attachment(bug, "shot.png", SHOT, mime_type="image/png")
        qa.create_issue({"summary": "Stays home", "type": "Bug"})  # no trigger matches it
    # The first search is rate limited twice; the create answers 503 twice (Jira surely did not apply it);
    # the comment is applied but its answer is lost (502: the connector must look, not post again);
    # the upload is applied and answers 500.
    cloud_jira.throttle(2, retry_after="0", method="POST", path="/search/jql$")
    cloud_jira.fail(503, times=2, method="POST", path="/issue$", headers={"Retry-After": "0"})
    cloud_jira.fail(502, method="POST", path="/comment$", process=True)
    cloud_jira.fail(500, method="POST", path="/attachments$", process=True)

    report = sync(folder)
    assert report["directions"]["QA -> Dev"]["created"] == 1 and report["in_error"] == 0
    assert all(f.spent for f in cloud_jira.faults), "every injected fault was met"
    [key] = cloud_jira.keys()
    dev = cloud_jira.issue_json(key)["fields"]
    assert dev["summary"] == "Checkout fails" and dev["status"]["name"] == "In Progress"
    assert dev["issuetype"]["name"] == "Bug" and dev["labels"] == ["synced"]
    assert dev["description"]["type"] == "doc"  # Markdown went out as ADF …
    assert cloud_jira.count("POST /issue") == 3  # two refusals and one create: never a second issue
    record = cloud_jira.get(key)
    assert [c.body for c in record.comments] != [] and len(record.comments) == 1
    assert [a.filename for a in record.attachments] == ["shot.png"]
    assert cloud_jira.attachment_bytes(record.attachments[0].id) == SHOT

    # Work in Jira: a comment, an attachment, a transition, a new description; then back to QA.
    jo = Person(cloud_jira, "Jo Dev", "jo@dev.example")
    try:
        jo.comment(key, "fixed in 1.2")
        jo.attach(key, "server.log", LOG)
        jo.move(key, "Done")
        jo.edit(key, description=ROOT_CAUSE_ADF)
        found_by_jira = cloud_jira.seed_issue("Jira-born task", labels=["to-qa"], comments=["from the dev side"])
    finally:
        jo.close()
    cloud_jira.throttle(1, retry_after="0", method="GET", path="/attachment/content/")
    cloud_jira.fail(503, times=1, method="GET", path=f"/issue/{key}$", headers={"Retry-After": "0"})
    report = sync(folder)
    assert report["in_error"] == 0 and report["directions"]["Dev -> QA"]["created"] == 1

    with LocalTracker(folder / "qa") as qa:
        issue = qa.get_issue(bug)
        assert issue["status"] == "Closed"
        assert issue["description"] == "Root cause: a **null** cart"  # … and came back as Markdown
        assert bodies(issue) == ["seen on staging", "vendor notes: do not share", "Jo Dev: fixed in 1.2"]
        [shot, log] = issue["attachments"]
        assert (shot["filename"], log["filename"]) == ("shot.png", "server.log")
        assert qa.attachment_path(log["id"]).read_bytes() == LOG
        [born] = [i for i in qa.list_issues() if i["key"] not in (bug, "QA-2")]
        assert born["summary"] == "Jira-born task" and bodies(born) == ["Sync Bot: from the dev side"]
        assert born["labels"] == ["from-jira"]
    dev_comments = [c.body for c in cloud_jira.get(key).comments]
    assert len(dev_comments) == 2 and not no_duplicates([str(b) for b in dev_comments])
    assert len(cloud_jira.get(found_by_jira).comments) == 1, "the Jira issue's own comment did not come back"

    # Settled: a third pass sends nothing and writes nothing to Jira.
    cloud_jira.reset_counts()
    report = sync(folder)
    assert report["total"]["sent"] == 0 and report["total"]["applied"] == 0
    writes = {e: n for e, n in cloud_jira.counts().items() if not e.startswith("GET") and "search" not in e}
    assert writes == {}
    assert sorted(cloud_jira.keys()) == sorted([key, found_by_jira])
