"""Defense in depth: hostile generated-Python shapes go straight to the verifier, and to RestrictedPython + guards."""

from __future__ import annotations

import ast
import copy

import pytest
from RestrictedPython import compile_restricted

from rulelang._verify import verify
from rulelang.codegen import compile_source
from rulelang.errors import InternalError
from runtime.sandbox import GUARD_NAMES, _base_globals, _program_globals

HEAD = "def rule_main(rt, r_replica, r_issue, r_connection):\n"


def module(body: str) -> ast.Module:
    return ast.parse(HEAD + "".join(f"    {line}\n" for line in body.splitlines()))


HOSTILE = {
    "attribute": "v_x = r_issue.__class__",
    "attribute_call": "rt_set(rt, r_replica, 'k', ''.join([]), 0)",
    "subscript": "v_x = r_issue['key']",
    "subscript_store": "r_replica['key'] = 1",
    "import": "import os",
    "import_from": "from os import system",
    "dunder_name": "v_x = __builtins__",
    "guard_name": "v_x = _getattr_",
    "underscore_name": "v_x = _secret",
    "call_builtin": "v_x = open('/etc/passwd')",
    "call_eval": "v_x = eval('1')",
    "call_variable": "v_f = rt_dget\nv_x = v_f(r_issue, 'key')",
    "call_lambda_directly": "v_x = (lambda v_a: v_a)(1)",
    "call_with_keywords": "rt_set(rt, r_replica, 'k', 1, sid=0)",
    "call_with_star": "rt_set(*[rt, r_replica, 'k', 1, 0])",
    "call_wrong_arity": "rt_set(rt, r_replica, 'k')",
    "lambda_defaults": "v_x = rt_m_map(rt, [], lambda v_a, v_b=rt: v_b)",
    "lambda_star_args": "v_x = rt_m_map(rt, [], lambda *v_a: v_a)",
    "lambda_kwonly": "v_x = rt_m_map(rt, [], lambda *, v_a: v_a)",
    "function_default": "def loop_1(v_a=r_issue):\n    return []",
    "function_decorator": "@rt_log\ndef loop_1(v_a):\n    return []",
    "function_other_name": "def helper(v_a):\n    return []",
    "while": "while True:\n    pass",
    "for": "for v_x in [1]:\n    pass",
    "list_comprehension": "v_x = [v_a for v_a in r_issue]",
    "generator": "v_x = rt_b_len(rt, (v_a for v_a in [1]))",
    "try": "try:\n    pass\nexcept Exception:\n    pass",
    "with": "with rt:\n    pass",
    "global": "global rt_E",
    "nonlocal": "def loop_1(v_a):\n    nonlocal rt\n    return []",
    "yield": "v_x = yield 1",
    "aug_assign": "v_x = 1\nv_x += 1",
    "fstring": "v_x = f'{r_issue}'",
    "format_spec": "v_x = f'{1:>{10**9}}'",
    "class_def": "class v_C:\n    pass",
    "delete": "v_x = 1\ndel v_x",
    "raise": "raise rt_E",
    "assert": "assert r_issue",
    "is_not_none": "v_x = r_issue is r_replica",
    "in_list": "v_x = 'a' in ['a']",
    "eq_number": "v_x = r_issue == 1",
    "chained_compare": "v_x = 'a' == 'a' == 'a'",
    "bytes_constant": "v_x = b'raw'",
    "huge_int": "v_x = 10 ** 100\nv_y = 99999999999999999999999",
    "ellipsis": "v_x = ...",
    "dict_non_text_key": "v_x = {1: 2}",
    "dict_unpack": "v_x = {**r_issue}",
    "walrus_to_variable": "v_x = (v_y := 1)",
    "tuple_target": "v_x, v_y = [1, 2]",
    "assign_to_abi": "rt_dget = rt_log",
    "assign_to_root": "r_issue = {}",
    "starred_list": "v_x = [*r_issue]",
    "set_literal": "v_x = {1, 2}",
    "binop": "v_x = 2 ** 10000",
    "slice": "v_x = rt_index(r_issue, 0)[1:2]",
    "match": "match r_issue:\n    case _:\n        pass",
    "write_into_input": "rt_set(rt, r_issue, 'summary', 'pwned', 0)",
    "put_into_constant": "rt_put(rt, rt_E, ('a',), 1, 0)",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_verifier_rejects(name: str) -> None:
    tree = module(HOSTILE[name])
    with pytest.raises(InternalError) as info:
        verify(tree, "hostile.rules")
    d = info.value.diagnostic
    assert d.code == "I900" and "please report" in d.message
    assert d.span is not None and d.span.file == "hostile.rules" and d.span.line >= 1


def test_verifier_rejects_extra_module_statements() -> None:
    tree = ast.parse(HEAD + "    pass\nimport os\n")
    with pytest.raises(InternalError):
        verify(tree)
    with pytest.raises(InternalError):
        verify(ast.parse("def other(rt):\n    pass\n"))


def test_verifier_accepts_what_codegen_makes() -> None:
    compiled = compile_source('let n = 0\nfor c in issue.comments { n += 1 }\n'
                              'replica.comments = issue.comments.filter(c -> c.id in ["a"]).map(c -> c | {body: "x"})\n'
                              'replica.custom["n"] = n ?? 0\nif issue.key == null { skip } else { log "${n}" }',
                              "ok.rules")
    verify(copy.deepcopy(compiled.module))


# RestrictedPython and the refusing guard hooks stop the dangerous shapes on their own too.
DANGEROUS = ["attribute", "attribute_call", "subscript", "subscript_store", "import", "import_from", "dunder_name",
             "guard_name", "underscore_name", "call_builtin", "call_eval", "for", "list_comprehension",
             "aug_assign", "generator", "class_def", "nonlocal"]


@pytest.mark.parametrize("name", DANGEROUS)
def test_restricted_python_and_guards_stop_it(name: str) -> None:
    tree = module(HOSTILE[name])
    try:
        code = compile_restricted(tree, filename="hostile.rules", mode="exec")
    except SyntaxError:
        return  # RestrictedPython refused to compile it
    g = _program_globals(_base_globals(frozenset()))
    with pytest.raises(Exception) as info:
        exec(code, g)  # noqa: S102 - the point of the test
        g["rule_main"](None, {}, {"key": "k"}, {})
    # a refusing guard, a missing builtin (there are none: no __import__ either) — never success
    assert type(info.value).__name__ in ("_GuardCalled", "NameError", "ImportError", "TypeError", "KeyError")


def test_guard_hooks_all_refuse() -> None:
    g = _program_globals(_base_globals(frozenset()))
    for name in GUARD_NAMES:
        with pytest.raises(Exception) as info:
            g[name](object())
        assert type(info.value).__name__ == "_GuardCalled"
    assert g["__builtins__"] == {}


# ---- the program's globals: one dict for all runs, checked after each -----------------------------


def test_runs_share_one_globals_dict_that_no_run_changes() -> None:
    from runtime import compile_rules

    rules = compile_rules("replica.summary = issue.summary\n", "g.rules")
    g = rules._globals
    for n in range(3):
        assert rules.run_outgoing({"summary": f"s{n}"}).replica == {"summary": f"s{n}"}
    assert rules._globals is g and g == rules._pristine and g["rt_E"] == {} and g["__builtins__"] == {}


def test_a_run_that_changed_its_globals_is_an_internal_error_and_the_next_run_starts_clean() -> None:
    """Stands in for a failed wall: a runtime function that writes into the caller's globals."""
    import sys

    from rulelang.errors import InternalError
    from runtime import compile_rules

    rules = compile_rules("replica.summary = issue.summary\n", "g.rules")
    real = rules._globals["rt_set"]

    def leaking(*args: object) -> None:
        real(*args)
        sys._getframe(1).f_globals["rt_E"]["leak"] = 1  # the shared empty map, now not empty

    rules._globals["rt_set"] = rules._pristine["rt_set"] = leaking
    with pytest.raises(InternalError) as info:
        rules.run_outgoing({"summary": "s"})
    assert info.value.diagnostics[0].code == "I900"
    assert "a run changed its globals" in info.value.diagnostics[0].message
    assert rules._globals["rt_E"] == {} and rules._globals["rt_set"] is real  # made again from the program
    assert rules.run_outgoing({"summary": "t"}).replica == {"summary": "t"}
