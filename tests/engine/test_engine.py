"""The engine's promises on two local trackers (rules in-process, a stand-in rules runtime): scope, echoes,
order, pause, methods, skip/fail, faults, concurrent edits, unreadable issues."""

from __future__ import annotations

import sqlite3

import pytest
from engine_faults import Faulty
from engine_helpers import BASIC, open_engine, watching_apply, write_folder

from connectors.local import LocalTracker
from rulelang._connectors import build_connector
from rulelang.errors import ConfigError


def _seed(qa: LocalTracker, n: int, *, label: str = "sync") -> list[str]:
    keys = []
    for i in range(1, n + 1):
        key = qa.create_issue({"summary": f"bug {i}", "description": f"steps {i}", "labels": [label],
                               "priority": "High"})
        qa.add_comment(key, f"public {i}")
        qa.add_comment(key, f"internal {i}", internal=True)
        keys.append(key)
    return keys


def _settle(engine, passes: int = 6) -> int:
    """Passes until one sends nothing; how many it took."""
    for n in range(1, passes + 1):
        report = engine.sync()
        if report.total.sent == 0 and report.waiting == 0:
            return n
    raise AssertionError(f"still sending after {passes} passes: {report.to_json()}")


def _twin_of(dev: LocalTracker, engine, qa_key: str) -> dict:
    twin = engine.find_twin(qa_key)
    return dev.get_issue(twin.key_on("Dev"))


def test_first_sync_creates_twins_and_a_second_pass_has_nothing_to_do(folder, trackers):
    qa, dev = trackers
    keys = _seed(qa, 5)
    qa.create_issue({"summary": "not in scope"})
    with open_engine(folder) as engine:
        report = engine.sync()
        assert report.total.created == 5 and report.total.errors == 0 and not report.failed
        again = engine.sync()
        assert again.total.sent == 0 and again.total.applied == 0
        for key in keys:
            issue = _twin_of(dev, engine, key)
            original = qa.get_issue(key)
            assert issue["summary"] == original["summary"] and issue["priority"] == "High"
            assert [c["body"] for c in issue["comments"]] == [c["body"] for c in original["comments"]
                                                              if not c["internal"]]
        assert len(dev.list_issues()) == 5
        assert all(row["state"] == "synced" for row in engine.status())


def test_a_change_travels_and_comments_are_never_posted_twice(folder, trackers):
    qa, dev = trackers
    (key,) = _seed(qa, 1)
    with open_engine(folder) as engine:
        engine.sync()
        qa.edit_issue(key, {"summary": "renamed"})
        qa.add_comment(key, "second")
        report = engine.sync()
        assert report.counts("QA -> Dev").applied == 1
        twin = _twin_of(dev, engine, key)
        assert twin["summary"] == "renamed"
        assert [c["body"] for c in twin["comments"]] == ["public 1", "second"]
        _settle(engine)
        dev.add_comment(twin["key"], "from dev")
        _settle(engine)
        assert [c["body"] for c in qa.get_issue(key)["comments"]] == ["public 1", "internal 1", "second", "from dev"]
        assert [c["body"] for c in dev.get_issue(twin["key"])["comments"]] == ["public 1", "second", "from dev"]


def test_two_way_sync_on_the_same_fields_settles_without_ping_pong(folder, trackers):
    qa, dev = trackers
    (key,) = _seed(qa, 1)
    with open_engine(folder) as engine:
        assert _settle(engine) <= 2
        for n in range(3):
            qa.edit_issue(key, {"summary": f"qa edit {n}"})
            assert _settle(engine) <= 2
            twin = _twin_of(dev, engine, key)
            dev.edit_issue(twin["key"], {"description": f"dev edit {n}"})
            assert _settle(engine) <= 2
        quiet = engine.sync()
        assert quiet.total.sent == 0 and quiet.total.applied == 0
        assert qa.get_issue(key)["description"] == dev.get_issue(twin["key"])["description"] == "dev edit 2"
        assert dev.get_issue(twin["key"])["summary"] == "qa edit 2"


