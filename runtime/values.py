"""JSON values at run time: type names, equality, ordering, arithmetic in int64, text forms (exporting outputs is
`_output`, re-exported here)."""

from __future__ import annotations

import json
import math
from typing import Any

from ._output import NotJson, copy_json, export
from .budget import CHARGE_UNIT, BudgetTrap, State, Trap, tick

__all__ = [
    "INT_MIN", "INT_MAX", "type_name", "charge", "check_text", "check_items", "json_eq", "compare", "add", "sub",
    "mul", "div", "mod", "neg", "contains", "to_text", "to_json_text", "unique_key", "export", "copy_json",
    "NotJson",
]

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_NUM = (int, float)


def type_name(v: Any) -> str:
    t = type(v)
    if v is None:
        return "null"
    if t is bool:
        return "bool"
    if t is int or t is float:
        return "number"
    if t is str:
        return "text"
    if t is list:
        return "list"
    if t is dict:
        return "map"
    return type(v).__name__


def charge(rt: State, n: int) -> None:
    rt.steps += n
    if rt.steps > rt.check_at:
        tick(rt)


def check_text(rt: State, n: int) -> None:
    """Before building a text of n characters: the size limit, and one step per CHARGE_UNIT characters."""
    if n > rt.max_text:
        raise BudgetTrap("B502", f"text too large: {n:,} characters (the limit is {rt.max_text:,})")
    if n >= CHARGE_UNIT:
        charge(rt, n // CHARGE_UNIT)


def check_items(rt: State, n: int) -> None:
    """Before building a list or map of n elements."""
    if n > rt.max_items:
        raise BudgetTrap("B503", f"list or map too large: {n:,} elements (the limit is {rt.max_items:,})")
    if n >= CHARGE_UNIT:
        charge(rt, n // CHARGE_UNIT)


def _int(v: int) -> int:
    if INT_MIN <= v <= INT_MAX:
        return v
    raise Trap("X402", "integer overflow: the result does not fit in 64 bits")


def _float(v: float) -> float:
    if math.isfinite(v):
        return v
    raise Trap("X402", "number out of range: the result is not a finite number")


def _type_error(op: str, a: Any, b: Any) -> Trap:
    hint = None
    if a is None or b is None:
        hint = "a missing field is null: give a default with `??`"
    elif {type_name(a), type_name(b)} == {"text", "number"}:
        hint = 'turn the number into text first: "${n}" or str(n)'
    return Trap("X401", f"cannot {op} {type_name(a)} and {type_name(b)}", hint)


# ---- equality and ordering ---------------------------------------------------------------


def json_eq(rt: State, a: Any, b: Any) -> bool:
    """JSON equality: numbers by value (1 == 1.0), but true is not 1 and text is never a number."""
    ta, tb = type(a), type(b)
    if ta is str or tb is str or a is None or b is None:
        return a == b if ta is tb else False
    if ta is dict or ta is list:
        if ta is not tb or a != b:  # Python's == never says unequal where JSON says equal (no NaN here)
            return False
        return _strict_eq(rt, a, b, 0)
    if ta is bool or tb is bool:
        return ta is tb and a is b
    return (ta in _NUM and tb in _NUM) and a == b


def _strict_eq(rt: State, a: Any, b: Any, depth: int) -> bool:
    """Python said equal; make sure no true == 1 hides inside."""
    if depth > rt.max_depth:
        raise BudgetTrap("B508", f"value nested too deeply (more than {rt.max_depth} levels)")
    ta = type(a)
    if ta is not type(b):
        return ta in _NUM and type(b) in _NUM
    if ta is dict:
        charge(rt, len(a) // CHARGE_UNIT)
        return all(_strict_eq(rt, v, b[k], depth + 1) for k, v in a.items())
    if ta is list:
        charge(rt, len(a) // CHARGE_UNIT)
        return all(_strict_eq(rt, x, y, depth + 1) for x, y in zip(a, b, strict=True))
    return True


def compare(a: Any, b: Any, op: str) -> bool:
    ta, tb = type(a), type(b)
    if (ta is str and tb is str) or (ta in _NUM and tb in _NUM):
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        return a >= b
    hint = "a missing field is null: give a default with `??`" if a is None or b is None else None
    raise Trap("X404", f"cannot compare {type_name(a)} with {type_name(b)} using '{op}'", hint)


def contains(rt: State, container: Any, item: Any) -> bool:
    t = type(container)
    if t is str:
        if type(item) is not str:
            raise Trap("X405", f"only text can be found in a text, not {type_name(item)}")
        charge(rt, len(container) // CHARGE_UNIT)
        return item in container
    if t is list:
        charge(rt, len(container))
        ti = type(item)
        if ti is str:
            return item in container  # str == x is exact for every JSON x
        return any(json_eq(rt, x, item) for x in container)
    if t is dict:
        return type(item) is str and item in container
    if container is None:
        return False
    raise Trap("X405", f"'in' needs a text, list or map on its right, not {type_name(container)}")


# ---- arithmetic (int64, finite floats, sizes checked before building) --------------------


def add(rt: State, a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is str and tb is str:
        check_text(rt, len(a) + len(b))
        return a + b
    if ta is int and tb is int:
        return _int(a + b)
    if ta in _NUM and tb in _NUM:
        return _float(a + b)
    if ta is list and tb is list:
        check_items(rt, len(a) + len(b))
        return a + b
    raise _type_error("add", a, b)


def sub(rt: State, a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return _int(a - b)
    if ta in _NUM and tb in _NUM:
        return _float(a - b)
    raise _type_error("subtract", a, b)


def mul(rt: State, a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return _int(a * b)
    if ta in _NUM and tb in _NUM:
        return _float(a * b)
    if ta is int and tb is str:
        a, b, ta, tb = b, a, tb, ta
    if ta is str and tb is int:
        check_text(rt, len(a) * max(b, 0))  # checked before Python allocates anything
        return a * b
    raise _type_error("multiply", a, b)


def div(rt: State, a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta in _NUM and tb in _NUM:
        if b == 0:
            raise Trap("X403", "division by zero")
        if ta is int and tb is int and a % b == 0:
            return _int(a // b)
        return _float(a / b)
    raise _type_error("divide", a, b)


def mod(rt: State, a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta in _NUM and tb in _NUM:
        if b == 0:
            raise Trap("X403", "division by zero (in %)")
        return _int(a % b) if ta is int and tb is int else _float(a % b)
    raise _type_error("take the remainder of", a, b)


def neg(a: Any) -> Any:
    t = type(a)
    if t is int:
        return _int(-a)
    if t is float:
        return -a
    raise Trap("X401", f"cannot negate {type_name(a)}")


# ---- text forms ------------------------------------------------------------------------------


def to_text(rt: State, v: Any) -> str:
    """The text of a value in `${…}` and str(): null is empty, true/false, numbers, lists and maps as JSON."""
    t = type(v)
    if t is str:
        return v
    if v is None:
        return ""
    if t is bool:
        return "true" if v else "false"
    if t is int or t is float:
        return repr(v)
    if isinstance(v, str):  # a subclass handed in by the host: its text, read by str's own method (no override runs)
        return str.__str__(v)
    return to_json_text(rt, v)


def to_json_text(rt: State, v: Any) -> str:
    size = _measure(rt, v, rt.max_text)  # bounded first: shared sub-values could otherwise blow up here
    charge(rt, size // CHARGE_UNIT)
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _measure(rt: State, v: Any, limit: int) -> int:
    total = 0
    stack = [(v, 0)]
    while stack:
        x, depth = stack.pop()
        t = type(x)
        if t is str:
            total += len(x) + 2
        elif t is dict:
            if depth > rt.max_depth:
                raise BudgetTrap("B508", f"value nested too deeply (more than {rt.max_depth} levels)")
            total += 2 + sum(len(k) + 4 for k in x)
            stack.extend((y, depth + 1) for y in x.values())
        elif t is list:
            if depth > rt.max_depth:
                raise BudgetTrap("B508", f"value nested too deeply (more than {rt.max_depth} levels)")
            total += 2 + len(x)
            stack.extend((y, depth + 1) for y in x)
        else:
            total += 6
        if total > limit:
            raise BudgetTrap("B502", f"text too large: more than {limit:,} characters")
    return total


def unique_key(rt: State, v: Any, depth: int = 0) -> Any:
    """A hashable stand-in with JSON equality: 1 and 1.0 share a key, true and 1 do not."""
    t = type(v)
    if t is str or v is None:
        return v
    if t is bool:
        return ("bool", v)
    if t is int or t is float:
        return ("num", v)
    if depth > rt.max_depth:
        raise BudgetTrap("B508", f"value nested too deeply (more than {rt.max_depth} levels)")
    if t is list:
        charge(rt, len(v) // CHARGE_UNIT)
        return ("list", tuple(unique_key(rt, x, depth + 1) for x in v))
    charge(rt, len(v) // CHARGE_UNIT)
    return ("map", frozenset((k, unique_key(rt, x, depth + 1)) for k, x in v.items()))
