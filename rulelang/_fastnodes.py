"""Quick constructors for the frozen node dataclasses and Span, and the fast parse path's Fallback signal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from .span import Span


class Fallback(Exception):
    """The fast (recursive-descent) path stops here; the reference Lark parse of the same text decides what happens."""


def maker(cls: type) -> Callable[..., Any]:
    """A constructor equal to `cls(*args)` for a frozen slots dataclass, without the per-field `object.__setattr__`.

    It sets each slot through its member descriptor, which is what the dataclass `__init__`
    ends up doing, minus the name lookups (a test compares it with the real constructor).
    """
    names = [f.name for f in fields(cls)]
    env: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    body = []
    for i, name in enumerate(names):
        for klass in cls.__mro__:
            if name in klass.__dict__:
                env[f"_s{i}"] = klass.__dict__[name].__set__
                break
        body.append(f"_s{i}(o, a{i})")
    args = ", ".join(f"a{i}" for i in range(len(names)))
    src = f"def make({args}):\n    o = _new(_cls)\n    " + "\n    ".join(body) + "\n    return o\n"
    exec(src, env)  # noqa: S102 - code generated from our own dataclass field names
    return env["make"]


def twin_maker(cls: type) -> Callable[..., Any]:
    """A constructor equal to `cls(*args)` for a frozen slots dataclass with no base but `object`, faster than `maker`.

    It fills an instance of a twin class (the same slots, without the frozen `__setattr__`, so
    the slots are set by plain attribute stores) and then makes it a `cls` (`__class__`
    assignment, allowed between classes of the same layout). Spans are a third of what a parse
    allocates, and this halves their cost. Where the twin is refused, `maker(cls)` is returned.
    """
    names = [f.name for f in fields(cls)]
    slots = tuple(cls.__dict__.get("__slots__", ()))
    if cls.__base__ is not object or list(slots) != names:
        return maker(cls)
    twin = type(f"_{cls.__name__}Twin", (object,), {"__slots__": slots, "__module__": __name__})
    env: dict[str, Any] = {"_new": object.__new__, "_twin": twin, "_cls": cls}
    args = ", ".join(f"a{i}" for i in range(len(names)))
    body = "".join(f"    o.{name} = a{i}\n" for i, name in enumerate(names))
    src = f"def make({args}):\n    o = _new(_twin)\n{body}    o.__class__ = _cls\n    return o\n"
    exec(src, env)  # noqa: S102 - code generated from our own dataclass field names
    make = env["make"]
    try:
        probe = make(*range(len(names)))
    except TypeError:  # an interpreter that refuses the __class__ assignment
        return maker(cls)
    if type(probe) is not cls or probe != cls(*range(len(names))):  # pragma: no cover - CPython keeps both
        return maker(cls)
    return make


S = twin_maker(Span)


def joined(a: Span, z: Span) -> Span:
    """`a.to(z)` built with `S`: from the start of `a` to the end of `z`."""
    return S(a.file, a.line, a.col, z.end_line, z.end_col, a.start, z.end)