def test_concurrent_edits_between_passes_follow_the_documented_rules(folder, trackers):
    qa, dev = trackers
    a, b = _seed(qa, 2)
    with open_engine(folder) as engine:
        _settle(engine)
        ta, tb = _twin_of(dev, engine, a)["key"], _twin_of(dev, engine, b)["key"]
        # different fields on both sides: both edits survive on both sides
        qa.edit_issue(a, {"summary": "qa summary"})
        dev.edit_issue(ta, {"description": "dev description"})
        # the same field on both sides: the first instance in connection.toml (QA) wins
        qa.edit_issue(b, {"summary": "qa wins"})
        dev.edit_issue(tb, {"summary": "dev loses"})
        assert _settle(engine) <= 4
        for issue in (qa.get_issue(a), dev.get_issue(ta)):
            assert (issue["summary"], issue["description"]) == ("qa summary", "dev description")
        assert qa.get_issue(b)["summary"] == dev.get_issue(tb)["summary"] == "qa wins"


def test_an_issue_stays_in_sync_after_it_leaves_the_trigger(folder, trackers):
    qa, dev = trackers
    (key,) = _seed(qa, 1)
    with open_engine(folder) as engine:
        engine.sync()
        qa.edit_issue(key, {"labels": [], "summary": "no label now"})
        engine.sync()
        assert _twin_of(dev, engine, key)["summary"] == "no label now"


def test_skip_and_fail_in_rules_affect_only_their_issue(folder, trackers):
    qa, dev = trackers
    good = _seed(qa, 3)
    skipped = qa.create_issue({"summary": "skip me", "labels": ["sync", "no-sync"]})
    failing = qa.create_issue({"summary": "fail me", "labels": ["sync", "boom"]})
    with open_engine(folder) as engine:
        report = engine.sync()
        assert report.total.skipped == 1 and report.total.errors == 1 and report.total.created == 3
        assert report.failed
        (entry,) = engine.queue()
        assert entry["state"] == "error" and entry["source"] == f"QA {failing}"
        assert "qa-out.rules:3:5" in entry["reason"] and "label boom says no" in entry["reason"]
        assert engine.find_twin(skipped) is None
        assert all(engine.find_twin(k) for k in good)
        # noticed again without a retry: parked once, not twice
        qa.edit_issue(failing, {"description": "still failing"})
        engine.sync()
        assert len(engine.queue()) == 1
        qa.edit_issue(failing, {"labels": ["sync"]})
        engine.sync()
        count, report = engine.retry()
        assert count == 1 and report.total.errors == 0
        assert _twin_of(dev, engine, failing)["summary"] == "fail me"
        assert engine.queue() == []


def test_incoming_fail_parks_the_issue_with_the_rule_position(tmp_path):
    folder = write_folder(tmp_path / "c", rules={
        "QA.out": {"fields": ["summary", "labels"]}, "Dev.in": {"fields": ["summary"], "fail_label": "refuse"}})
    with LocalTracker(folder / "qa", project="QA") as qa:
        qa.create_issue({"summary": "fine", "labels": ["sync"]})
        bad = qa.create_issue({"summary": "refused", "labels": ["sync", "refuse"]})
        with open_engine(folder) as engine:
            report = engine.sync()
            assert report.total.created == 1 and report.total.errors == 1
            (entry,) = engine.queue()
            assert entry["source"] == f"QA {bad}" and "dev-in.rules:3:5" in entry["reason"]
            assert engine.status(bad)[0]["state"] == "error"


def test_pause_notices_and_queues_then_resume_delivers_in_order(tmp_path):
    folder = write_folder(tmp_path / "c")
    seen: list[str] = []
    factory = watching_apply("Dev", lambda _, changes: seen.extend(
        op.value for op in changes.operations if getattr(op, "path", None) == ("summary",)))

    with LocalTracker(folder / "qa", project="QA") as qa:
        (key,) = _seed(qa, 1)
        with open_engine(folder, factory=factory) as engine:
            engine.sync()
            engine.set_paused(True)
            for n in range(1, 4):
                qa.edit_issue(key, {"summary": f"v{n}"})
                report = engine.sync()
                assert report.paused and report.total.sent == 1 and report.total.applied == 0
            assert engine.status(key)[0]["state"] == "paused"
            engine.set_paused(False)
            report = engine.sync()
            assert report.total.applied == 3 and report.waiting == 0
            assert seen == ["bug 1", "v1", "v2", "v3"]


