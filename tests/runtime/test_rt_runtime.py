"""The runtime API: positions of run-time errors, each budget's own error, read-only inputs, fresh state, caching."""

from __future__ import annotations

import ast
import copy
import pathlib

import pytest

from rulelang import abi
from rulelang.codegen import compile_source
from rulelang.errors import BudgetError, CheckError, PayloadError, RuleFailed, RuleRuntimeError
from runtime import Limits, StaticLookups, compile_rules
from runtime.changes import ChangeSet, SetField
from runtime.sandbox import IMPLEMENTATIONS

ISSUE = {"key": "QA-1", "summary": "Hello", "labels": ["a", "b"], "custom": {"n": 5},
         "comments": [{"id": "1", "body": "x", "internal": False}, {"id": "2", "body": "y", "internal": True}]}


def out(source: str, issue: dict | None = None, **kw):
    return compile_rules(source, "t.rules").run_outgoing(copy.deepcopy(issue or ISSUE), **kw)


def error_of(source: str, issue: dict | None = None, **kw):
    with pytest.raises(RuleRuntimeError) as info:
        out(source, issue, **kw)
    return info.value


# ---- positions ------------------------------------------------------------------------------


def test_text_plus_number_points_at_the_expression() -> None:
    e = error_of('replica.key = issue.key\n\nreplica.summary = "n: " + issue.custom["n"]\n')
    d = e.diagnostic
    assert (d.code, d.span.line, d.span.col, d.span.end_col) == ("X401", 3, 19, 44)
    assert d.message == "cannot add text and number"
    assert e.render({"t.rules": 'replica.key = issue.key\n\nreplica.summary = "n: " + issue.custom["n"]\n'}) == (
        't.rules:3:19: error X401: cannot add text and number\n'
        '    replica.summary = "n: " + issue.custom["n"]\n'
        '                      ^^^^^^^^^^^^^^^^^^^^^^^^^\n'
        '    hint: turn the number into text first: "${n}" or str(n)')


def test_overflow_inside_a_lambda_points_into_the_lambda() -> None:
    src = "replica.custom[\"x\"] = issue.labels.map(l ->\n    9223372036854775807 + len(l))\n"
    d = error_of(src).diagnostic
    assert (d.code, d.span.line, d.span.col) == ("X402", 2, 5)
    assert d.message == "integer overflow: the result does not fit in 64 bits"


def test_error_in_a_loop_body_points_into_the_body() -> None:
    src = "let t = 0\nfor c in issue.comments {\n  t = t + c.body\n}\nreplica.custom[\"t\"] = t\n"
    d = error_of(src).diagnostic
    assert (d.code, d.span.line, d.span.col, d.span.end_col) == ("X401", 3, 7, 17)


def test_interpolated_expression_errors_point_inside_the_text() -> None:
    src = 'replica.summary = "a ${issue.summary + 1} b"\n'
    d = error_of(src).diagnostic
    assert (d.span.line, d.span.col) == (1, 24)


def test_fail_is_rule_failed_with_the_statement_span() -> None:
    with pytest.raises(RuleFailed) as info:
        out('if true {\n  fail "stop ${issue.key}"\n}\n')
    d = info.value.diagnostic
    assert (d.code, d.message, d.span.line, d.span.col) == ("X490", "stop QA-1", 2, 3)


# ---- budgets: each limit has its own code ----------------------------------------------------


