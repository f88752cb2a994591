"""`rulelang dry-run` and `rulelang compile` through click's CliRunner: exact output and exit codes."""

from __future__ import annotations

import json
import pathlib

import pytest
from click.testing import CliRunner

from rulelang.cli import main

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures"

OUT_RULES = """replica.key = issue.key
replica.summary = "[${issue.key}] ${issue.summary}"
replica.labels = issue.labels
log "sending ${issue.key}"
"""
IN_RULES = """issue.summary = replica.summary
issue.status = {"Fixed": "Done"}[replica.status] ?? issue.status
issue.assignee = user(replica.assignee.email)
issue.comments = replica.comments
"""
ISSUE = {"key": "QA-1", "summary": "Broken", "labels": ["ui"]}
REPLICA = {"summary": "Broken!", "status": "Fixed", "assignee": {"email": "a@x"},
           "comments": [{"id": "r1", "body": "hi"}, {"id": "r2", "body": "new"}]}
LOCAL = {"key": "DEV-1", "summary": "Broken", "status": "Open",
         "comments": [{"id": "L1", "body": "old"}, {"id": "L5", "body": "mine"}]}
LOOKUPS = {"users": {"a@x": {"id": "7", "email": "a@x", "name": "Ann"}}, "id_maps": {"comments": {"r1": "L1"}}}