def test_sync_methods_manual_and_disabled(tmp_path):
    folder = write_folder(tmp_path / "c", sync={"QA -> Dev": "manual"})
    with LocalTracker(folder / "qa", project="QA") as qa, LocalTracker(folder / "dev", project="DEV") as dev:
        (key,) = _seed(qa, 1)
        other = dev.create_issue({"summary": "dev only", "labels": ["sync"]})
        with open_engine(folder) as engine:
            assert engine.sync().total.noticed == 0  # manual: syncs do not poll
            report = engine.push([key])
            assert report.total.created == 1
            with pytest.raises(ConfigError, match="disabled"):
                engine.push([other])
            with pytest.raises(ConfigError, match="no issue NOPE-1"):
                engine.push(["NOPE-1"])


def test_unlink_stops_syncing_and_drops_queued_changes(folder, trackers):
    qa, dev = trackers
    (key,) = _seed(qa, 1)
    with open_engine(folder) as engine:
        engine.sync()
        twin_key = _twin_of(dev, engine, key)["key"]
        engine.set_paused(True)
        qa.edit_issue(key, {"summary": "queued"})
        engine.sync()
        engine.unlink(key)
        engine.set_paused(False)
        qa.edit_issue(key, {"labels": []})
        engine.sync()
        assert dev.get_issue(twin_key)["summary"] == "bug 1"
        assert engine.find_twin(key) is None and engine.queue() == []


def test_transient_faults_are_retried_until_the_state_is_right(tmp_path):
    folder = write_folder(tmp_path / "c", sync={"QA -> Dev": "automatic"}, limits={"batch": 7, "max_attempts": 30})
    faulty: dict[str, Faulty] = {}

    def factory(inst):
        faulty[inst.name] = Faulty(build_connector(inst), rate=0.2, seed=7 if inst.name == "Dev" else 8)
        return faulty[inst.name]

    with LocalTracker(folder / "qa", project="QA") as qa, LocalTracker(folder / "dev", project="DEV") as dev:
        keys = _seed(qa, 40)
        with open_engine(folder, factory=factory) as engine:
            for _ in range(10):
                report = engine.sync()
                if not report.problems and report.waiting == 0:
                    break
            assert engine.sync().waiting == 0
            assert faulty["Dev"].faults > 5
            assert len(dev.list_issues()) == 40
            for key in keys:
                twin = _twin_of(dev, engine, key)
                assert twin["summary"] == qa.get_issue(key)["summary"]
                assert [c["body"] for c in twin["comments"]] == [f"public {key.split('-')[1]}"]


def test_permanent_faults_park_their_issues_and_retry_finishes_them_in_order(tmp_path):
    folder = write_folder(tmp_path / "c", sync={"QA -> Dev": "automatic"})
    broken = {"bug 2", "bug 5", "v2"}
    holder: dict[str, Faulty] = {}

    def factory(inst):
        connector = build_connector(inst)
        if inst.name == "Dev":
            holder["dev"] = connector = Faulty(connector, broken=broken)
        return connector

    with LocalTracker(folder / "qa", project="QA") as qa, LocalTracker(folder / "dev", project="DEV") as dev:
        keys = _seed(qa, 6)
        with open_engine(folder, factory=factory) as engine:
            report = engine.sync()
            assert report.total.created == 4 and report.total.errors == 2
            parked = engine.queue()
            assert [e["source"] for e in parked] == [f"QA {keys[1]}", f"QA {keys[4]}"]
            assert all("400 Bad Request" in e["reason"] for e in parked)
            # a parked twin holds back its own later changes only
            qa.edit_issue(keys[1], {"summary": "v2"})
            engine.sync()
            qa.edit_issue(keys[1], {"summary": "v3"})
            engine.sync()
            qa.edit_issue(keys[0], {"summary": "moved on"})
            engine.sync()
            assert _twin_of(dev, engine, keys[0])["summary"] == "moved on"
            assert len(engine.queue()) == 4
            broken.clear()
            count, report = engine.retry()
            assert count == 2 and report.total.errors == 0 and engine.queue() == []
            applied = [op.value for _, cs in holder["dev"].applied for op in cs.operations
                       if getattr(op, "path", None) == ("summary",)]
            assert [v for v in applied if v in ("bug 2", "v2", "v3")] == ["bug 2", "v2", "v3"]
            assert _twin_of(dev, engine, keys[1])["summary"] == "v3"
            assert len(dev.list_issues()) == 6


