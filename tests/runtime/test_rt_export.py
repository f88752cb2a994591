"""Exporting outputs: exact values are measured in place (and may share unchanged parts with the input), anything
else is copied to exact types or refused; the size and nesting caps hold either way."""

from __future__ import annotations

import copy
import time

import pytest

from rulelang.errors import BudgetError
from runtime import Limits, StaticLookups, compile_rules
from runtime.budget import BudgetTrap
from runtime.values import NotJson, copy_json, export

ISSUE = {"key": "QA-1", "labels": ["a", "b"], "custom": {"team": {"name": "core", "lead": "ada"},
                                                          "regions": ["eu", "us"], "points": 2.5}}


def test_exact_values_are_measured_in_place_with_the_copy_s_size() -> None:
    value = {"a": [1, 2.5, None, True, "x"], "b": {"c": "déjà"}, "d": []}
    same, size = export(value, 1 << 20, 64)
    assert same is value
    copied, copy_size = copy_json(value, 1 << 20, 64)
    assert copied == value and copied is not value and size == copy_size


def test_a_subclass_anywhere_sends_the_whole_value_through_the_copy() -> None:
    class Text(str):
        pass

    value = {"a": ["x", {"b": Text("y")}], "c": {"d": 1}}
    out, size = export(value, 1 << 20, 64)
    assert out == {"a": ["x", {"b": "y"}], "c": {"d": 1}} and out is not value and out["c"] is not value["c"]
    assert type(out["a"][1]["b"]) is str and size == copy_json(value, 1 << 20, 64)[1]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), (1, 2), {1, 2}, object(), {1: "int key"}])
def test_values_that_are_not_json_are_refused(bad: object) -> None:
    with pytest.raises(NotJson):
        export({"x": [bad]}, 1 << 20, 64)


def test_caps_hold_on_the_in_place_path() -> None:
    deep: list = []
    for _ in range(70):
        deep = [deep]
    with pytest.raises(BudgetTrap) as info:
        export(deep, 1 << 20, 64)
    assert info.value.code == "B508"
    with pytest.raises(BudgetTrap) as info:
        export({"x": "y" * 2000}, 1000, 64)
    assert info.value.code == "B506"


def test_a_value_shared_many_times_is_refused_without_walking_every_repeat() -> None:
    big = "x" * 100_000
    bomb: list = [big]
    for _ in range(60):  # 2**60 repeats of 100 kB: only a walk that stops at the cap finishes
        bomb = [bomb, bomb]
    start = time.perf_counter()
    with pytest.raises(BudgetTrap) as info:
        export({"x": bomb}, 1 << 20, 64)
    assert info.value.code == "B506" and time.perf_counter() - start < 0.5


def test_rules_sharing_one_big_value_hit_the_output_cap_quickly() -> None:
    rules = compile_rules('let a = [issue.summary]\nfor i in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, '
                          '17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, '
                          '40] {\n    a = [a, a]\n}\nreplica.custom["x"] = a\n', "bomb.rules")
    start = time.perf_counter()
    with pytest.raises(BudgetError) as info:
        rules.run_outgoing({"summary": "s" * 10_000}, limits=Limits(wall_time=5.0))
    assert info.value.diagnostic.code == "B506" and time.perf_counter() - start < 1.0


def test_writes_into_a_shared_subtree_never_reach_the_input() -> None:
    issue = copy.deepcopy(ISSUE)
    before = copy.deepcopy(issue)
    rules = compile_rules('replica.custom = issue.custom\nreplica.custom["team"]["lead"] = "grace"\n'
                          'replica.labels = issue.labels\nreplica.labels[0] = "z"\n', "cow.rules")
    r = rules.run_outgoing(issue)
    assert issue == before
    assert r.replica == {"custom": {"team": {"name": "core", "lead": "grace"}, "regions": ["eu", "us"],
                                    "points": 2.5}, "labels": ["z", "b"]}
    # Only the containers on the written paths are the run's own; the rest is the input's, unchanged.
    assert r.replica["custom"] is not issue["custom"] and r.replica["custom"]["team"] is not issue["custom"]["team"]
    assert r.replica["custom"]["regions"] is issue["custom"]["regions"]


def test_a_second_run_on_the_same_input_sees_it_unchanged() -> None:
    issue = copy.deepcopy(ISSUE)
    rules = compile_rules('replica.custom = issue.custom\nreplica.custom["team"]["lead"] = issue.key\n', "again.rules")
    first = rules.run_outgoing(issue).replica
    second = rules.run_outgoing(issue).replica
    assert first == second and issue == ISSUE


def test_user_lookups_are_copied_not_shared_with_the_host_table() -> None:
    table = {"a@x": {"id": "1", "email": "a@x", "name": "A"}}
    r = compile_rules('replica.assignee = user("a@x")', "u.rules").run_outgoing({}, lookups=StaticLookups(table))
    assert r.replica["assignee"] == table["a@x"] and r.replica["assignee"] is not table["a@x"]


def test_a_text_subclass_from_the_host_interpolates_as_its_text_not_as_json() -> None:
    from runtime import compile_rules

    class Text(str):
        def __str__(self) -> str:  # never called: the text is read through str's own method
            raise AssertionError("the subclass's code ran")

    rules = compile_rules('replica.summary = "[${issue.key}] ${issue.summary}"\n'
                          "replica.description = str(issue.summary)\n", "sub.rules")
    out = rules.run_outgoing({"key": Text("QA-1"), "summary": Text('say "hi"')}).replica
    assert out == {"summary": '[QA-1] say "hi"', "description": 'say "hi"'}
    assert type(out["summary"]) is str and type(out["description"]) is str
