"""The ABI implementations of collection and text methods and of the built-in functions."""

from __future__ import annotations

import functools
import re
from typing import Any

import re2

from . import _dates, _markup
from .budget import CHARGE_UNIT, BudgetTrap, State, Trap, tick
from .functions import CHUNK, charge_steps, chunks
from .values import (
    INT_MAX,
    INT_MIN,
    charge,
    check_items,
    check_text,
    contains,
    copy_json,
    to_text,
    type_name,
    unique_key,
)

__all__ = ["METHODS_AND_BUILTINS"]


def _list(rt: State, xs: Any, method: str) -> list:
    if type(xs) is list:
        return xs
    if xs is None:
        return []
    raise Trap("X405", f".{method}() works on a list, not on {type_name(xs)}")


# ---- collection methods (each lambda call is a step) ------------------------------------------


def rt_m_filter(rt: State, xs: Any, fn: Any) -> list:
    if type(xs) is not list:
        xs = _list(rt, xs, "filter")
    if len(xs) <= CHUNK:  # the common case: one charge, then C-level iteration
        rt.steps += len(xs)
        if rt.steps > rt.check_at:
            tick(rt)
        return list(filter(fn, xs))
    out: list = []
    for chunk in chunks(xs):
        charge_steps(rt, len(chunk))
        out += filter(fn, chunk)
    check_items(rt, len(out))
    return out


def rt_m_map(rt: State, xs: Any, fn: Any) -> list:
    if type(xs) is not list:
        xs = _list(rt, xs, "map")
    if len(xs) <= CHUNK:
        rt.steps += len(xs)
        if rt.steps > rt.check_at:
            tick(rt)
        return list(map(fn, xs))
    check_items(rt, len(xs))
    out: list = []
    for chunk in chunks(xs):
        charge_steps(rt, len(chunk))
        out += map(fn, chunk)
    return out


def _first_true(rt: State, xs: list, fn: Any) -> tuple[bool, Any]:
    for chunk in chunks(xs):
        charge_steps(rt, len(chunk))
        for x in chunk:
            if fn(x):
                return True, x
    return False, None


def rt_m_any(rt: State, xs: Any, fn: Any) -> bool:
    return _first_true(rt, _list(rt, xs, "any"), fn)[0]


def rt_m_all(rt: State, xs: Any, fn: Any) -> bool:
    return not _first_true(rt, _list(rt, xs, "all"), lambda x: not fn(x))[0]


def rt_m_first(rt: State, xs: Any, fn: Any) -> Any:
    return _first_true(rt, _list(rt, xs, "first"), fn)[1]


