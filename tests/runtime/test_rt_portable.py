"""Rules compiled in the engine's process and run in a worker: `Rules.portable()` / `load_portable`, and a
rules worker that never imports the compiler."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from rulelang.errors import RuleRuntimeError
from runtime import StaticLookups, compile_rules
from runtime._rulejobs import Job, Program, compile_all, run_one
from runtime.sandbox import load_portable

OUT = """\
replica.summary = "[${issue.key}] ${issue.summary}"
replica.comments = issue.comments.filter(c -> not c.internal).map(c -> {id: c.id, body: c.body})
replica.custom["Points"] = issue.custom["Points"] + 3
"""
ISSUE = {"key": "QA-1", "summary": "Crash", "comments": [{"id": "1", "body": "a", "internal": False},
                                                          {"id": "2", "body": "b", "internal": True}],
         "custom": {"Points": 3}}


def _loaded(source: str = OUT):
    rules = compile_rules(source, "qa-out.rules")
    return rules, load_portable(pickle.loads(pickle.dumps(rules.portable())))  # as it crosses to a worker


def test_loaded_rules_run_as_the_compiled_ones() -> None:
    rules, loaded = _loaded()
    want = rules.run_outgoing(ISSUE)
    got = loaded.run_outgoing(ISSUE)
    assert got.replica == want.replica == {"summary": "[QA-1] Crash", "comments": [{"id": "1", "body": "a"}],
                                           "custom": {"Points": 6}}
    assert (loaded.kind, loaded.file, loaded.warnings) == (rules.kind, rules.file, rules.warnings)
    assert dict(got.explain) == dict(want.explain) and got.explain["custom.Points"].line == 3
    assert loaded.python() == rules.python()


def test_a_run_time_error_in_loaded_rules_points_at_the_same_rule_position() -> None:
    rules, loaded = _loaded()
    bad = dict(ISSUE, custom={"Points": "three"})  # text + number
    errors = []
    for r in (rules, loaded):
        with pytest.raises(RuleRuntimeError) as e:
            r.run_outgoing(bad)
        errors.append(e.value.diagnostics[0])
    assert errors[0] == errors[1] and (errors[0].span.line, errors[0].span.col) == (3, 28)


def test_compile_all_loads_a_portable_program_without_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = compile_rules(OUT, "qa-out.rules")
    program = Program("QA.outgoing", OUT, "qa-out.rules", "outgoing", "no.such.module:compile",
                      rules.portable())
    compiled = compile_all({"QA.outgoing": program})  # the named compiler does not even exist
    outcome = run_one(compiled, Job("QA.outgoing", issue=ISSUE), StaticLookups({}), None)
    assert outcome.ok and outcome.replica == rules.run_outgoing(ISSUE).replica


def test_the_workers_fork_server_does_not_load_the_compiler() -> None:
    code = ("import sys, runtime._preload; "
            "print(sorted(m for m in ('lark', 'rulelang.codegen', 'rulelang.parse', 'rulelang.check', "
            "'RestrictedPython') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
