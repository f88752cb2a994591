"""The runtime's fast paths: `.map`/`.filter` with a lambda compiled to list comprehensions over `rt_iter`, plain
top-level writes batched into `rt_set_many`, `rt_put`'s two-step path and `copy_json`'s flat maps give the same
results, budgets, errors and positions as the general code (one call per element and per statement)."""

from __future__ import annotations

import copy
import pathlib

import pytest

from rulelang.codegen import compile_source
from rulelang.errors import BudgetError, RuleRuntimeError
from runtime import Limits, compile_rules
from runtime._iterate import Chunked, rt_iter, rt_kept
from runtime.budget import BudgetTrap, State, Trap
from runtime.functions import CHUNK
from runtime.sandbox import _base_globals, _program_globals


def run(source: str, issue: dict, **kw):
    return compile_rules(source, "t.rules").run_outgoing(copy.deepcopy(issue), **kw)


def error(source: str, issue: dict, cls: type = RuleRuntimeError, **kw):
    with pytest.raises(cls) as info:
        run(source, issue, **kw)
    d = info.value.diagnostic
    return d.code, d.message, (d.span.line, d.span.col, d.span.end_line, d.span.end_col)


def state(**limits) -> State:
    return State(Limits(**limits), None, ())


# ---- the generated shapes ---------------------------------------------------------------------


def test_map_and_filter_with_a_lambda_become_comprehensions() -> None:
    python = compile_source("replica.labels = issue.labels.filter(l -> l != \"x\").map(l -> l.upper())",
                            "c.rules").python()
    assert "lambda" not in python and "rt_m_map" not in python and "rt_m_filter" not in python
    assert "rt_kept(rt, (t_1 := rt_iter(rt, rt_dget(r_issue, 'labels'), 'filter')), [v_l for v_l in t_1 if" \
        in python
    assert "for v_l in t_2] if (t_2 := rt_iter(rt, rt_kept(" in python
    assert "_getiter_" not in python  # RestrictedPython's wrapper is taken back out of the shown tree


def test_other_methods_keep_their_lambdas() -> None:
    python = compile_source("replica.custom[\"x\"] = issue.labels.any(l -> l == \"x\")", "c.rules").python()
    assert "rt_m_any(rt, rt_dget(r_issue, 'labels'), lambda v_l:" in python


def test_consecutive_plain_writes_share_one_call_until_one_reads_the_output() -> None:
    python = compile_source('replica.key = issue.key\nreplica.summary = "s"\nreplica.description = replica.key\n'
                            'replica.status = "Open"\nreplica.key = "again"\nreplica.custom["x"] = 1\n'
                            'replica.type = "Bug"\n', "b.rules").python()
    lines = python.splitlines()[1:]
    assert lines[0] == "    rt_set_many(rt, r_replica, {'key': rt_dget(r_issue, 'key'), 'summary': 's'}, 0)"
    assert lines[1] == ("    rt_set_many(rt, r_replica, {'description': rt_dget(r_replica, 'key'), 'status': 'Open', "
                        "'key': 'again'}, 2)")
    assert lines[2].startswith("    rt_put(") and lines[3] == "    rt_set(rt, r_replica, 'type', 'Bug', 6)"


# ---- batched writes: same outputs and explain as one write per statement ---------------------


def test_batched_writes_keep_order_coercion_and_explain() -> None:
    r = run('replica.key = issue.key\nreplica.labels = "only"\nreplica.summary = replica.key\n'
            'replica.key = "again"\nreplica.components = issue.components\n', {"key": "K-1", "components": "one"})
    assert r.replica == {"key": "again", "labels": ["only"], "summary": "K-1", "components": ["one"]}
    assert {k: (s.line, s.col) for k, s in r.explain.items()} == {
        "key": (4, 1), "labels": (2, 1), "summary": (3, 1), "components": (5, 1)}


@pytest.mark.parametrize("source", [
    'let r = replica\nreplica.key = "a"\nreplica.summary = r.key\n',
    'for r in [replica] {\n  replica.key = "a"\n  replica.summary = r.key\n}\n',
    'let r = {}\nfor i in [1, 2] {\n  replica.key = "a"\n  replica.summary = r.key ?? "a"\n  r = replica\n}\n',
])
def test_no_batch_when_the_output_root_is_held_as_a_value(source: str) -> None:
    # A variable holding the root would see the root before the batch's writes: the program is not batched.
    assert "rt_set_many" not in compile_source(source, "alias.rules").python()
    assert run(source, {}).replica["summary"] == "a"


