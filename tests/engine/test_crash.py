"""Crash safety: a 500-issue two-way sync killed with SIGKILL at random moments 20 times, with edits on both
sides between restarts. Afterwards every issue has exactly one twin, the fields are what the rules say,
and no comment was posted twice.

Each kill comes a random number of progress steps into the run (the driver prints one per step) plus a
random few milliseconds, so kills land in every phase on a fast machine as on a slow one. The folders live
on tmpfs when there is one: SIGKILL keeps the page cache, so what a killed process wrote is there either way.
"""

from __future__ import annotations

import json
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter

import pytest
from click.testing import CliRunner

from connectors.local import LocalTracker
from rulelang.cli import main

DRIVER = pathlib.Path(__file__).with_name("crash_driver.py")
ISSUES, KILLS = 500, 20


@pytest.fixture
def folder():
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(dir=base, prefix="rulelang-crash-") as tmp:
        yield pathlib.Path(tmp) / "conn"


def _start(folder: pathlib.Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, str(DRIVER), str(folder)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _kill_after(proc: subprocess.Popen, ticks: int, pause: float) -> bool:
    """Let the run make `ticks` steps of progress, kill it `pause` seconds later; whether it was still working."""
    assert proc.stdout is not None
    for _ in range(ticks):
        line = proc.stdout.readline()
        if not line or line.startswith("done"):
            break
    time.sleep(pause)
    running = proc.poll() is None
    proc.kill()
    proc.wait()
    return running


def test_sigkill_at_random_moments_loses_nothing_and_duplicates_nothing(folder):
    rng = random.Random(20240501)
    assert CliRunner().invoke(main, ["init", str(folder), "--basic"]).exit_code == 0
    toml = folder / "connection.toml"
    toml.write_text(toml.read_text().replace("# [limits]", "[limits]\nisolate = false\nbatch = 20\n# "))
    expected_qa: dict[str, list[str]] = {}  # QA key -> public comment bodies, in order
    with LocalTracker(folder / "qa") as qa:
        for n in range(ISSUES):
            key = qa.create_issue({"summary": f"issue {n}", "description": f"steps {n}", "type": "Bug",
                                   "labels": ["sync"]})
            qa.add_comment(key, f"public {key}")
            qa.add_comment(key, f"internal {key}", internal=True)
            expected_qa[key] = [f"public {key}"]
    dev_added: dict[str, list[str]] = {}  # DEV key -> comments written on Dev
    killed_while_running = 0
    for round_ in range(KILLS):
        # The first rounds stop the first sync of 500 issues at various depths; later ones, the edits.
        ticks = rng.randint(0, 400) if round_ < 3 else rng.randint(0, 60)
        killed_while_running += _kill_after(_start(folder), ticks, rng.uniform(0.0, 0.02))
        if round_ >= 3:  # people keep working between restarts
            with LocalTracker(folder / "qa") as qa, LocalTracker(folder / "dev") as dev:
                for key in rng.sample(sorted(expected_qa), 25):
                    qa.edit_issue(key, {"summary": f"{key} edited in round {round_}"})
                    qa.add_comment(key, f"round {round_} on {key}")
                    expected_qa[key].append(f"round {round_} on {key}")
                for issue in rng.sample(dev.list_issues(), min(8, len(dev.list_issues()))):
                    body = f"dev round {round_} on {issue['key']}"
                    dev.add_comment(issue["key"], body)
                    dev_added.setdefault(issue["key"], []).append(body)
    assert killed_while_running >= KILLS // 2, "most kills should land while the sync is working"
    final = _start(folder)
    out, _ = final.communicate(timeout=300)
    assert final.returncode == 0 and out.splitlines()[-1] == "done 0"

    runner = CliRunner()
    status = json.loads(runner.invoke(main, ["status", str(folder), "--json"]).output)
    assert status["queue"]["error"] == status["queue"]["pending"] == status["queue"]["in_progress"] == 0
    twins = status["twins"]
    assert len(twins) == ISSUES
    assert len({t["keys"]["QA"] for t in twins}) == len({t["keys"]["Dev"] for t in twins}) == ISSUES
    with LocalTracker(folder / "qa") as qa, LocalTracker(folder / "dev") as dev:
        dev_issues = {i["key"]: i for i in dev.list_issues()}
        assert len(dev_issues) == ISSUES, "a twin was created twice"
        for twin in twins:
            q, d = qa.get_issue(twin["keys"]["QA"]), dev_issues[twin["keys"]["Dev"]]
            assert (d["summary"], d["description"], d["type"]) == (q["summary"], q["description"], "Bug")
            dev_bodies = [c["body"] for c in d["comments"]]
            qa_bodies = [c["body"] for c in q["comments"]]
            assert not [b for b, n in Counter(dev_bodies).items() if n > 1], f"{d['key']}: {dev_bodies}"
            assert not [b for b, n in Counter(qa_bodies).items() if n > 1], f"{q['key']}: {qa_bodies}"
            from_dev = dev_added.get(d["key"], [])
            assert sorted(dev_bodies) == sorted(expected_qa[q["key"]] + from_dev), (d["key"], dev_bodies)
            assert sorted(qa_bodies) == sorted(expected_qa[q["key"]] + [f"internal {q['key']}"] + from_dev), \
                (q["key"], qa_bodies)
