"""The core ABI implementations: reads, writes to the output root, operators, interpolation, loops, log/skip/fail."""

from __future__ import annotations

from typing import Any

from rulelang.model import LIST_OF_TEXT

from . import values as v
from .budget import CHARGE_UNIT, BudgetTrap, FailSignal, LogLine, SkipSignal, State, Trap, tick
from .values import charge, check_items, check_text, json_eq, to_text, type_name

__all__ = ["CORE", "CHUNK"]

# Loops and lambdas run in chunks of this many elements, charging steps (and looking at the clock)
# between chunks; a list this short runs without any per-element bookkeeping.
CHUNK = 256


def charge_steps(rt: State, n: int) -> None:
    rt.steps += n
    if rt.steps > rt.check_at:
        tick(rt)


def chunks(xs: list):
    return (xs[i:i + CHUNK] for i in range(0, len(xs), CHUNK))


def rt_index(obj: Any, key: Any) -> Any:
    t = type(obj)
    if t is dict:
        if type(key) is str:
            return obj.get(key)
        if key is None:
            return None
        raise Trap("X405", f"a map is indexed with text, not {type_name(key)}")
    if t is list or t is str:
        if type(key) is int:
            return obj[key] if -len(obj) <= key < len(obj) else None
        if key is None:
            return None
        raise Trap("X405", f"a {type_name(obj)} is indexed with a whole number, not {type_name(key)}")
    if obj is None:
        return None
    raise Trap("X410", f"cannot index {type_name(obj)}: only maps, lists and texts have items")


# ---- writes to the output root ----------------------------------------------------------------


def rt_set(rt: State, root: dict, field: str, value: Any, sid: int) -> None:
    if type(value) is str and field in LIST_OF_TEXT:  # `labels = "x"` means ["x"]
        value = [value]
    root[field] = value
    rt.explain[(field,)] = sid


def rt_set_many(rt: State, root: dict, values: dict, sid: int) -> None:
    """Consecutive top-level writes in one call: `values` is the literal map codegen built (its own, so it may
    be changed here); the i-th field's statement has sid `sid + i`."""
    known = rt.batches.get(sid)
    if known is None:  # the same call site always has the same fields: their explain entries are made once
        known = rt.batches[sid] = ({(f,): sid + i for i, f in enumerate(values)},
                                   tuple(f for f in values if f in LIST_OF_TEXT))
    paths, texts = known
    for field in texts:  # `labels = "x"` means ["x"]
        if type(values[field]) is str:
            values[field] = [values[field]]
    root.update(values)
    rt.explain.update(paths)  # a map to a map: no key is hashed again


def rt_put(rt: State, root: dict, path: tuple, value: Any, sid: int) -> None:
    """Set a nested field; maps and lists on the way that this run did not make are copied first, so an
    input shared with the output (`replica.custom = issue.custom`) is never changed in place."""
    if len(path) == 2 and type(path[0]) is str and type(path[1]) is str:
        # The common `replica.custom["X"] = …`: the same checks as the walk below, without the walk.
        key, last = path
        child = root.get(key)
        if child is None:
            if key not in root:
                _grow(rt, len(root) + 1)
            _grow(rt, 1)
            child = root[key] = {last: value}
            rt.owned[id(child)] = child
            rt.explain[path] = sid
            return
        if type(child) is dict:
            if id(child) not in rt.owned:  # not this run's (an input's map): write into a copy
                _grow(rt, len(child))
                child = root[key] = dict(child)
                rt.owned[id(child)] = child
            if last not in child:
                _grow(rt, len(child) + 1)
            child[last] = value
            rt.explain[path] = sid
            return
    node: Any = root
    for i in range(len(path) - 1):
        key = path[i]
        child = _child(node, key)
        if child is not None and id(child) in rt.owned:
            node = child
            continue
        if child is None:
            if type(path[i + 1]) is not str:
                raise Trap("X411", f"cannot set item {path[i + 1]!r} of a missing list")
            fresh: Any = {}
        elif type(child) is dict:
            check_items(rt, len(child))
            fresh = dict(child)
        elif type(child) is list:
            check_items(rt, len(child))
            fresh = list(child)
        else:
            raise Trap("X411", f"cannot set a field inside a {type_name(child)}")
        rt.owned[id(fresh)] = fresh
        _store(rt, node, key, fresh)
        node = fresh
    last = path[-1]
    if len(path) == 1 and type(value) is str and last in LIST_OF_TEXT:
        value = [value]
    _store(rt, node, last, value)
    rt.explain[tuple(path)] = sid


