"""Every sync command through the CLI (CliRunner): exit codes, tables, --json, errors without tracebacks."""

from __future__ import annotations

import json
import pathlib
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from rulelang.cli import main


def run(*args: str, code: int | None = 0) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    if code is not None:
        assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def fast(folder: pathlib.Path) -> None:
    """Rules in-process: these tests are about the commands (the pool has its own tests)."""
    toml = folder / "connection.toml"
    toml.write_text(toml.read_text().replace("# [limits]", "[limits]\nisolate = false\n# "), encoding="utf-8")


@pytest.fixture
def conn(tmp_path: pathlib.Path) -> pathlib.Path:
    folder = tmp_path / "conn"
    out = run("init", folder, "--basic")
    assert "created" in out
    fast(folder)
    return folder


def test_init_refuses_an_existing_folder_and_bad_names(conn, tmp_path):
    assert "exists already" in run("init", conn, code=2)
    assert "two different names" in run("init", tmp_path / "x", "--instances", "QA", code=2)
    run("init", tmp_path / "minimal")
    assert "replica.summary" in (tmp_path / "minimal" / "qa-out.rules").read_text()


def test_sync_status_queue_and_json(conn):
    assert run("local", "new", conn, "-i", "QA", "--summary", "First bug", "--label", "sync",
               "--description", "steps").strip() == "QA-1"
    run("local", "comment", conn, "QA-1", "a public note", "-i", "QA")
    run("local", "comment", conn, "QA-1", "an internal note", "-i", "QA", "--internal")
    out = run("sync", conn)
    assert "sync summary" in out and "QA -> Dev" in out
    report = json.loads(run("sync", conn, "--json"))
    assert report["total"]["sent"] == 0 and report["in_error"] == 0
    status = json.loads(run("status", conn, "--json"))
    assert status["twins"][0]["keys"] == {"Dev": "DEV-1", "QA": "QA-1"} and status["twins"][0]["state"] == "synced"
    assert "DEV-1" in run("status", conn, "QA-1")
    assert json.loads(run("queue", conn, "--json")) == []
    assert "the queue is empty" in run("queue", conn)
    shown = json.loads(run("local", "show", conn, "DEV-1", "-i", "Dev", "--json"))
    assert shown["summary"] == "First bug" and [c["body"] for c in shown["comments"]] == ["a public note"]


def test_a_change_travels_back_and_forth(conn):
    run("local", "new", conn, "-i", "QA", "--summary", "Bug", "--label", "sync")
    run("sync", conn)
    run("local", "edit", conn, "DEV-1", "-i", "Dev", "--description", "fixed in 4.2")
    report = json.loads(run("sync", conn, "--json"))
    assert report["directions"]["Dev -> QA"]["applied"] == 1
    assert "fixed in 4.2" in run("local", "show", conn, "QA-1", "-i", "QA")
    assert json.loads(run("sync", conn, "--json"))["total"]["sent"] == 0


def test_pause_resume_push_bulk_unlink(conn):
    run("local", "new", conn, "-i", "QA", "--summary", "One", "--label", "sync")
    run("local", "new", conn, "-i", "QA", "--summary", "Two")
    assert "paused" in run("pause", conn)
    report = json.loads(run("sync", conn, "--json"))
    assert report["paused"] and report["waiting"] == 1
    assert json.loads(run("status", conn, "--json"))["twins"][0]["state"] == "paused"
    assert "resumed" in run("resume", conn)
    assert json.loads(run("sync", conn, "--json"))["total"]["applied"] == 1
    assert json.loads(run("push", conn, "QA-2", "--json"))["total"]["created"] == 1  # no trigger needed
    assert "no issue NOPE-9" in run("push", conn, "NOPE-9", code=2)
    assert json.loads(run("bulk", conn, "--trigger", "1", "--json"))["total"]["sent"] == 0  # nothing new
    assert "there is no trigger 7" in run("bulk", conn, "--trigger", "7", code=2)
    assert "unlinked QA-1 <-> DEV-1" in run("unlink", conn, "QA-1")
    assert "QA-1" not in run("status", conn)
    assert "not synced" in run("unlink", conn, "QA-1", code=2)


def test_errors_park_exit_1_and_retry_fixes_them(conn):
    rules = (conn / "dev-in.rules").read_text()
    (conn / "dev-in.rules").write_text(rules + '\nif replica.summary.contains("boom") {\n    fail "no booms"\n}\n')
    run("local", "new", conn, "-i", "QA", "--summary", "boom here", "--label", "sync")
    run("local", "new", conn, "-i", "QA", "--summary", "fine", "--label", "sync")
    out = run("sync", conn, code=1)
    assert "rulelang queue" in out
    (entry,) = json.loads(run("queue", conn, "--json"))
    assert entry["state"] == "error" and "dev-in.rules:" in entry["reason"] and "no booms" in entry["reason"]
    assert "give entry IDs" in run("retry", conn, code=2)
    assert json.loads(run("retry", conn, str(entry["id"]), "--json", code=1))["in_error"] == 1  # still failing
    run("local", "edit", conn, "QA-1", "-i", "QA", "--summary", "calm now")
    assert "1 waiting, 1 in error" in run("sync", conn)  # held behind the parked one; nothing new parked
    (conn / "dev-in.rules").write_text(rules)  # the fault is fixed
    report = json.loads(run("retry", conn, "--all", "--json"))
    assert report["in_error"] == 0 and report["waiting"] == 0 and report["total"]["applied"] == 2
    assert "calm now" in run("local", "show", conn, "DEV-2", "-i", "Dev")


