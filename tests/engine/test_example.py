"""examples/qa-dev end to end, as the README runs it (rules in worker processes): QA outsourcing, confidential
attachments, the service-desk flow, a sub-task after its parent; a second run has nothing to do."""

from __future__ import annotations

import json
import pathlib
import shutil

from click.testing import CliRunner

from rulelang.cli import main

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "qa-dev"


def run(*args, code=0):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_the_example_syncs_then_rests_then_carries_a_change(tmp_path):
    folder = tmp_path / "qa-dev"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(".state"))
    first = json.loads(run("sync", folder, "--json"))
    assert first["directions"]["QA -> Dev"]["created"] == 10 and first["directions"]["Dev -> QA"]["created"] == 2
    assert first["total"]["errors"] == 0 and first["in_error"] == 0
    second = json.loads(run("sync", folder, "--json"))
    assert second["total"]["sent"] == 0 and second["total"]["applied"] == 0

    twins = {t["keys"]["QA"]: t["keys"]["Dev"] for t in json.loads(run("status", folder, "--json"))["twins"]}

    def show(instance, key):
        return json.loads(run("local", "show", folder, key, "-i", instance, "--json"))

    bug = show("Dev", twins["QA-1"])
    assert bug["summary"].startswith("[QA] Checkout fails") and bug["priority"] == "Highest"
    assert [a["filename"] for a in bug["attachments"]] == ["checkout-500.png", "server-response.har"]
    assert [c["body"] for c in bug["comments"]] == ["Maria Lopez (QA): Reproduced on staging build 4.2.0-rc3, "
                                                    "Chrome and Firefox."]  # the internal one stayed home
    assert show("Dev", twins["QA-3"])["parent"] == twins["QA-2"]  # the sub-task found its parent
    support = show("Dev", twins["QA-13"])
    assert support["summary"].startswith("[Support]") and support["type"] == "Task"
    assert support["reporter"] is None  # the customer's identity stayed with the desk
    test_task = show("QA", next(q for q, d in twins.items() if d == "DEV-1"))
    assert test_task["summary"].startswith("Test: One-click reorder") and test_task["attachments"] == []
    assert "QA-9" not in twins and "QA-15" not in twins  # not for Dev

    run("local", "edit", folder, twins["QA-1"], "-i", "Dev", "--status", "Done")
    run("local", "edit", folder, twins["QA-13"], "-i", "Dev", "--status", "Done")
    run("local", "comment", folder, "QA-1", "Verified on rc4.", "-i", "QA")
    third = json.loads(run("sync", folder, "--json"))
    assert third["total"]["errors"] == 0
    assert show("QA", "QA-1")["status"] == "Ready for Retest"
    assert show("QA", "QA-13")["status"] == "Waiting for Customer"
    assert "Verified on rc4." in show("Dev", twins["QA-1"])["comments"][-1]["body"]
    # both sides of QA-1 changed in one pass: one more pass carries each side's new state across, then rest
    assert json.loads(run("sync", folder, "--json"))["total"]["errors"] == 0
    assert json.loads(run("sync", folder, "--json"))["total"]["sent"] == 0
    assert show("QA", "QA-1")["status"] == "Ready for Retest"


def test_running_the_example_never_writes_tracked_files():
    ignored = (EXAMPLE.parents[1] / ".gitignore").read_text()
    assert "examples/**/.state/" in ignored
    toml = (EXAMPLE / "connection.toml").read_text()
    assert 'path = ".state/qa"' in toml and 'path = ".state/dev"' in toml