def _grow(rt: State, n: int) -> None:
    if n > rt.max_items or n >= CHARGE_UNIT:  # check_items, called only when it would do something
        check_items(rt, n)


def _child(node: Any, key: Any) -> Any:
    if type(node) is dict:
        if type(key) is not str:
            raise Trap("X405", f"a map is indexed with text, not {type_name(key)}")
        return node.get(key)
    if type(key) is not int:
        raise Trap("X405", f"a list is indexed with a whole number, not {type_name(key)}")
    return node[key] if -len(node) <= key < len(node) else None


def _store(rt: State, node: Any, key: Any, value: Any) -> None:
    if type(node) is dict:
        if type(key) is not str:
            raise Trap("X405", f"a map is indexed with text, not {type_name(key)}")
        if key not in node:
            check_items(rt, len(node) + 1)
        node[key] = value
        return
    if type(key) is not int or not -len(node) <= key < len(node):
        raise Trap("X411", f"list index {key!r} is out of range (a list has {len(node)} items)")
    node[key] = value


def rt_iadd(rt: State, cur: Any, value: Any, as_list: bool) -> Any:
    """`target += value`: append to a list (a list value is appended item by item), to a text, or add."""
    if type(cur) is list:
        if type(value) is list:
            return v.add(rt, cur, value)
        check_items(rt, len(cur) + 1)
        return [*cur, value]
    if cur is None:
        if as_list:
            return list(value) if type(value) is list else [value]
        return value
    return v.add(rt, cur, value)


