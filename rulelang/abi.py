"""The ABI between generated code and the runtime: the only names generated code may call or read."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "AbiFunction", "FUNCTIONS", "CONSTANTS", "ENTRY", "ENTRY_PARAMS", "STATE", "NAME_PATTERNS",
    "BUILTIN_FUNCTIONS", "METHOD_FUNCTIONS", "CODEGEN_VERSION",
]

# Bumped whenever the shape of generated code changes: part of the compile-cache key.
CODEGEN_VERSION = "2"


@dataclass(frozen=True)
class AbiFunction:
    """One runtime function: how many arguments generated code passes (`rt`, the run state, included)."""

    name: str
    min_args: int
    max_args: int
    doc: str


def _f(name: str, n: int, doc: str, max_args: int | None = None) -> AbiFunction:
    return AbiFunction(name, n, n if max_args is None else max_args, doc)


# Every function takes `rt` (the per-run state) first unless its doc says "pure". `sid` is the index
# of the statement's span in the compiled program's span table (used for log, explain, skip, fail).
_TABLE = [
    # reads
    _f("rt_dget", 2, "pure, C-level dict.get: a field of a value known to be a map"),
    _f("rt_index", 2, "pure: null-safe index of a map (text key) or a list (int; negative from the end)"),
    # writes to the output root
    _f("rt_set", 5, "rt, root, field, value, sid: set one top-level field"),
    _f("rt_set_many", 4, "rt, root, {field: value…}, first sid: set several top-level fields (sids first…)"),
    _f("rt_put", 5, "rt, root, path tuple, value, sid: set a nested field, copying shared maps"),
    _f("rt_iadd", 4, "rt, current, value, as_list: `+=` (append to list or text, add numbers)"),
    _f("rt_isub", 4, "rt, current, value, as_list: `-=` (remove from list, subtract numbers)"),
    # operators
    _f("rt_add", 3, "rt, a, b: numbers, text + text, list + list (sizes checked before building)"),
    _f("rt_sub", 3, "rt, a, b"),
    _f("rt_mul", 3, "rt, a, b: numbers, text * int"),
    _f("rt_div", 3, "rt, a, b"),
    _f("rt_mod", 3, "rt, a, b"),
    _f("rt_neg", 2, "rt, a"),
    _f("rt_eq", 3, "rt, a, b: JSON equality (true != 1)"),
    _f("rt_ne", 3, "rt, a, b"),
    _f("rt_lt", 3, "rt, a, b: numbers or texts"),
    _f("rt_le", 3, "rt, a, b"),
    _f("rt_gt", 3, "rt, a, b"),
    _f("rt_ge", 3, "rt, a, b"),
    _f("rt_in", 3, "rt, item, container: text in text, item in list, key in map"),
    _f("rt_merge", 3, "rt, a, b: `a | b`, a copy of map a with b's fields"),
    _f("rt_text", 1, "rt, parts…: `\"…${x}…\"` interpolation", max_args=256),
    # `.map(x -> …)` / `.filter(x -> …)` as list comprehensions
    _f("rt_iter", 3, "rt, list, method name: what a comprehension loops over, one step per element charged"),
    _f("rt_kept", 3, "rt, rt_iter result, filtered list: the filter's result, its size checked after a long list"),
    # statements
    _f("rt_each", 4, "rt, iterable, body, carried: run a `for` body per element, carrying variables"),
    _f("rt_item", 2, "pure: element i of the carried-variables list a loop returns"),
    _f("rt_log", 3, "rt, value, sid"),
    _f("rt_skip", 3, "rt, reason, sid"),
    _f("rt_fail", 3, "rt, message, sid"),
]

# Built-in functions of the language (model.BUILTINS) → runtime function; all take rt first.
BUILTIN_FUNCTIONS = {name: f"rt_b_{name}" for name in (
    "len", "str", "int", "float", "now", "date", "join", "user", "html_to_markdown", "markdown_to_html",
    "twin", "format_date")}
_BUILTIN_ARITY = {"len": 1, "str": 1, "int": 1, "float": 1, "now": 0, "date": 1, "join": (1, 2), "user": 1,
                  "html_to_markdown": 1, "markdown_to_html": 1, "twin": 1, "format_date": 2}

# Methods (model.METHODS) → runtime function; they take rt, the receiver, then the arguments.
METHOD_FUNCTIONS = {name: f"rt_m_{name}" for name in (
    "filter", "map", "any", "all", "first", "sort_by", "unique", "lower", "upper", "trim", "replace",
    "contains", "starts_with", "ends_with", "split", "matches")}
_METHOD_ARITY = {"filter": 1, "map": 1, "any": 1, "all": 1, "first": 1, "sort_by": 1, "unique": 0, "lower": 0,
                 "upper": 0, "trim": 0, "replace": 2, "contains": 1, "starts_with": 1, "ends_with": 1,
                 "split": 1, "matches": 1}

for _name, _py in BUILTIN_FUNCTIONS.items():
    _a = _BUILTIN_ARITY[_name]
    _lo, _hi = _a if isinstance(_a, tuple) else (_a, _a)
    _TABLE.append(_f(_py, _lo + 1, f"built-in {_name}()", max_args=_hi + 1))
for _name, _py in METHOD_FUNCTIONS.items():
    _TABLE.append(_f(_py, _METHOD_ARITY[_name] + 2, f"method .{_name}()"))

FUNCTIONS: dict[str, AbiFunction] = {f.name: f for f in _TABLE}

# Values (not functions) generated code may read: an empty map that null-safe reads fall back on.
CONSTANTS = frozenset({"rt_E"})

# The entry function of a generated module and its parameters per program kind: the run state,
# the writable root (the output being built), then the read-only roots.
ENTRY = "rule_main"
STATE = "rt"
ENTRY_PARAMS = {
    "outgoing": ("rt", "r_replica", "r_issue", "r_connection"),
    "incoming": ("rt", "r_issue", "r_replica", "r_previous", "r_first_sync", "r_connection"),
}

# Names generated code binds: user variables (v_), roots (r_), temporaries (t_), hoisted constant
# maps (k_), loop bodies (loop_) and their results (c_). None starts with '_' (RestrictedPython
# would refuse them) and none can collide with an ABI name (rt_…).
NAME_PATTERNS = re.compile(r"(v_[A-Za-z][A-Za-z0-9_]*|r_(issue|replica|previous|first_sync|connection)"
                           r"|t_[0-9]+|k_[0-9]+|loop_[0-9]+|c_[0-9]+|rt)")