@pytest.fixture
def files(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out.rules").write_text(OUT_RULES)
    (tmp_path / "in.rules").write_text(IN_RULES)
    for name, doc in (("issue.json", ISSUE), ("replica.json", REPLICA), ("local.json", LOCAL),
                      ("lookups.json", LOOKUPS), ("previous.json", dict(REPLICA, status="Open"))):
        (tmp_path / name).write_text(json.dumps(doc))
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_outgoing_json(files: pathlib.Path) -> None:
    r = invoke("dry-run", "out.rules", "--issue", "issue.json", "--format", "json")
    assert r.exit_code == 0
    assert json.loads(r.stdout) == {"replica": {"key": "QA-1", "summary": "[QA-1] Broken", "labels": ["ui"]},
                                    "skipped": None, "log": [{"line": 4, "col": 1, "text": "sending QA-1"}]}


def test_outgoing_text_with_explain(files: pathlib.Path) -> None:
    r = invoke("dry-run", "out.rules", "--issue", "issue.json", "--explain")
    assert r.exit_code == 0
    assert r.stdout == """replica:
{
  "key": "QA-1",
  "summary": "[QA-1] Broken",
  "labels": [
    "ui"
  ]
}
log out.rules:4:1: sending QA-1
explain:
  key      ← line 1: replica.key = issue.key
  labels   ← line 3: replica.labels = issue.labels
  summary  ← line 2: replica.summary = "[${issue.key}] ${issue.summary}"
"""


def test_incoming_json(files: pathlib.Path) -> None:
    r = invoke("dry-run", "in.rules", "--issue", "replica.json", "--local", "local.json", "--previous",
               "previous.json", "--lookups", "lookups.json", "--format", "json", "--explain")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["create"] is False and doc["skipped"] is None and doc["log"] == []
    assert doc["changes"] == [
        {"op": "set", "field": "summary", "value": "Broken!"},
        {"op": "set", "field": "assignee", "value": {"id": "7", "email": "a@x", "name": "Ann"}},
        {"op": "status", "value": "Done"},
        {"op": "update", "kind": "comments", "remote_id": "r1", "local_id": "L1", "value": {"body": "hi"}},
        {"op": "add", "kind": "comments", "remote_id": "r2", "value": {"body": "new"}},
    ]
    assert doc["issue"]["comments"] == [{"id": "L1", "body": "hi"}, {"id": "L5", "body": "mine"},
                                        {"id": None, "body": "new"}]
    assert doc["explain"] == {"assignee": "in.rules:3:1", "comments": "in.rules:4:1", "status": "in.rules:2:1",
                              "summary": "in.rules:1:1"}


def test_incoming_text_diff(files: pathlib.Path) -> None:
    r = invoke("dry-run", "in.rules", "--issue", "replica.json", "--local", "local.json", "--lookups",
               "lookups.json")
    assert r.exit_code == 0
    assert r.stdout == """changes to DEV-1:
  summary: "Broken" → "Broken!"
  assignee: null → {"id": "7", "email": "a@x", "name": "Ann"}
  status: "Open" → "Done" (moved by a transition)
  ~ comments L1 (remote r1): {"body": "hi"}
  + comments from remote r2: {"body": "new"}
"""


def test_incoming_first_sync_text(files: pathlib.Path) -> None:
    r = invoke("dry-run", "in.rules", "--issue", "replica.json")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[:3] == ["first sync: a new issue would be created", '  summary: "Broken!"',
                                         '  status: "Done" (moved by a transition)']


def test_skip_is_not_an_error(files: pathlib.Path) -> None:
    (files / "skip.rules").write_text('skip "not today"\nreplica.key = issue.key\n')
    r = invoke("dry-run", "skip.rules", "--issue", "issue.json", "--format", "json")
    assert r.exit_code == 0
    assert json.loads(r.stdout) == {"replica": None, "skipped": "not today", "log": []}
    assert invoke("dry-run", "skip.rules", "--issue", "issue.json").stdout == "skipped: not today\n"


def test_rule_error_prints_the_positioned_diagnostic(files: pathlib.Path) -> None:
    (files / "bad.rules").write_text("replica.key = issue.key\nreplica.summary = issue.summary + 1\n")
    r = invoke("dry-run", "bad.rules", "--issue", "issue.json")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr == """bad.rules:2:19: error X401: cannot add text and number
    replica.summary = issue.summary + 1
                      ^^^^^^^^^^^^^^^^^
    hint: turn the number into text first: "${n}" or str(n)
"""


def test_check_error_exits_1(files: pathlib.Path) -> None:
    (files / "typo.rules").write_text("replica.summary = issue.sumary\n")
    r = invoke("dry-run", "typo.rules", "--issue", "issue.json")
    assert r.exit_code == 1
    assert r.stderr.startswith("typo.rules:1:25: error R102: unknown field 'sumary' on issue")


def test_fail_exits_1(files: pathlib.Path) -> None:
    (files / "fail.rules").write_text('fail "parent ${issue.key} missing"\n')
    r = invoke("dry-run", "fail.rules", "--issue", "issue.json")
    assert r.exit_code == 1
    assert r.stderr.splitlines()[0] == "fail.rules:1:1: error X490: parent QA-1 missing"


@pytest.mark.parametrize("content, message", [
    ('{"key" "QA-1"}', "issue.json:1:8: error P601: issue.json is not valid JSON: Expecting ':' delimiter"),
    ('{"n": NaN}', "issue.json:1:7: error P604: issue.json: NaN is not a JSON number"),
    ('{"n": 123456789012345678901234}', "issue.json:1:7: error P606: issue.json: integer out of range "
                                        "(integers are 64-bit)"),
    ('{"a": 1, "a": 2}', "issue.json:1:10: error P607: issue.json: duplicate key 'a' in one object"),
    ('{"s": "\\ud800"}', "error P605: issue.json: lone surrogate (invalid Unicode) in the text at $.s"),
    ('[1, 2]', "error: issue.json: the issue must be a JSON object"),
])
def test_bad_input_exits_2(files: pathlib.Path, content: str, message: str) -> None:
    (files / "issue.json").write_text(content)
    r = invoke("dry-run", "out.rules", "--issue", "issue.json")
    assert (r.exit_code, r.stderr.strip()) == (2, message)


def test_missing_files_exit_2(files: pathlib.Path) -> None:
    r = invoke("dry-run", "out.rules", "--issue", "nope.json")
    assert (r.exit_code, r.stderr) == (2, "error: cannot read issue nope.json: No such file or directory\n")
    r = invoke("dry-run", "nope.rules", "--issue", "issue.json")
    assert (r.exit_code, r.stderr) == (2, "error: cannot read nope.rules: No such file or directory\n")
    (files / "l.json").write_text('{"users": [1]}')
    r = invoke("dry-run", "out.rules", "--issue", "issue.json", "--lookups", "l.json")
    assert (r.exit_code, r.stderr) == (2, "error: l.json: 'users' must map e-mail addresses to user objects\n")


def test_nothing_is_written(files: pathlib.Path) -> None:
    before = sorted(p.name for p in files.iterdir())
    invoke("dry-run", "in.rules", "--issue", "replica.json", "--local", "local.json", "--format", "json")
    assert sorted(p.name for p in files.iterdir()) == before
    assert json.loads((files / "local.json").read_text()) == LOCAL


@pytest.mark.parametrize("fixture, key, summary", [
    ("cloud-v2-get-issue__sentry.json", "SEN-5", "example summary"),
    ("cloud-v3-search-issues-adf__airbyte.json", "TESTKEY13-1", "My Summary"),
])
def test_raw_jira_issue_as_input(files: pathlib.Path, fixture: str, key: str, summary: str) -> None:
    doc = json.loads((FIXTURES / "jira-real" / fixture).read_text())
    doc = doc["issues"][0] if "issues" in doc else doc  # v3: the first issue of a search result
    (files / "jira.json").write_text(json.dumps(doc))
    (files / "j.rules").write_text("replica.key = issue.key\nreplica.summary = issue.summary\n"
                                   "replica.status = issue.status\nreplica.labels = issue.labels\n")
    r = invoke("dry-run", "j.rules", "--issue", "jira.json", "--format", "json")
    assert r.exit_code == 0, r.stderr
    replica = json.loads(r.stdout)["replica"]
    assert (replica["key"], replica["summary"], replica["status"]) == (key, summary, "To Do")
    assert isinstance(replica["labels"], list)


def test_isolate_runs_in_a_worker_with_the_same_result(files: pathlib.Path) -> None:
    plain = invoke("dry-run", "out.rules", "--issue", "issue.json", "--format", "json")
    isolated = invoke("dry-run", "out.rules", "--issue", "issue.json", "--format", "json", "--isolate")
    assert (isolated.exit_code, isolated.stdout) == (0, plain.stdout)
    (files / "bad.rules").write_text("replica.summary = issue.summary + 1\n")
    bad = invoke("dry-run", "bad.rules", "--issue", "issue.json", "--isolate")
    assert bad.exit_code == 1 and "error X401" in bad.stderr


def test_compile_prints_the_generated_python(files: pathlib.Path) -> None:
    r = invoke("compile", "out.rules")
    assert r.exit_code == 0
    assert r.stdout == """# generated from out.rules (outgoing rules) by rulelang
def rule_main(rt, r_replica, r_issue, r_connection):
    rt_set_many(rt, r_replica, {'key': rt_dget(r_issue, 'key'), 'summary': rt_text(rt, '[', rt_dget(r_issue, 'key'), '] ', rt_dget(r_issue, 'summary')), 'labels': rt_dget(r_issue, 'labels')}, 0)
    rt_log(rt, rt_text(rt, 'sending ', rt_dget(r_issue, 'key')), 3)
"""


def test_compile_errors(files: pathlib.Path) -> None:
    (files / "bad.rules").write_text("replica.summary = open(1)\n")
    r = invoke("compile", "bad.rules")
    assert r.exit_code == 1 and r.stderr.startswith("bad.rules:1:19: error R105")
    assert invoke("compile", "missing.rules").exit_code == 2