def rt_isub(rt: State, cur: Any, value: Any, as_list: bool) -> Any:
    """`target -= value`: remove every equal item from a list (each item of a list value), or subtract."""
    if type(cur) is list:
        drop = value if type(value) is list else [value]
        charge(rt, len(cur) * max(1, len(drop)) // CHUNK)
        if all(type(d) is str for d in drop):
            gone = set(drop)
            return [x for x in cur if not (type(x) is str and x in gone)]
        return [x for x in cur if not any(json_eq(rt, x, d) for d in drop)]
    if cur is None and as_list:
        return []
    if type(cur) is str:
        raise Trap("X401", "cannot use -= on text", "use .replace(old, \"\") to remove text")
    return v.sub(rt, cur, value)


# ---- operators ----------------------------------------------------------------------------------


def rt_neg(rt: State, a: Any) -> Any:
    return v.neg(a)


def rt_eq(rt: State, a: Any, b: Any) -> bool:
    return json_eq(rt, a, b)


def rt_ne(rt: State, a: Any, b: Any) -> bool:
    return not json_eq(rt, a, b)


# Ordering: numbers with numbers, texts with texts; the type test is inlined (these run per element).
_ORDERED = {int: 1, float: 1, str: 2}


def rt_lt(rt: State, a: Any, b: Any) -> bool:
    k = _ORDERED.get(type(a))
    return a < b if k and k == _ORDERED.get(type(b)) else v.compare(a, b, "<")


def rt_le(rt: State, a: Any, b: Any) -> bool:
    k = _ORDERED.get(type(a))
    return a <= b if k and k == _ORDERED.get(type(b)) else v.compare(a, b, "<=")


def rt_gt(rt: State, a: Any, b: Any) -> bool:
    k = _ORDERED.get(type(a))
    return a > b if k and k == _ORDERED.get(type(b)) else v.compare(a, b, ">")


def rt_ge(rt: State, a: Any, b: Any) -> bool:
    k = _ORDERED.get(type(a))
    return a >= b if k and k == _ORDERED.get(type(b)) else v.compare(a, b, ">=")


def rt_in(rt: State, item: Any, container: Any) -> bool:
    return v.contains(rt, container, item)


def rt_merge(rt: State, a: Any, b: Any) -> dict:
    if type(a) is dict and type(b) is dict:  # the common case first: no call before the C-level merge
        n = len(a) + len(b)
        if n < CHARGE_UNIT and n <= rt.max_items:
            return a | b
    if a is None:
        a = {}
    if b is None:
        b = {}
    if type(a) is not dict or type(b) is not dict:
        raise Trap("X401", f"'|' needs two maps, not {type_name(a)} and {type_name(b)}")
    check_items(rt, len(a) + len(b))
    return a | b


def rt_text(rt: State, *parts: Any) -> str:
    n = 0
    for p in parts:  # a plain loop: cheaper than any C-level helper for the usual two or three parts
        if type(p) is not str:
            parts = tuple(p if type(p) is str else to_text(rt, p) for p in parts)
            n = sum(map(len, parts))
            break
        n += len(p)
    if n > rt.max_text or n >= CHARGE_UNIT:
        check_text(rt, n)
    return "".join(parts)


# ---- statements ---------------------------------------------------------------------------------


def rt_each(rt: State, iterable: Any, body: Any, carried: list) -> list:
    t = type(iterable)
    if t is list:
        items = iterable
    elif t is dict:
        items = list(iterable)  # keys; a copy, since the body may change the map it loops over
    elif iterable is None:
        return carried
    else:
        raise Trap("X409", f"cannot loop over {type_name(iterable)}: `for` needs a list or a map")
    for start in range(0, len(items), CHUNK):
        chunk = items[start:start + CHUNK] if len(items) > CHUNK else items
        rt.steps += len(chunk)
        if rt.steps > rt.check_at:
            tick(rt)
        for x in chunk:
            carried = body(x, *carried)
    return carried


def rt_item(carried: list, i: int) -> Any:
    return carried[i]


def rt_log(rt: State, value: Any, sid: int) -> None:
    text = to_text(rt, value)
    used = rt.log_size + len(text)
    if used > rt.limits.max_output or len(rt.log) >= rt.max_items:
        raise BudgetTrap("B506", f"log too large: more than {rt.limits.max_output:,} characters or "
                         f"{rt.max_items:,} lines")
    rt.log_size = used
    span = rt.spans[sid]
    rt.log.append(LogLine(span.line, span.col, text))


def rt_skip(rt: State, reason: Any, sid: int) -> None:
    raise SkipSignal(None if reason is None else to_text(rt, reason), sid)


def rt_fail(rt: State, message: Any, sid: int) -> None:
    raise FailSignal(to_text(rt, message), sid)


CORE: dict[str, Any] = {
    "rt_dget": dict.get,  # C-level: a field read costs what `d.get(k)` costs in hand-written Python
    "rt_index": rt_index, "rt_set": rt_set, "rt_set_many": rt_set_many, "rt_put": rt_put, "rt_iadd": rt_iadd,
    "rt_isub": rt_isub,
    "rt_add": v.add, "rt_sub": v.sub, "rt_mul": v.mul, "rt_div": v.div, "rt_mod": v.mod, "rt_neg": rt_neg,
    "rt_eq": rt_eq, "rt_ne": rt_ne, "rt_lt": rt_lt, "rt_le": rt_le, "rt_gt": rt_gt, "rt_ge": rt_ge,
    "rt_in": rt_in, "rt_merge": rt_merge, "rt_text": rt_text, "rt_each": rt_each, "rt_item": rt_item,
    "rt_log": rt_log, "rt_skip": rt_skip, "rt_fail": rt_fail,
}
