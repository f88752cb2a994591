"""The rule runners: the worker pool's isolation (kill past wall time, memory limit, crash) and batching."""

from __future__ import annotations

import json
import time

import pytest

from runtime.workers import InProcessRunner, Job, Program, RunnerLimits, WorkerPool

SPEC = json.dumps({"fields": ["summary"], "comments": False})
PROGRAMS = {"out": Program("out", SPEC, "out.rules", "outgoing", "fakerules:compile_rules"),
            "in": Program("in", SPEC, "in.rules", "incoming", "fakerules:compile_rules")}


def _issue(n: int, *labels: str) -> dict:
    return {"key": f"QA-{n}", "summary": f"issue {n}", "labels": list(labels)}


@pytest.fixture(scope="module")
def pool():
    p = WorkerPool(PROGRAMS, RunnerLimits(workers=2, batch=4, memory_mb=256, issue_seconds=0.5))
    yield p
    p.close()


def test_pool_runs_batches_in_order_like_in_process(pool):
    jobs = [Job("out", issue=_issue(n)) for n in range(1, 23)]
    expected = InProcessRunner(PROGRAMS, RunnerLimits()).run(jobs)
    got = pool.run(jobs)
    assert [o.replica for o in got] == [o.replica for o in expected]
    assert all(o.ok for o in got)
    incoming = pool.run([Job("in", replica={"key": "QA-1", "summary": "s"}, issue=None)])
    assert incoming[0].changes is not None and incoming[0].changes.create


def test_a_worker_past_its_wall_time_is_killed_and_only_its_issue_fails(pool):
    jobs = [Job("out", issue=_issue(1)), Job("out", issue=_issue(2, "slow")), Job("out", issue=_issue(3))]
    start = time.monotonic()
    got = pool.run(jobs)
    assert time.monotonic() - start < 10
    assert got[0].ok and got[2].ok and got[2].replica["summary"] == "issue 3"
    assert not got[1].ok and "killed" in got[1].error and got[1].code == "B592"
    assert pool.killed >= 1


def test_a_worker_over_its_memory_limit_fails_only_its_issue(pool):
    got = pool.run([Job("out", issue=_issue(1, "hog")), Job("out", issue=_issue(2))])
    assert not got[0].ok and "memory" in got[0].error
    assert got[1].ok


def test_a_crashed_worker_fails_only_its_issue_and_is_replaced(pool):
    got = pool.run([Job("out", issue=_issue(n, *(["crash"] if n == 2 else []))) for n in range(1, 6)])
    assert [o.ok for o in got] == [True, False, True, True, True]
    assert "exit code 7" in got[1].error
    assert all(o.ok for o in pool.run([Job("out", issue=_issue(9))]))


def test_rule_failures_come_back_as_outcomes_not_exceptions(pool):
    spec = json.dumps({"fields": [], "fail_label": "boom"})
    p = WorkerPool({"out": Program("out", spec, "f.rules", "outgoing", "fakerules:compile_rules")},
                   RunnerLimits(workers=1))
    try:
        got = p.run([Job("out", issue=_issue(1, "boom")), Job("out", issue=_issue(2))])
    finally:
        p.close()
    assert "f.rules:3:5" in got[0].error and got[0].code == "X490"
    assert got[1].ok


def test_lookups_travel_to_the_parent(pool):
    asked = []

    def lookup(kind, arg):
        asked.append((kind, arg))
        return {"id": "u1", "email": arg, "name": "Ada"}

    spec = json.dumps({"fields": ["summary"], "lookup_user": True})
    p = WorkerPool({"out": Program("out", spec, "f.rules", "outgoing", "fakerules:compile_rules")},
                   RunnerLimits(workers=1))
    try:
        got = p.run([Job("out", issue=_issue(1) | {"reporter": {"email": "ada@x"}})], lookup)
    finally:
        p.close()
    assert asked == [("user", "ada@x")]
    assert got[0].replica["reporter"] == {"id": "u1", "email": "ada@x", "name": "Ada"}


def test_workers_do_not_import_the_parents_main_module(tmp_path):
    """Workers need nothing from `__main__` (the CLI, a test runner): importing it again in each worker
    only slowed its start-up."""
    import os
    import subprocess
    import sys

    marker = tmp_path / "imported"
    script = tmp_path / "main_script.py"
    script.write_text(f"""
import pathlib, sys
if __name__ != "__main__":
    pathlib.Path({str(marker)!r}).write_text(__name__)
else:
    sys.path[:0] = {sys.path!r}
    from test_workers import PROGRAMS, _issue
    from runtime.workers import Job, RunnerLimits, WorkerPool
    with WorkerPool(PROGRAMS, RunnerLimits(workers=2, batch=1)) as pool:
        print(all(o.ok for o in pool.run([Job("out", issue=_issue(n)) for n in range(4)])))
""")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                         env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.strip() == "True", out.stderr
    assert not marker.exists()
