"""The real rules runtime in the real worker pool, end to end: a rule that runs too long or eats too much
memory gets its worker killed (or its allocation refused); that issue is parked with the reason and the
others sync."""

from __future__ import annotations

import pytest
from engine_helpers import open_engine, write_folder

from connectors.local import LocalTracker
from runtime.changes import AddItem, ChangeSet

OUT = """\
replica.key = issue.key
replica.summary = issue.summary
replica.labels = issue.labels
let n = 0
if issue.labels.contains("spin") {
    for a in issue.comments {
        for b in issue.comments {
            n = n + 1
        }
    }
}
if issue.labels.contains("hog") {
    let big = issue.description + issue.description
    let hoard = []
    for c in issue.comments {
        hoard += [big + c.body]
    }
    replica.custom["size"] = len(hoard)
}
"""
IN = """\
issue.summary = replica.summary
"""


@pytest.mark.parametrize("label,reason", [("spin", "rules worker killed"), ("hog", "memory")])
def test_a_runaway_rule_fails_only_its_issue(tmp_path, label, reason):
    folder = write_folder(tmp_path / "c", fake=False, sync={"QA -> Dev": "automatic"},
                          rules={"QA.out": OUT, "Dev.in": IN, "QA.in": IN, "Dev.out": "replica.key = issue.key\n"},
                          limits={"isolate": True, "workers": 1, "issue_time_ms": 300 if label == "spin" else 20_000,
                                  "rule_time_ms": 600_000,
                                  "steps": 1_000_000_000, "worker_memory_mb": 256})
    with LocalTracker(folder / "qa", project="QA") as qa, LocalTracker(folder / "dev", project="DEV") as dev:
        qa.create_issue({"summary": "before", "labels": ["sync"]})
        bad = qa.create_issue({"summary": "runaway", "labels": ["sync", label], "description": "x" * 400_000})
        qa.apply(bad, ChangeSet(False, tuple(AddItem("comments", f"r{n}", {"body": f"c{n}"}) for n in range(3000))))
        qa.create_issue({"summary": "after", "labels": ["sync"]})
        with open_engine(folder, fake=False) as engine:
            report = engine.sync()
            assert report.total.created == 2 and report.total.errors == 1
            (entry,) = engine.queue()
            assert entry["source"] == f"QA {bad}" and reason in entry["reason"]
            assert sorted(i["summary"] for i in dev.list_issues()) == ["after", "before"]