def test_an_error_in_a_batched_value_points_at_its_own_statement() -> None:
    src = 'replica.key = issue.key\nreplica.summary = "x"\nreplica.description = "d: " + issue.custom["n"]\n'
    assert error(src, {"key": "K", "custom": {"n": 5}}) == ("X401", "cannot add text and number", (3, 23, 3, 48))


def test_incoming_batches_see_the_local_issue_and_touch_the_same_fields() -> None:
    rules = compile_rules('issue.summary = replica.summary\nissue.description = "d"\n'
                          'issue.assignee = issue.assignee\nissue.labels = "x"\n', "in.rules", kind="incoming")
    r = rules.run_incoming({"summary": "S"}, issue={"key": "L-1", "summary": "old", "assignee": None})
    assert r.issue["summary"] == "S" and r.issue["labels"] == ["x"]
    assert sorted(r.explain) == ["assignee", "description", "labels", "summary"]


# ---- comprehensions: results, nulls, errors ----------------------------------------------------

ISSUE = {"labels": ["a", "b", None], "attachments": [{"id": "1", "size": 1}, None, {"id": "3", "size": 9}]}


def test_null_elements_and_a_null_list_behave_as_with_lambdas() -> None:
    r = run('replica.custom["ids"] = issue.attachments.map(a -> a.id)\n'
            'replica.custom["none"] = issue.custom["missing"].map(x -> x)\n'
            'replica.custom["kept"] = issue.labels.filter(l -> l != null)\n', ISSUE)
    assert r.replica["custom"] == {"ids": ["1", None, "3"], "none": [], "kept": ["a", "b"]}


def test_a_list_method_on_text_is_the_method_s_error_at_the_call() -> None:
    src = 'replica.custom["x"] = issue.custom["s"].map(s -> s)\n'
    assert error(src, {"custom": {"s": "text"}}) == ("X405", ".map() works on a list, not on text", (1, 23, 1, 52))
    src = 'replica.custom["x"] = issue.custom["s"].filter(s -> s)\n'
    assert error(src, {"custom": {"s": "text"}}) == ("X405", ".filter() works on a list, not on text",
                                                     (1, 23, 1, 55))


def test_an_error_in_the_body_points_into_the_lambda() -> None:
    src = 'replica.custom["x"] = issue.attachments.filter(a ->\n    a.size < 5)\n'
    assert error(src, ISSUE) == ("X404", "cannot compare null with number using '<'", (2, 5, 2, 15))
    src = 'replica.custom["x"] = issue.labels.map(l ->\n    l + 1)\n'
    assert error(src, {"labels": ["a"]})[0::2] == ("X401", (2, 5, 2, 10))


def test_a_field_of_a_text_element_is_the_usual_error() -> None:
    src = 'replica.custom["x"] = issue.custom["xs"].map(l -> l.name)\n'
    code, message, _ = error(src, {"custom": {"xs": ["a"]}})
    assert code == "X410" and message == "cannot read a field of a text: only maps have fields"


def test_nested_comprehensions_and_outer_variables() -> None:
    src = ('let limit = 3\nfor c in issue.comments {\n'
           '  replica.custom[c.id] = c.body.split(" ").filter(w -> len(w) < limit).map(w -> w.split("").map(x -> '
           'x.upper()))\n}\n')
    r = run(src, {"comments": [{"id": "c1", "body": "ab long"}, {"id": "c2", "body": "xyzw"}]})
    assert r.replica["custom"] == {"c1": [["A", "B"]], "c2": []}


# ---- budgets: one step per element, as rt_m_map/rt_m_filter charge --------------------------


@pytest.mark.parametrize("method", ["map", "filter"])
def test_each_element_is_one_step(method: str) -> None:
    src = f'replica.custom["x"] = issue.labels.{method}(l -> l)\n'
    issue = {"labels": ["x"] * 10}
    assert run(src, issue, limits=Limits(max_steps=10)).replica["custom"]["x"] == ["x"] * 10
    code, _, where = error(src, issue, BudgetError, limits=Limits(max_steps=9))
    assert code == "B501" and where[:2] == (1, 23)