@pytest.mark.parametrize("source, limits, code", [
    ("let n = 0\nfor a in issue.labels { for b in issue.labels { n += 1 } }\nreplica.custom[\"n\"] = n",
     Limits(max_steps=5), "B501"),
    ('let t = "x"\nfor i in [1,2,3,4,5,6,7,8,9,10,11,12] { t = t + t }\nreplica.summary = t',
     Limits(max_text=1000), "B502"),
    ("let l = [1]\nfor i in [1,2,3,4,5,6,7,8,9,10,11,12] { l = l + l }\nreplica.labels = l",
     Limits(max_items=1000), "B503"),
    ('replica.custom["m"] = {a: 1, b: 2} | {c: 3}', Limits(max_items=2), "B503"),  # small maps: merge's fast path
    ('replica.summary = "${issue.key}${issue.key}"', Limits(max_text=5), "B502"),  # texts only: rt_text's fast path
    ('replica.custom["m"] = issue.summary.matches("' + "a" * 30 + '")', Limits(max_pattern=20), "B504"),
    ('replica.custom["u"] = issue.labels.map(l -> user("${l}@x"))', Limits(max_user_lookups=1), "B505"),
    ('replica.description = "x" * 2000', Limits(max_output=1000), "B506"),
    ("let m = {}\nfor i in [1,2,3,4,5,6,7,8,9,10] { m = {inner: m} }\nreplica.custom[\"m\"] = m",
     Limits(max_depth=5), "B508"),
])
def test_each_budget_has_its_own_error(source: str, limits: Limits, code: str) -> None:
    with pytest.raises(BudgetError) as info:
        out(source, limits=limits, lookups=StaticLookups())
    assert info.value.diagnostic.code == code
    assert info.value.span is not None and info.value.span.file == "t.rules"


def test_wall_time_budget() -> None:
    issue = dict(ISSUE, labels=[str(i) for i in range(3000)])
    src = "let n = 0\nfor a in issue.labels { for b in issue.labels { n += 1 } }\nreplica.custom[\"n\"] = n"
    with pytest.raises(BudgetError) as info:
        out(src, issue, limits=Limits(wall_time=0.005, max_steps=10**9))
    assert info.value.diagnostic.code == "B507"
    assert "wall time exceeded" in info.value.diagnostic.message


def test_size_is_checked_before_building() -> None:
    # 10**6 repetitions of 1,000 characters would need a gigabyte: refused before Python allocates it
    with pytest.raises(BudgetError) as info:
        out('replica.description = "' + "y" * 1000 + '" * 1000000')
    assert info.value.diagnostic.code == "B502"


def test_user_lookups_are_cached_per_run() -> None:
    lookups = StaticLookups({"a@x": {"id": "1", "email": "a@x", "name": "A"}})
    r = out('replica.custom["u"] = issue.labels.map(l -> user("a@x"))', lookups=lookups,
            limits=Limits(max_user_lookups=1))
    assert r.replica["custom"]["u"] == [{"id": "1", "email": "a@x", "name": "A"}] * 2
    assert list(lookups.asked) == [("user", "a@x")]


def test_static_lookups_keep_only_the_latest_questions() -> None:
    lookups = StaticLookups()  # one object may serve a whole benchmark or a long session of dry runs
    for i in range(1500):
        lookups.user(f"u{i}@x")
    assert len(lookups.asked) == 1000 and lookups.asked[0] == ("user", "u500@x") and lookups.asked[-1] == (
        "user", "u1499@x")


# ---- inputs, outputs, state ------------------------------------------------------------------


def test_inputs_are_never_changed() -> None:
    issue = copy.deepcopy(ISSUE)
    before = copy.deepcopy(issue)
    rules = compile_rules('replica.custom = issue.custom\nreplica.custom["n"] = 6\nreplica.labels = issue.labels\n'
                          'replica.labels += "c"\nreplica.comments = issue.comments\n'
                          'replica.comments[0] = {id: "z"}\n', "t.rules")
    r = rules.run_outgoing(issue)
    assert issue == before
    assert r.replica["custom"] == {"n": 6} and r.replica["labels"] == ["a", "b", "c"]
    assert r.replica["comments"][0] == {"id": "z"}
    # Unchanged values are shared with the input (exports measure in place), changed containers are the run's own.
    assert r.replica["comments"][1] is issue["comments"][1]
    assert r.replica["comments"] is not issue["comments"] and r.replica["custom"] is not issue["custom"]


def test_incoming_local_issue_is_never_changed() -> None:
    local = {"key": "D-1", "custom": {"a": 1}, "labels": ["x"]}
    before = copy.deepcopy(local)
    rules = compile_rules('issue.custom["b"] = 2\nissue.labels += "y"\n', "in.rules")
    r = rules.run_incoming({"summary": "s"}, issue=local, previous={})
    assert local == before
    assert r.issue["custom"] == {"a": 1, "b": 2}
    assert r.changes == ChangeSet(False, (SetField(("labels",), ["x", "y"]), SetField(("custom", "b"), 2)))