def rt_m_sort_by(rt: State, xs: Any, fn: Any) -> list:
    xs = _list(rt, xs, "sort_by")
    keys = rt_m_map(rt, xs, fn)
    kinds = {type(k) for k in keys if k is not None}
    if kinds - {int, float} and kinds - {str}:
        names = sorted({type_name(k) for k in keys if k is not None})
        raise Trap("X404", f".sort_by() keys must be all numbers or all texts, not {' and '.join(names)}")
    charge_steps(rt, len(xs).bit_length() * len(xs) // 8)
    order = sorted(range(len(xs)), key=lambda i: (keys[i] is None, keys[i] if keys[i] is not None else 0))
    return [xs[i] for i in order]  # stable; nulls last


def rt_m_unique(rt: State, xs: Any) -> list:
    xs = _list(rt, xs, "unique")
    charge_steps(rt, len(xs) // 8)
    seen: set = set()
    out = []
    for x in xs:
        k = x if type(x) is str else unique_key(rt, x)
        if k not in seen:
            seen.add(k)
            out.append(x)
    return out


# ---- text methods (null in, null out) ---------------------------------------------------------


def _text(x: Any, method: str) -> str:
    if type(x) is str:
        return x
    raise Trap("X405", f".{method}() works on text, not on {type_name(x)}")


def _sized(rt: State, s: str) -> str:
    check_text(rt, len(s))
    return s


def rt_m_lower(rt: State, s: Any) -> Any:
    return None if s is None else _sized(rt, _text(s, "lower").lower())


def rt_m_upper(rt: State, s: Any) -> Any:
    return None if s is None else _sized(rt, _text(s, "upper").upper())  # "ß" → "SS": bounded growth


def rt_m_trim(rt: State, s: Any) -> Any:
    return None if s is None else _text(s, "trim").strip()


def rt_m_replace(rt: State, s: Any, old: Any, new: Any) -> Any:
    if s is None:
        return None
    s, old, new = _text(s, "replace"), _text(old, "replace"), _text(new, "replace")
    charge(rt, len(s) // CHARGE_UNIT)
    count = s.count(old) if old else len(s) + 1
    check_text(rt, len(s) + count * (len(new) - len(old)))  # the exact result size, before building it
    return s.replace(old, new)


def rt_m_contains(rt: State, x: Any, item: Any) -> bool:
    if type(x) is str or type(x) is list or x is None:
        return contains(rt, x, item)
    raise Trap("X405", f".contains() works on text or a list, not on {type_name(x)}")


def rt_m_starts_with(rt: State, s: Any, prefix: Any) -> bool:
    return False if s is None else _text(s, "starts_with").startswith(_text(prefix, "starts_with"))


def rt_m_ends_with(rt: State, s: Any, suffix: Any) -> bool:
    return False if s is None else _text(s, "ends_with").endswith(_text(suffix, "ends_with"))


def rt_m_split(rt: State, s: Any, sep: Any) -> list:
    if s is None:
        return []
    s, sep = _text(s, "split"), _text(sep, "split")
    charge(rt, len(s) // CHARGE_UNIT)
    check_items(rt, (s.count(sep) + 1) if sep else len(s))
    return s.split(sep) if sep else list(s)


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> Any:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 8 << 20
    return re2.compile(pattern, options)


def rt_m_matches(rt: State, s: Any, pattern: Any) -> bool:
    pattern = _text(pattern, "matches")
    if len(pattern) > rt.limits.max_pattern:
        raise BudgetTrap("B504", f"regular expression too long: {len(pattern):,} characters "
                         f"(the limit is {rt.limits.max_pattern:,})")
    try:
        rx = _regex(pattern)
    except Exception as e:  # re2 reports its own error type; any failure is a bad pattern
        detail = e.args[0].decode("utf-8", "replace") if e.args and isinstance(e.args[0], bytes) else str(e)
        raise Trap("X408", f"bad regular expression: {detail}",
                   "rulelang uses RE2 syntax: no backreferences or look-around") from None
    if s is None:
        return False
    s = _text(s, "matches")
    charge(rt, 1 + len(s) * max(1, len(pattern) // 64) // CHARGE_UNIT)
    return rx.search(s) is not None


# ---- built-in functions -------------------------------------------------------------------------


def rt_b_len(rt: State, x: Any) -> int:
    if type(x) in (str, list, dict):
        return len(x)
    if x is None:
        return 0
    raise Trap("X405", f"len() needs a text, list or map, not {type_name(x)}")


def rt_b_str(rt: State, x: Any) -> str:
    return to_text(rt, x)


_INT_TEXT = re.compile(r"\s*([+-]?[0-9]{1,19})\s*")
_NUM_TEXT = re.compile(r"\s*[+-]?([0-9]{1,300}(\.[0-9]{0,300})?|\.[0-9]{1,300})([eE][+-]?[0-9]{1,4})?\s*")


def rt_b_int(rt: State, x: Any) -> Any:
    t = type(x)
    if t is int or x is None:
        return x
    if t is float:
        if INT_MIN <= x <= INT_MAX:
            return int(x)
        raise Trap("X402", "integer overflow: the number does not fit in 64 bits")
    if t is str and len(x) <= 400:
        m = _INT_TEXT.fullmatch(x)
        if m:
            return rt_b_int(rt, int(m.group(1)))
        if _NUM_TEXT.fullmatch(x):
            return rt_b_int(rt, float(x))
    raise Trap("X406", f"int() cannot read {_show(x)} as a number")


def rt_b_float(rt: State, x: Any) -> Any:
    t = type(x)
    if t is float or x is None:
        return x
    if t is int:
        return float(x)
    if t is str and len(x) <= 400 and _NUM_TEXT.fullmatch(x):
        f = float(x)
        if f == f and f not in (float("inf"), float("-inf")):
            return f
    raise Trap("X406", f"float() cannot read {_show(x)} as a number")


def _show(x: Any) -> str:
    return f"text {x[:40]!r}" if type(x) is str else type_name(x)


def rt_b_now(rt: State) -> str:
    if rt.now_text is None:
        rt.now_text = _dates.now_iso()
    return rt.now_text


def rt_b_date(rt: State, x: Any) -> Any:
    return None if x is None else _dates.to_date(_text(x, "date"))


def rt_b_format_date(rt: State, d: Any, pattern: Any) -> Any:
    if d is None:
        return None
    text, pattern = _text(d, "format_date"), _text(pattern, "format_date")
    if len(pattern) > 100:
        raise Trap("X406", "format_date() pattern too long (at most 100 characters)")
    out = _dates.format_date(text, pattern)
    if out is None:
        raise Trap("X406", f"format_date() cannot read {_show(text)} as a date")
    return out


def rt_b_join(rt: State, xs: Any, sep: Any = "") -> str:
    xs = _list(rt, xs, "join")
    sep = _text(sep, "join")
    texts = [x if type(x) is str else to_text(rt, x) for x in xs]
    check_text(rt, sum(map(len, texts)) + len(sep) * max(0, len(texts) - 1))
    return sep.join(texts)


def rt_b_user(rt: State, email: Any) -> Any:
    if email is None:
        return None
    email = _text(email, "user")
    if email in rt.users:
        return rt.users[email]
    if len(rt.users) >= rt.limits.max_user_lookups:
        raise BudgetTrap("B505", f"too many user look-ups: more than {rt.limits.max_user_lookups} different "
                         "users in one run")
    found = rt.lookups.user(email) if rt.lookups is not None else None
    if found is not None and type(found) is not dict:
        raise Trap("X412", f"the user look-up returned {type(found).__name__}, not a map")
    # A copy: the host's answer may be its own table, which nothing the run returns may alias.
    result = copy_json(found, 64 * 1024, 8)[0] if found is not None else None
    rt.users[email] = result
    return result


def rt_b_twin(rt: State, key: Any) -> Any:
    if key is None:
        return None
    key = _text(key, "twin")
    if key not in rt.twins:
        found = rt.lookups.twin(key) if rt.lookups is not None else None
        if found is not None and not isinstance(found, str):
            raise Trap("X412", f"the twin look-up returned {type(found).__name__}, not text")
        rt.twins[key] = None if found is None else str.__str__(found)
    return rt.twins[key]


def rt_b_html_to_markdown(rt: State, x: Any) -> Any:
    if x is None:
        return None
    text = _text(x, "html_to_markdown")
    charge(rt, 4 * len(text) // CHARGE_UNIT)
    return _sized(rt, _markup.html_to_markdown(text))


def rt_b_markdown_to_html(rt: State, x: Any) -> Any:
    if x is None:
        return None
    text = _text(x, "markdown_to_html")
    charge(rt, 4 * len(text) // CHARGE_UNIT)
    return _sized(rt, _markup.markdown_to_html(text))


METHODS_AND_BUILTINS: dict[str, Any] = {name: fn for name, fn in globals().items()
                                        if name.startswith(("rt_m_", "rt_b_")) and callable(fn)}