def test_bad_config_is_exit_2_with_every_problem_named(conn):
    toml = conn / "connection.toml"
    toml.write_text(toml.read_text().replace('"QA -> Dev" = "automatic"', '"QA -> Dev" = "automatc"')
                    .replace("query = 'labels = \"sync\"'", "query = 'labels = ('", 1)
                    .replace('connector = "local"\npath = "dev"', 'connector = "local"\npth = "dev"'))
    out = run("sync", conn, code=2)
    assert "connection.toml:" in out
    assert "unknown sync method 'automatc'" in out and "did you mean 'automatic'" in out
    assert "trigger query" in out and "unknown key 'pth'" in out
    assert "automatc" in run("status", conn, code=2)


def test_bad_rules_are_exit_2(conn):
    (conn / "qa-out.rules").write_text("replica.summary = issue.sumary\n")
    out = run("sync", conn, code=2)
    assert "qa-out.rules:1:" in out and "summary" in out


def test_local_commands(conn, tmp_path):
    tracker = conn / "qa"
    key = run("local", "new", tracker, "--summary", "Direct", "--type", "Bug", "--priority", "High",
              "--set", "custom.Severity=\"S2\"").strip()
    run("local", "edit", tracker, key, "--status", "In Progress", "--label", "a", "--label", "b")
    cid = run("local", "comment", tracker, key, "hello", "--author", "ann@example.com").strip()
    assert cid.isdigit()
    issue = json.loads(run("local", "show", tracker, key, "--json"))
    assert issue["status"] == "In Progress" and issue["labels"] == ["a", "b"]
    assert issue["custom"] == {"Severity": "S2"}
    assert key in run("local", "list", tracker)
    assert json.loads(run("local", "list", tracker, "--query", "priority = High", "--json"))[0]["key"] == key
    assert "--instance" in run("local", "list", conn, code=2)
    assert "no issue QA-99" in run("local", "show", tracker, "QA-99", code=2)
    assert "not a local tracker" in run("local", "list", tmp_path, code=2)
    assert "nothing to change" in run("local", "edit", tracker, key, code=2)


def test_every_command_has_help():
    for command in ("init", "sync", "push", "bulk", "status", "queue", "retry", "pause", "resume", "unlink",
                    "local", "local new", "local edit", "local comment", "local show", "local list"):
        assert "Usage:" in run(*command.split(), "--help")


def test_ctrl_c_stops_between_issues_with_exit_130(tmp_path):
    folder = tmp_path / "conn"
    run("init", folder, "--basic")
    toml = folder / "connection.toml"
    toml.write_text(toml.read_text().replace("# [limits]", "[limits]\nisolate = false\nbatch = 1\n# "))
    from connectors.local import LocalTracker

    with LocalTracker(folder / "qa") as qa:
        for n in range(300):
            qa.create_issue({"summary": f"issue {n}", "labels": ["sync"]})
    proc = subprocess.Popen([sys.executable, "-c", "from rulelang.cli import main; main()", "sync", str(folder),
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state = folder / ".state" / "state.sqlite"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until it is delivering
        if state.exists():
            with sqlite3.connect(state) as db:
                try:
                    if db.execute("SELECT count(*) FROM queue WHERE state = 'done'").fetchone()[0] >= 3:
                        break
                except sqlite3.OperationalError:
                    pass
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    report = json.loads(out)
    assert report["interrupted"] and report["total"]["applied"] < 300
    status = json.loads(run("status", folder, "--json"))
    assert status["queue"]["in_progress"] == 0  # nothing left half-claimed
    final = json.loads(run("sync", folder, "--json"))
    assert final["waiting"] == 0 and final["in_error"] == 0
    assert len(json.loads(run("status", folder, "--json"))["twins"]) == 300


def test_watch_keeps_syncing_until_ctrl_c(conn):
    proc = subprocess.Popen([sys.executable, "-c", "from rulelang.cli import main; main()", "sync", str(conn),
                             "--watch", "--interval", "0.2", "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)
    from connectors.local import LocalTracker

    with LocalTracker(conn / "qa") as qa:
        qa.create_issue({"summary": "made while watching", "labels": ["sync"]})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "made while watching" not in run("local", "list", conn / "dev"):
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "Traceback" not in err
    reports, decoder, at = [], json.JSONDecoder(), 0
    while out[at:].strip():  # one JSON report per pass
        report, end = decoder.raw_decode(out[at:].lstrip())
        reports.append(report)
        at = len(out) - len(out[at:].lstrip()) + end
    assert len(reports) >= 2 and sum(r["total"]["created"] for r in reports) == 1