def test_unreadable_issue_in_a_tracker_is_reported_and_the_rest_syncs(folder, trackers):
    qa, dev = trackers
    keys = _seed(qa, 3)
    with sqlite3.connect(folder / "qa" / "tracker.sqlite") as db:
        db.execute("UPDATE issues SET fields = '{\"summary\": 42}' WHERE key = ?", (keys[1],))
    with open_engine(folder) as engine:
        report = engine.sync()
        assert report.total.created == 2 and report.failed
        assert len(report.unreadable) == 1 and keys[1] in report.unreadable[0]


def test_a_create_interrupted_after_the_tracker_write_is_not_repeated(folder, trackers):
    """The crash window between the tracker's create and the state's record: the retry finds the marker."""
    qa, dev = trackers
    (key,) = _seed(qa, 1)
    calls = {"n": 0}

    def factory(inst):
        connector = build_connector(inst)
        if inst.name != "Dev":
            return connector
        wrapped = Faulty(connector)
        real_apply = wrapped.apply

        def apply(k, changes, *, marker=None):
            result = real_apply(k, changes, marker=marker)
            calls["n"] += 1
            if calls["n"] == 1:
                raise KeyboardInterrupt  # as if killed right after the write
            return result

        wrapped.apply = apply
        return wrapped

    with open_engine(folder, factory=factory) as engine, pytest.raises(KeyboardInterrupt):
        engine.sync()
    with open_engine(folder) as engine:
        engine.sync()
        assert len(dev.list_issues()) == 1
        assert [c["body"] for c in _twin_of(dev, engine, key)["comments"]] == ["public 1"]




def test_the_first_message_back_neither_reverts_fields_nor_deletes_items(folder, trackers):
    """Both sides change between two passes, right after the first sync: Dev's first message to QA was made
    before QA's change reached Dev. It must not undo QA's summary nor delete QA's new comment."""
    qa, dev = trackers
    (key,) = _seed(qa, 1)
    with open_engine(folder) as engine:
        engine.sync()
        twin = _twin_of(dev, engine, key)["key"]
        qa.edit_issue(key, {"summary": "qa renamed it"})
        qa.add_comment(key, "qa says more")
        dev.add_comment(twin, "dev says hi")
        assert _settle(engine) <= 4
        for issue in (qa.get_issue(key), dev.get_issue(twin)):
            assert issue["summary"] == "qa renamed it"
            bodies = [c["body"] for c in issue["comments"]]
            assert "qa says more" in bodies and "dev says hi" in bodies and len(bodies) == len(set(bodies))


def test_open_message_counts_leave_nothing_behind_once_a_sync_settles(tmp_path):
    # A long `rulelang serve` keeps one context: a zero count kept per twin it ever saw grows without bound.
    qa_out = {**BASIC, "fields": [*BASIC["fields"], "labels"]}
    folder = write_folder(tmp_path / "conn", rules={"QA.out": qa_out, "Dev.in": {**BASIC, "skip_label": "dev-skip"}})
    with LocalTracker(folder / "qa", project="QA") as qa:
        _seed(qa, 4)
        qa.create_issue({"summary": "the receiving side skips it", "labels": ["sync", "dev-skip"]})
    with open_engine(folder) as engine:
        report = engine.sync()
        assert (report.total.sent, report.total.applied, report.total.skipped) == (5, 4, 1)
        assert report.waiting == 0
        assert dict(engine._ctx.inflight) == {}
