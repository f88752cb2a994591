"""The pipelined pass: a batch's rules run while the batch ahead of it is written, with the same outcome as
one batch after the other."""

from __future__ import annotations

from engine_helpers import open_engine, watching_apply, write_folder

from connectors.local import LocalTracker

OUT = """\
replica.key     = issue.key
replica.summary = issue.summary
replica.parent  = issue.parent
"""
IN = """\
issue.summary = replica.summary
issue.parent  = twin(replica.parent)
"""


def _folder(tmp_path):
    return write_folder(tmp_path / "c", sync={"QA -> Dev": "automatic"}, fake=False, limits={"batch": 1},
                        rules={"QA.out": OUT, "Dev.in": IN, "Dev.out": OUT, "QA.in": IN})


def test_rules_that_look_up_a_twin_of_the_batch_ahead_see_it_recorded(tmp_path):
    """The child's batch is prepared and its rules run before the parent's batch records the parent's twin;
    its twin() look-up ran too early, so its rules run again once the parent is recorded."""
    folder = _folder(tmp_path)
    with LocalTracker(folder / "qa", project="QA") as qa:
        parent = qa.create_issue({"summary": "parent", "labels": ["sync"]})
        child = qa.create_issue({"summary": "child", "labels": ["sync"], "parent": parent})
    with open_engine(folder, fake=False) as engine:
        report = engine.sync()
        assert report.total.created == 2 and not report.failed
        dev_parent, dev_child = (engine.find_twin(k).key_on("Dev") for k in (parent, child))
    with LocalTracker(folder / "dev") as dev:
        assert dev.get_issue(dev_child)["parent"] == dev_parent


def test_the_next_batch_rules_start_before_the_batch_ahead_is_written(tmp_path):
    folder = _folder(tmp_path)
    with LocalTracker(folder / "qa", project="QA") as qa:
        keys = [qa.create_issue({"summary": f"issue {n}", "labels": ["sync"]}) for n in range(3)]
    events: list[tuple[str, str]] = []
    factory = watching_apply("Dev", lambda _, changes: events.append(("apply", next(
        op.value for op in changes.operations if getattr(op, "path", None) == ("summary",)))))

    with open_engine(folder, fake=False, factory=factory) as engine:
        ctx = engine._context()
        real_submit, real_cursor = ctx.runner.submit, engine.store.set_cursor

        def submit(jobs, lookup=None):
            for job in jobs:
                events.append((job.program, (job.issue or job.replica)["summary"]))
            return real_submit(jobs, lookup)

        def set_cursor(instance, value):
            events.append(("cursor", instance))
            real_cursor(instance, value)

        ctx.runner.submit = submit
        engine.store.set_cursor = set_cursor
        assert engine.sync().total.created == len(keys)
    noticing = [e for e in events if e[0] in ("QA.outgoing", "cursor")]
    assert noticing[:3] == [("QA.outgoing", "issue 0"), ("QA.outgoing", "issue 1"), ("cursor", "QA")]
    delivering = [e for e in events if e[0] in ("Dev.incoming", "apply")]
    assert delivering[:3] == [("Dev.incoming", "issue 0"), ("Dev.incoming", "issue 1"), ("apply", "issue 0")]


def test_a_batch_of_deliveries_is_written_to_the_local_tracker_in_one_transaction(tmp_path):
    folder = write_folder(tmp_path / "c", sync={"QA -> Dev": "automatic"}, fake=False, limits={"batch": 10},
                          rules={"QA.out": OUT, "Dev.in": IN, "Dev.out": OUT, "QA.in": IN})
    with LocalTracker(folder / "qa", project="QA") as qa:
        for n in range(3):
            qa.create_issue({"summary": f"issue {n}", "labels": ["sync"]})
    grouped: list[bool] = []
    factory = watching_apply("Dev", lambda connector, _: grouped.append(connector._batch is not None))

    with open_engine(folder, fake=False, factory=factory) as engine:
        assert engine.sync().total.created == 3
    assert grouped == [True, True, True]


def test_a_delivered_batch_is_freed_at_once_not_left_to_the_cycle_collector(tmp_path):
    """Peak memory must not grow with the number of issues: no reference cycle may keep a batch alive."""
    import gc

    from runtime._receiving import Started

    folder = write_folder(tmp_path / "c", sync={"QA -> Dev": "automatic"}, fake=False,
                          limits={"batch": 1, "isolate": True, "workers": 1},
                          rules={"QA.out": OUT, "Dev.in": IN, "Dev.out": OUT, "QA.in": IN})
    with LocalTracker(folder / "qa", project="QA") as qa:
        for n in range(4):
            qa.create_issue({"summary": f"issue {n}", "labels": ["sync"]})
    with open_engine(folder, fake=False) as engine:
        gc.collect()
        gc.disable()
        try:
            assert engine.sync().total.created == 4
            assert not [o for o in gc.get_objects() if isinstance(o, Started)]
        finally:
            gc.enable()
