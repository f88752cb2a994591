"""Quick constructors for the frozen node dataclasses and Span, and the fast parser's Fallback signal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from . import nodes as n
from .span import Span


class Fallback(Exception):
    """The fast path stops here; the reference Lark parse of the same text decides what happens."""


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


S = maker(Span)
NAME_ = maker(n.Name)
ATTR = maker(n.Attr)
LIT = maker(n.Literal)
MCALL = maker(n.MethodCall)
ASSIGN = maker(n.Assign)
MENTRY = maker(n.MapEntry)
MAPLIT = maker(n.MapLit)
LAMBDA = maker(n.Lambda)
INDEX = maker(n.Index)