def test_filter_then_map_charges_both_passes() -> None:
    src = 'replica.custom["x"] = issue.labels.filter(l -> l == "y").map(l -> l)\n'
    issue = {"labels": ["x"] * 8 + ["y"] * 2}
    assert run(src, issue, limits=Limits(max_steps=12)).replica["custom"]["x"] == ["y", "y"]
    assert error(src, issue, BudgetError, limits=Limits(max_steps=11))[0] == "B501"


def test_a_long_list_is_charged_chunk_by_chunk_before_its_bodies_run() -> None:
    n = 3 * CHUNK + 5
    src = 'replica.custom["x"] = issue.labels.map(l -> l + "!")\n'
    assert len(run(src, {"labels": ["a"] * n}).replica["custom"]["x"]) == n
    # The budget runs out in the second chunk: no body of a later chunk runs before the trap.
    code, _, where = error(src, {"labels": ["a"] * n}, BudgetError, limits=Limits(max_steps=CHUNK + 10))
    assert code == "B501" and where[:2] == (1, 23)


def test_a_long_map_checks_its_result_size_first_and_a_long_filter_after() -> None:
    n = CHUNK + 1
    assert error('replica.custom["x"] = issue.labels.map(l -> l)\n', {"labels": ["a"] * n}, BudgetError,
                 limits=Limits(max_items=CHUNK))[0] == "B503"
    keep_two = 'replica.custom["x"] = issue.labels.filter(l -> l == "b")\n'
    issue = {"labels": ["a"] * n + ["b", "b"]}
    assert run(keep_two, issue, limits=Limits(max_items=2)).replica["custom"]["x"] == ["b", "b"]
    assert error(keep_two, issue, BudgetError, limits=Limits(max_items=1))[0] == "B503"
    # a short list's filter result is not checked (as before): only lists longer than a chunk are
    short = {"labels": ["b"] * 3}
    assert run(keep_two, short, limits=Limits(max_items=3)).replica["custom"]["x"] == ["b"] * 3


def test_rt_iter_and_rt_kept_directly() -> None:
    rt = state(max_steps=1000)
    assert list(rt_iter(rt, ["a", "b"], "map")) == ["a", "b"] and rt.steps == 2
    assert list(rt_iter(rt, None, "map")) == [] and rt.steps == 2
    with pytest.raises(Trap) as info:
        rt_iter(rt, {"a": 1}, "filter")
    assert info.value.code == "X405" and info.value.message == ".filter() works on a list, not on map"
    long = rt_iter(rt, list(range(CHUNK + 1)), "filter")
    assert type(long) is Chunked and rt.steps == 2  # charged as it is consumed
    assert sum(1 for _ in long) == CHUNK + 1 and rt.steps == CHUNK + 3
    tight = state(max_items=1)
    assert rt_kept(tight, iter([1, 2, 3]), [1, 2]) == [1, 2]  # after a short list: no size check
    with pytest.raises(BudgetTrap):
        rt_kept(tight, Chunked(tight, [1] * (CHUNK + 1)), [1, 2])


# ---- the iteration guard ----------------------------------------------------------------------


def test_getiter_lets_through_only_what_rt_iter_hands_out() -> None:
    g = _program_globals(_base_globals(frozenset()))
    rt = state()
    for ok in (rt_iter(rt, [1], "map"), rt_iter(rt, [0] * (CHUNK + 1), "map")):
        assert g["_getiter_"](ok) is ok
    for bad in ([1, 2], (1, 2), {"a": 1}, "text", iter((1,)), (x for x in [1])):
        with pytest.raises(Exception) as info:
            g["_getiter_"](bad)
        assert type(info.value).__name__ == "_GuardCalled"


# ---- rt_put's short path: the same checks as the walk --------------------------------------


def test_nested_writes_into_a_fresh_map_and_an_input_map() -> None:
    src = 'replica.custom["a"] = 1\nreplica.custom["b"] = 2\nreplica.assignee = issue.assignee\n' \
          'replica.assignee["name"] = "x"\n'
    issue = {"assignee": {"email": "e"}}
    r = run(src, issue)
    assert r.replica == {"custom": {"a": 1, "b": 2}, "assignee": {"email": "e", "name": "x"}}
    assert {k: s.line for k, s in r.explain.items()} == {"custom.a": 1, "custom.b": 2, "assignee": 3,
                                                          "assignee.name": 4}


