"""examples/visual-mode: the committed split programs and sharing report are what the tool makes now."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rulelang.cli import main
from tests.conftest import check_golden

from .helpers import ROOT

EXAMPLE = ROOT / "examples" / "visual-mode"
SIDES = ["BlueJira-outgoing.rules", "BlueJira-incoming.rules", "GreenJira-outgoing.rules",
         "GreenJira-incoming.rules"]


@pytest.fixture
def in_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLE)


def test_split_programs_are_up_to_date(in_example: None, tmp_path, update_goldens: bool) -> None:
    got = CliRunner().invoke(main, ["split", "connection.rules", "--out", str(tmp_path)])
    assert got.exit_code == 0, got.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(SIDES)
    for name in SIDES:
        check_golden(EXAMPLE / "split" / name, (tmp_path / name).read_text(encoding="utf-8"), update_goldens)


def test_sharing_report_is_up_to_date(in_example: None, update_goldens: bool) -> None:
    text = CliRunner().invoke(main, ["lint", "--sharing", "connection.rules"])
    assert text.exit_code == 0, text.output
    check_golden(EXAMPLE / "sharing.txt", text.stdout, update_goldens)
    doc = CliRunner().invoke(main, ["lint", "--sharing", "--format", "json", "connection.rules"])
    check_golden(EXAMPLE / "sharing.json", doc.stdout, update_goldens)
    sides = {s["sender"]: s for s in json.loads(doc.stdout)["sharing"][0]["sides"]}
    green = {f["field"] for f in sides["GreenJira"]["sends"]}
    assert "comments.body" in green and not any(f.startswith(("custom", "attachments")) for f in green)


def test_the_example_lints_clean_and_dry_runs(in_example: None) -> None:
    lint = CliRunner().invoke(main, ["lint", "--strict", "connection.rules", "split"])
    assert lint.exit_code == 0, lint.output
    got = CliRunner().invoke(main, ["dry-run", "connection.rules", "--from", "GreenJira", "--issue", "green.json",
                                    "--local", "blue.json", "--format", "json"])
    assert got.exit_code == 0, got.output
    doc = json.loads(got.stdout)
    assert [c["body"] for c in doc["outgoing"]["replica"]["comments"]] == ["Reproduced on 2.3.1."]
    assert doc["incoming"]["issue"]["status"] == "To Do"
