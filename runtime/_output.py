"""Exporting a run's output: the in-place check of exact JSON types, nesting and compact-JSON size, and the
copying fallback for values from the host that are not exact JSON."""

from __future__ import annotations

import math
from typing import Any

from .budget import BudgetTrap, Trap

__all__ = ["export", "copy_json", "NotJson"]


class NotJson(Exception):
    """A value handed in by the host is not JSON (a set, NaN, an object…): the caller's input is wrong."""


def export(v: Any, limit: int, max_depth: int) -> tuple[Any, int]:
    """The output value and its approximate compact-JSON size (repeats counted); stops as soon as it passes limit.

    A value made only of exact JSON types (everything the runtime builds from exact inputs) is measured in
    place and returned as it is, so it may share unchanged sub-values with the run's inputs. Anything else (a
    subclass, a tuple, NaN, an object from the host) makes the whole value go through `copy_json` instead."""
    t = type(v)
    try:
        if t is dict:
            size = _dict_size(v, 0, limit, max_depth)
        elif t is list:
            size = _list_size(v, 0, limit, max_depth)
        elif t is str:
            size = len(v) + 2
        elif v is None or t is bool or t is int or (t is float and v - v == 0.0):
            size = 6
        else:
            raise _Inexact
    except _Inexact:
        return copy_json(v, limit, max_depth)
    except _TooLarge:
        raise _too_large(limit) from None
    if size > limit:
        raise _too_large(limit)
    return v, size


def copy_json(v: Any, limit: int, max_depth: int) -> tuple[Any, int]:
    """A fresh copy of exact JSON types and its approximate compact-JSON size; stops as soon as it passes limit."""
    if type(v) is dict and max_depth >= 0:  # a flat map of text keys and scalars (a user record): one loop
        size = 2
        for k, x in v.items():
            tx = type(x)
            if type(k) is not str or not (tx is str or x is None or tx is bool or tx is int):
                break
            size += len(k) + (len(x) + 6 if tx is str else 10)
        else:
            if size > limit:
                raise _too_large(limit)
            return dict(v), size
    acc = [0]
    out = _export(v, 0, acc, limit, max_depth)
    return out, acc[0]


class _Inexact(Exception):
    """The value holds something other than exact JSON types: copy it instead."""


def _too_deep(max_depth: int) -> BudgetTrap:
    return BudgetTrap("B508", f"output nested too deeply (more than {max_depth} levels)")


def _too_large(limit: int) -> BudgetTrap:
    return BudgetTrap("B506", f"output too large: more than {limit:,} characters of JSON")


class _TooLarge(Exception):
    """The in-place walk passed the size limit (reported as B506 with the limit by `export`)."""


# The in-place walk: `_export`'s size accounting without the copy; raises _Inexact at the first value that is
# not exact JSON. Each container gets `room`, what the limit leaves after everything counted before it, and
# checks its running size against it when done, so a value shared many times is refused after about
# `limit` characters' worth of visits (every container counts at least 2), never walked in full. A map and a
# list each have their own function, and scalar children are handled inline: one call per container.


def _dict_size(v: dict, depth: int, room: int, max_depth: int) -> int:
    if depth > max_depth:
        raise _too_deep(max_depth)
    size = 2
    for k, x in v.items():
        if type(k) is not str:
            raise _Inexact
        tx = type(x)
        if tx is str:
            size += len(k) + len(x) + 6
        elif tx is dict:
            size += len(k) + 4
            size += _dict_size(x, depth + 1, room - size, max_depth)
        elif tx is list:
            size += len(k) + 4
            size += _list_size(x, depth + 1, room - size, max_depth)
        elif x is None or tx is bool or tx is int or (tx is float and x - x == 0.0):  # not NaN or infinite
            size += len(k) + 10
        else:
            raise _Inexact
    if size > room:
        raise _TooLarge
    return size


def _list_size(v: list, depth: int, room: int, max_depth: int) -> int:
    if depth > max_depth:
        raise _too_deep(max_depth)
    size = 2
    for x in v:
        tx = type(x)
        if tx is str:
            size += len(x) + 3
        elif tx is dict:
            size += _dict_size(x, depth + 1, room - size, max_depth)
        elif tx is list:
            size += _list_size(x, depth + 1, room - size, max_depth)
        elif x is None or tx is bool or tx is int or (tx is float and x - x == 0.0):
            size += 6
        else:
            raise _Inexact
    if size > room:
        raise _TooLarge
    return size


def _export(v: Any, depth: int, acc: list[int], limit: int, max_depth: int) -> Any:
    t = type(v)
    if t is not dict and t is not list and isinstance(v, dict | list):
        # A subclass from the host: read it through the base type's C methods, so none of its overrides run.
        v = dict(dict.items(v)) if isinstance(v, dict) else list(list.__iter__(v))
        t = type(v)
    if t is dict:
        if depth > max_depth:
            raise _too_deep(max_depth)
        out = {}
        size = 2
        for k, x in v.items():
            if type(k) is not str:
                k = _exact_key(k)
            tx = type(x)
            if tx is str:
                size += len(k) + len(x) + 6
                out[k] = x
            elif x is None or tx is bool or tx is int:
                size += len(k) + 10
                out[k] = x
            else:
                size += len(k) + 4
                out[k] = _export(x, depth + 1, acc, limit, max_depth)
        acc[0] += size
    elif t is list:
        if depth > max_depth:
            raise _too_deep(max_depth)
        out = []
        append = out.append
        size = 2
        for x in v:
            tx = type(x)
            if tx is str:
                size += len(x) + 3
                append(x)
            elif x is None or tx is bool or tx is int:
                size += 6
                append(x)
            else:
                append(_export(x, depth + 1, acc, limit, max_depth))
        acc[0] += size
    else:
        out = _export_scalar(v)
        acc[0] += len(out) + 2 if type(out) is str else 6
    if acc[0] > limit:
        raise _too_large(limit)
    return out


def _export_scalar(v: Any) -> Any:
    t = type(v)
    if t is str or t is int or t is bool or v is None:
        return v
    if t is float:
        if math.isfinite(v):
            return v
        raise NotJson(f"the number {v!r} is not finite")
    # Subclasses of JSON types are copied to the exact type through the base type's own C methods,
    # so that no method the subclass overrides runs.
    if isinstance(v, str):
        return str.__str__(v)
    if isinstance(v, int):
        return _int64(int.__index__(v))
    if isinstance(v, float):
        return _export_scalar(float.__float__(v))
    raise NotJson(f"a {type(v).__name__} is not a JSON value")


def _exact_key(k: Any) -> str:
    if isinstance(k, str):
        return str.__str__(k)
    raise NotJson(f"a map key must be text, not {type(k).__name__}")


def _int64(v: int) -> int:
    if -(2**63) <= v <= 2**63 - 1:
        return v
    raise Trap("X402", "integer overflow: the result does not fit in 64 bits")