@pytest.mark.parametrize("max_items, ok", [(0, False), (1, False), (2, True)])
def test_nested_writes_count_items(max_items: int, ok: bool) -> None:
    src = 'replica.custom["a"] = 1\nreplica.custom["b"] = 2\n'
    if ok:
        assert run(src, {}, limits=Limits(max_items=max_items)).replica == {"custom": {"a": 1, "b": 2}}
    else:
        assert error(src, {}, BudgetError, limits=Limits(max_items=max_items))[0] == "B503"


# ---- the verifier admits only the comprehension shape codegen makes ---------------------------

HEAD = "def rule_main(rt, r_replica, r_issue, r_connection):\n"
ITER = "(t_1 := rt_iter(rt, r_issue, 'map'))"


@pytest.mark.parametrize("body", [
    "v_x = [v_a for v_a in r_issue]",
    "v_x = [v_a for v_a in rt_iter(rt, r_issue, 'map')]",
    "v_x = rt_add(rt, rt_b_len(rt, (t_1 := r_issue)), [v_a for v_a in t_1])",
    "v_x = [v_a for v_a in t_1] if ITER is not None else (t_1 := r_issue)",
    "v_x = [v_a for v_a in t_1] if ITER is not None else ITER",
    "v_x = [v_a for v_a in t_1 for v_b in t_1] if ITER is not None else None",
    "v_x = [v_a for v_a in t_1 if v_a if v_a] if ITER is not None else None",
    "v_x = [r_issue for r_issue in t_1] if ITER is not None else None",
    "v_x = {v_a for v_a in t_1} if ITER is not None else None",
    "v_x = {'a': v_a for v_a in t_1} if ITER is not None else None",
    "v_x = rt_b_len(rt, ITER)\n    t_1 = [1, 2]\n    v_y = [v_a for v_a in t_1]",
    "v_x = [rt_m_map(rt, [], lambda t_1: [v_b for v_b in t_1]) for v_a in t_1] if ITER is not None else None",
])
def test_the_verifier_refuses_other_comprehensions(body: str) -> None:
    import ast

    from rulelang._verify import verify
    from rulelang.errors import InternalError

    with pytest.raises(InternalError) as info:
        verify(ast.parse(HEAD + "    " + body.replace("ITER", ITER) + "\n"), "hostile.rules")
    assert info.value.diagnostic.code == "I900"


def test_the_verifier_accepts_the_generated_comprehensions() -> None:
    from rulelang._verify import verify

    rules = pathlib.Path(__file__).parent.parent / "cases" / "codegen" / "comprehensions_and_batches.rules"
    compiled = compile_source(rules.read_text(encoding="utf-8"), "c.rules")
    verify(copy.deepcopy(compiled.module))


def test_a_nested_write_into_an_input_map_copies_it_first() -> None:
    issue = {"custom": {"a": 1, "b": 2}}
    r = run('replica.custom = issue.custom\nreplica.custom["c"] = 3\nreplica.custom["a"] = 0\n', issue)
    assert r.replica["custom"] == {"a": 0, "b": 2, "c": 3} and issue == {"custom": {"a": 1, "b": 2}}
    assert error('replica.custom = issue.custom\nreplica.custom["a"] = 0\n', issue, BudgetError,
                 limits=Limits(max_items=1))[0] == "B503"  # the copy counts as building a map of 2


def test_copy_json_copies_a_flat_map_with_the_walk_s_size() -> None:
    from runtime._output import _export
    from runtime.values import NotJson, copy_json

    flat = {"id": "1", "email": "a@x", "n": 3, "ok": True, "none": None}
    out, size = copy_json(flat, 1 << 16, 8)
    assert out == flat and out is not flat
    acc = [0]
    _export(flat, 0, acc, 1 << 16, 8)  # the general copy's size accounting
    assert size == acc[0]
    with pytest.raises(BudgetTrap):
        copy_json(flat, 10, 8)
    with pytest.raises(NotJson):
        copy_json({"x": float("nan")}, 1 << 16, 8)  # not flat scalars: the full copy, which refuses NaN
