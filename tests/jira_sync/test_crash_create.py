"""A create that Jira applied but whose answer never arrived: the next attempt finds the issue by its marker.

Either the process dies (SIGKILL while Jira holds the answer back) or the answer is lost (a 502 after
Jira applied the create, while Jira's search index still lags behind); never a second issue, never a
second comment.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import threading
from collections.abc import Callable

import pytest

from connectors.local import LocalTracker
from runtime.state import open_state, state_path
from tests.jira_server import JiraServer

from .helpers import JIRA_IN, JIRA_OUT, LOCAL_IN, LOCAL_OUT, jira_instance, local_instance, sync, write_folder

SYNC = [sys.executable, "-c", "from rulelang.cli import main; main()", "sync"]


def make_folder(tmp_path: pathlib.Path, server: JiraServer, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    folder = write_folder(
        tmp_path / "conn",
        {"QA": local_instance("qa", "QA", rules=("qa-out.rules", "qa-in.rules")),
         "Dev": jira_instance(server, "DEV_JIRA", monkeypatch, rules=("dev-out.rules", "dev-in.rules"),
                              marker_settle=3.0)},
        {"qa-out.rules": LOCAL_OUT, "qa-in.rules": LOCAL_IN, "dev-out.rules": JIRA_OUT, "dev-in.rules": JIRA_IN},
        sync={"QA -> Dev": "automatic", "Dev -> QA": "automatic"}, triggers=[("QA", 'labels = "to-dev"')])
    with LocalTracker(folder / "qa") as qa:
        key = qa.create_issue({"summary": "Crash me", "type": "Bug", "labels": ["to-dev"]})
        qa.add_comment(key, "only once, please", author={"email": "ada@qa.example", "name": "Ada"})
    return folder


def hold_answer(server: JiraServer, handler: str) -> tuple[threading.Event, threading.Event, Callable[[], None]]:
    """Make the server apply `handler`'s request for real, then hold its answer back until released."""
    assert server.api is not None
    done, release = threading.Event(), threading.Event()
    real = getattr(server.api, handler)

    def apply_then_hold(req):  # type: ignore[no-untyped-def]
        answer = real(req)
        done.set()
        release.wait(20)
        return answer

    setattr(server.api, handler, apply_then_hold)

    def restore() -> None:
        release.set()
        setattr(server.api, handler, real)
    return done, release, restore


def marker_of(server: JiraServer, key: str) -> str:
    return str(server.get(key).properties["rulelang.marker"]["value"])


def marker_searches(server: JiraServer) -> int:
    """Searches by an issue's marker property (find_by_marker)."""
    return sum("issue.property[rulelang.marker]" in str((e.request_json() or {}).get("jql"))
               for e in server.exchanges if e.endpoint == "POST /search/jql")


@pytest.mark.parametrize("handler", ["create_issue", "add_comment"])
def test_sigkill_after_jira_applied_the_write(tmp_path, cloud_jira, monkeypatch, handler):
    folder = make_folder(tmp_path, cloud_jira, monkeypatch)
    applied, _, restore = hold_answer(cloud_jira, handler)
    proc = subprocess.Popen([*SYNC, str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=dict(os.environ))
    try:
        assert applied.wait(30), "the sync never reached the write"
        proc.kill()  # the write is in Jira; the process that made it never hears of it
        proc.wait(10)
    finally:
        restore()
    assert proc.returncode == -9
    [key] = cloud_jira.keys()
    with open_state(state_path(folder)) as store:
        [twin] = store.twins()
        assert twin.key_on("Dev") is None, "the killed process cannot have recorded the key"

    cloud_jira.reset_counts()
    report = sync(folder)
    assert report["in_error"] == 0 and report["directions"]["QA -> Dev"]["created"] == 0
    assert cloud_jira.keys() == [key], "a second issue was created"
    if handler == "create_issue":
        assert marker_searches(cloud_jira) == 1 and cloud_jira.count("POST /issue") == 0
    record = cloud_jira.get(key)
    assert len(record.comments) == 1, "the comment was posted twice"
    with open_state(state_path(folder)) as store:
        [twin] = store.twins()
        assert (twin.key_on("QA"), twin.key_on("Dev")) == ("QA-1", key)
    assert marker_of(cloud_jira, key).startswith("rulelang-")
    assert sync(folder)["total"]["sent"] == 0  # and it has settled


def test_lost_answer_while_the_search_index_lags(tmp_path, jira_server_factory, monkeypatch):
    server = jira_server_factory("cloud", search_lag=0.6)
    folder = make_folder(tmp_path, server, monkeypatch)
    server.fail(502, method="POST", path="/issue$", process=True)  # created, but the client hears 502
    report = sync(folder)
    assert report["in_error"] == 0 and report["directions"]["QA -> Dev"]["applied"] == 1
    [key] = server.keys()
    assert server.count("POST /issue") == 1, "the create was not sent again"
    assert marker_searches(server) >= 2, "the marker search waited for the index"
    assert len(server.get(key).comments) == 1
    assert marker_of(server, key).startswith("rulelang-")