def test_outputs_are_exact_json_types() -> None:
    class Text(str):
        def __eq__(self, other):  # pragma: no cover - must never run
            raise AssertionError

    issue = {"key": Text("QA-9"), "labels": [Text("a")], "custom": {"f": 1.5}}
    r = out("replica.key = issue.key\nreplica.labels = issue.labels\nreplica.custom = issue.custom", issue)
    assert type(r.replica["key"]) is str and type(r.replica["labels"][0]) is str
    with pytest.raises(PayloadError) as info:
        out("replica.custom = issue.custom", {"custom": {"bad": float("nan")}})
    assert info.value.diagnostic.code == "P609"
    with pytest.raises(PayloadError):
        out("replica.custom = issue.custom", {"custom": {"bad": {1, 2}}})


def test_interpolation_of_texts_and_of_other_values() -> None:
    r = out('replica.summary = "${issue.key}-${issue.custom}-${issue.labels}-${null}-${true}"\n'
            'replica.description = "${issue.key}${issue.key}"')
    assert r.replica == {"summary": 'QA-1-{"n":5}-["a","b"]--true', "description": "QA-1QA-1"}


def test_state_does_not_survive_a_run() -> None:
    rules = compile_rules('replica.labels = issue.labels\nreplica.labels += "x"\nlog "run"', "t.rules")
    first = rules.run_outgoing(copy.deepcopy(ISSUE))
    second = rules.run_outgoing(copy.deepcopy(ISSUE))
    assert first.replica == second.replica == {"labels": ["a", "b", "x"]}
    assert len(second.log) == 1


def test_inputs_must_be_maps() -> None:
    with pytest.raises(PayloadError):
        compile_rules("replica.key = issue.key", "t.rules").run_outgoing(["not", "a", "map"])  # type: ignore[arg-type]


def test_kind_and_wrong_entry_point() -> None:
    rules = compile_rules("issue.summary = replica.summary", "in.rules")
    assert rules.kind == "incoming"
    with pytest.raises(Exception, match="incoming rules"):
        rules.run_outgoing({})


def test_check_errors_are_all_reported() -> None:
    with pytest.raises(CheckError) as info:
        compile_rules("replica.summery = issue.sumary\nreplica.x = issue.y\n", "t.rules")
    assert len(info.value.diagnostics) >= 3


def test_compiled_code_is_cached_by_content() -> None:
    a = compile_source("replica.key = issue.key", "c.rules")
    assert compile_source("replica.key = issue.key", "c.rules") is a
    assert compile_source("replica.key = issue.key ", "c.rules") is not a
    assert compile_source("replica.key = issue.key", "other.rules") is not a


def test_every_abi_name_has_exactly_one_implementation() -> None:
    assert set(IMPLEMENTATIONS) == set(abi.FUNCTIONS)


def test_the_compiler_never_imports_runtime() -> None:
    root = pathlib.Path(__file__).resolve().parents[2] / "rulelang"
    for name in ("abi.py", "codegen.py", "_codegen_expr.py", "_verify.py"):
        path = root / name
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                assert not any(a.name.split(".")[0] == "runtime" for a in node.names), path
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                assert (node.module or "").split(".")[0] != "runtime", path


def test_change_sets_cross_a_process_boundary_as_plain_values() -> None:
    import pickle

    from runtime.changes import AddItem, DeleteItem, LinkIssue, MoveStatus, UpdateItem

    changes = ChangeSet(True, (LinkIssue("DEV-1"), SetField(("custom", "Story Points"), 3), MoveStatus("Done"),
                               AddItem("comments", "7", {"body": "hi"}), UpdateItem("comments", "7", "9", {}),
                               DeleteItem("comments", "8", "10")))
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        data = pickle.dumps(changes, protocol)
        assert pickle.loads(data) == changes
        assert b"__setstate__" not in data and pickle.loads(data).operations[1].path == ("custom", "Story Points")
    # One reduction per operation, the field values in order: no per-object field look-up when loading.
    assert SetField(("summary",), "x").__reduce__() == (SetField, (("summary",), "x"))
    assert MoveStatus("Done").__reduce__() == (MoveStatus, ("Done",))
