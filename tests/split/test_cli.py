"""`rulelang split`, `rulelang lint --sharing` and `rulelang dry-run CONNECTION --from`."""

from __future__ import annotations

import json
import pathlib

import pytest
from click.testing import CliRunner, Result

from rulelang.cli import main
from rulelang.format import same_nodes
from rulelang.parse import parse

SCRIPT = """\
BlueJira.issue.summary = GreenJira.issue.summary
GreenJira.issue.labels = ["from Jira synchronization"]
map BlueJira.issue.status <-> GreenJira.issue.status {
    "To Do" <-> "Open"
    "Done"  <-> "Closed"
    else keep
}
if GreenJira.issue.priority == "Blocker" {
    log "blocker ${GreenJira.issue.key}"
}
"""


@pytest.fixture
def folder(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.rules").write_text(SCRIPT, encoding="utf-8")
    (tmp_path / "green.json").write_text(json.dumps({"key": "G-1", "summary": "Crash", "status": "Open",
                                                     "priority": "Blocker"}), encoding="utf-8")
    (tmp_path / "blue.json").write_text(json.dumps({"key": "B-7", "summary": "old", "status": "Done"}),
                                        encoding="utf-8")
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_split_prints_four_programs(folder: pathlib.Path) -> None:
    got = run("split", "c.rules")
    assert got.exit_code == 0, got.output
    heads = [line for line in got.stdout.splitlines() if line.startswith("// ====")]
    assert heads == ["// ==== BlueJira-outgoing.rules ====", "// ==== BlueJira-incoming.rules ====",
                     "// ==== GreenJira-outgoing.rules ====", "// ==== GreenJira-incoming.rules ===="]
    assert "issue.summary = replica.summary" in got.stdout


def test_split_writes_files_that_parse_back(folder: pathlib.Path) -> None:
    from rulelang.split import split

    got = run("split", "c.rules", "--out", "out")
    assert got.exit_code == 0, got.output
    names = sorted(p.name for p in (folder / "out").iterdir())
    assert names == ["BlueJira-incoming.rules", "BlueJira-outgoing.rules", "GreenJira-incoming.rules",
                     "GreenJira-outgoing.rules"]
    assert got.stdout.splitlines() == [f"wrote {pathlib.Path('out') / n}" for n in
                                       ["BlueJira-outgoing.rules", "BlueJira-incoming.rules",
                                        "GreenJira-outgoing.rules", "GreenJira-incoming.rules"]]
    result = split(parse(SCRIPT, "c.rules"))
    for name in names:
        instance, kind = name.removesuffix(".rules").split("-")
        text = (folder / "out" / name).read_text(encoding="utf-8")
        assert same_nodes(parse(text, name), result.program(instance, kind))
    lint = run("lint", "--strict", "out/BlueJira-incoming.rules", "out/GreenJira-outgoing.rules",
               "out/GreenJira-incoming.rules", "out/BlueJira-outgoing.rules")
    assert lint.exit_code == 0, lint.output


def test_lint_sharing_text(folder: pathlib.Path) -> None:
    got = run("lint", "--sharing", "c.rules")
    assert got.exit_code == 0, got.output
    assert got.stdout.endswith(
        "sharing report:\n"
        "c.rules: what leaves each side\n"
        "  BlueJira sends to GreenJira:\n"
        "    status      derived  line 3\n"
        "  GreenJira sends to BlueJira:\n"
        "    key         as is    line 9\n"
        "    priority    derived  line 8\n"
        "    status      derived  line 3\n"
        "    summary     as is    line 1\n")


def test_lint_sharing_json(folder: pathlib.Path) -> None:
    got = run("lint", "--sharing", "--format", "json", "c.rules", "missing.rules")
    assert got.exit_code == 2
    doc = json.loads(got.stdout)
    assert [s.get("error") for s in doc["sharing"]] == [None, "no sharing report: the file has errors"]
    sides = {s["sender"]: s for s in doc["sharing"][0]["sides"]}
    # the target needs the decision of line 8 (it logs there): one yes/no computed from priority travels
    assert {"field": "priority", "how": "derived", "lines": [8]} in sides["GreenJira"]["sends"]
    assert sides["GreenJira"]["decides"] == []
    assert {"field": "summary", "how": "as is", "lines": [1]} in sides["GreenJira"]["sends"]
    without = json.loads(run("lint", "--format", "json", "c.rules").stdout)
    assert "sharing" not in without


def test_lint_sharing_needs_text_or_json(folder: pathlib.Path) -> None:
    got = run("lint", "--sharing", "--format", "sarif", "c.rules")
    assert got.exit_code == 2
    assert "--sharing works with --format text or json" in got.output


def test_dry_run_connection_text(folder: pathlib.Path) -> None:
    got = run("dry-run", "c.rules", "--from", "GreenJira", "--issue", "green.json", "--local", "blue.json")
    assert got.exit_code == 0, got.output
    assert got.stdout.splitlines() == [
        "GreenJira → BlueJira (c.rules, split)",
        "GreenJira outgoing:",
        "  replica:",
        "  {",
        '    "summary": "Crash",',
        '    "custom": {',
        '      "status_mapped": "To Do",',
        '      "priority_check": true,',
        '      "key_text": "blocker G-1"',
        "    }",
        "  }",
        "BlueJira incoming:",
        "  changes to B-7:",
        '    summary: "old" → "Crash"',
        '    status: "Done" → "To Do" (moved by a transition)',
        "  log c.rules:9:5: blocker G-1",
    ]


def test_dry_run_connection_json_first_sync(folder: pathlib.Path) -> None:
    got = run("dry-run", "c.rules", "--from", "BlueJira", "--issue", "blue.json", "--format", "json")
    assert got.exit_code == 0, got.output
    doc = json.loads(got.stdout)
    assert doc["from"] == "BlueJira" and doc["to"] == "GreenJira"
    assert doc["outgoing"]["replica"] == {"custom": {"status_mapped": "Closed"}}
    assert doc["incoming"]["create"] is True
    assert doc["incoming"]["issue"] == {"labels": ["from Jira synchronization"], "status": "Closed"}


def test_dry_run_connection_errors(folder: pathlib.Path) -> None:
    got = run("dry-run", "c.rules", "--from", "Red", "--issue", "green.json")
    assert got.exit_code == 2
    assert got.stderr == "error: --from Red: the instances of c.rules are BlueJira, GreenJira\n"
    (folder / "bad.rules").write_text("Blue.issue.custom['n'] = Green.issue.summary + 1\n", encoding="utf-8")
    got = run("dry-run", "bad.rules", "--from", "Green", "--issue", "green.json")
    assert got.exit_code == 1
    assert got.stderr == ("bad.rules:1:26: error X401: cannot add text and number\n"
                          "    Blue.issue.custom['n'] = Green.issue.summary + 1\n"
                          "                             ^^^^^^^^^^^^^^^^^^^^^^^\n"
                          '    hint: turn the number into text first: "${n}" or str(n)\n')
    (folder / "stop.rules").write_text('if Blue.issue.status == "Done" {\n    fail "done: ${Green.issue.key}"\n}\n'
                                       "Blue.issue.summary = Green.issue.summary\n", encoding="utf-8")
    got = run("dry-run", "stop.rules", "--from", "Green", "--issue", "green.json", "--local", "blue.json")
    assert got.exit_code == 1
    assert got.stderr.startswith("stop.rules:2:5: error X490: done: G-1\n")
