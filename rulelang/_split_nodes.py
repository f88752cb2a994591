"""Node-building helpers of the splitter: replica slot reads, root renaming, value-map pieces and slot names."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import fields, replace
from typing import Any

from . import model
from . import nodes as n
from ._split_scan import Scan, instance_path
from .span import Span

__all__ = ["MapParts", "as_bool", "map_children", "reattach", "read_slot", "rename", "root_name",
           "selected_field", "slot_field", "slot_name"]

_SELECTIONS = ("filter", "sort_by", "unique")
_SPAN_FIELDS = frozenset({"span", "name_span", "key_span", "func_span", "method_span", "param_span",
                          "var_span"})


class MapParts:
    """The pieces of one direction of a value map: its table, its source values, and how a value is looked up.

    A list-of-text field (labels, components, versions) is mapped item by item; every other field is one value.
    """

    def __init__(self, st: n.ValueMap, pairs: list, source_steps: tuple) -> None:
        sp = self.sp = st.span
        self.st = st
        entries: dict[str, n.MapEntry] = {}
        for src, dst in pairs:
            entries.setdefault(src.value, n.MapEntry(src.span, src.value, dst, src.span))
        self.table = n.MapLit(sp, tuple(entries.values()))
        self.keys = n.ListLit(sp, tuple(n.Literal(e.key_span, e.key) for e in entries.values()))
        self.listy = len(source_steps) == 1 and source_steps[0] in model.LIST_OF_TEXT

    def _each(self, xs: n.Expr, method: str, body) -> n.Expr:
        v = n.Name(self.sp, "v")
        return n.MethodCall(self.sp, xs, method, (n.Lambda(self.sp, "v", body(v), self.sp),), self.sp)

    def lookup(self, x: n.Expr) -> n.Expr:
        """The mapped value (or list): with `else default` the default, with `else keep` a list item as it is."""
        st, sp = self.st, self.sp

        def one(v: n.Expr, fallback: n.Expr | None) -> n.Expr:
            found = n.Index(sp, self.table, v)
            return found if fallback is None else n.Coalesce(sp, found, fallback)

        if not self.listy:
            return one(x, st.default if st.otherwise == "default" else None)
        if st.otherwise == "default":
            return self._each(x, "map", lambda v: one(v, st.default))
        if st.otherwise == "keep":
            return self._each(x, "map", lambda v: one(v, v))
        return self._each(x, "map", lambda v: one(v, None))

    def unmapped(self, x: n.Expr) -> n.Expr:
        if not self.listy:
            return n.BinOp(self.sp, "not in", x, self.keys)
        return self._each(x, "any", lambda v: n.BinOp(self.sp, "not in", v, self.keys))

    def first_unmapped(self, x: n.Expr) -> n.Expr:
        if not self.listy:
            return x
        return self._each(x, "first", lambda v: n.BinOp(self.sp, "not in", v, self.keys))


def read_slot(path: tuple[str, ...], span: Span) -> n.Expr:
    replica = n.Attr(span, n.Name(span, "replica"), path[0], span)
    if len(path) == 1:
        return replica
    return n.Index(span, replica, n.Literal(span, path[1]))


def rename(e: n.Expr, instance: str) -> n.Expr:
    """`instance.issue` → `issue` everywhere in e."""
    if isinstance(e, n.Attr) and e.name == "issue" and isinstance(e.obj, n.Name) and e.obj.id == instance:
        return n.Name(e.span, "issue")
    if not any(isinstance(x, n.Attr) and x.name == "issue" and isinstance(x.obj, n.Name) and x.obj.id == instance
               for x in n.walk(e)):
        return e
    return map_children(e, lambda c: rename(c, instance))


def map_children(e: n.Expr, fn: Callable[[n.Expr], n.Expr]) -> n.Expr:
    changes: dict[str, Any] = {}
    for f in fields(e):
        if f.name in _SPAN_FIELDS:
            continue
        v = getattr(e, f.name)
        if isinstance(v, n.Expr):
            changes[f.name] = fn(v)
        elif isinstance(v, tuple):
            changes[f.name] = tuple(fn(x) if isinstance(x, n.Expr) else
                                    replace(x, value=fn(x.value)) if isinstance(x, n.MapEntry) else x for x in v)
    return replace(e, **changes)


def reattach(whole: n.Expr, prefix: n.Expr, replacement: n.Expr) -> n.Expr:
    """whole with its sub-path `prefix` replaced: `Green.issue.assignee.email` over `replica.assignee`."""
    if whole is prefix:
        return replacement
    return replace(whole, obj=reattach(whole.obj, prefix, replacement))  # type: ignore[attr-defined]


_BOOL_METHODS = frozenset({"any", "all", "contains", "starts_with", "ends_with", "matches"})


def as_bool(c: n.Expr) -> n.Expr:
    """A condition as the one bit the target needs: `true if c else false` unless c is a yes/no already."""
    if isinstance(c, n.BoolOp | n.Not) or (isinstance(c, n.BinOp) and c.op in ("==", "!=", "<", "<=", ">", ">=",
                                                                                   "in", "not in")) \
            or (isinstance(c, n.MethodCall) and c.method in _BOOL_METHODS) \
            or (isinstance(c, n.Literal) and isinstance(c.value, bool)):
        return c
    return n.Cond(c.span, n.Literal(c.span, True), c, n.Literal(c.span, False))


def slot_field(name: str) -> bool:
    """Replica fields a slot may use: the model's writable fields (not `custom`, which holds the others)."""
    return name in model.ISSUE_FIELDS and name != "custom" and name not in model.READ_ONLY_FIELDS


def root_name(e: n.Expr) -> str | None:
    while isinstance(e, n.Attr | n.Index):
        e = e.obj
    return e.id if isinstance(e, n.Name) else None


def selected_field(e: n.Expr, instances: Sequence[str], sender: str) -> str | None:
    """`Green.issue.comments.filter(…)` → "comments": a selection of a field's own items keeps its name."""
    if not (isinstance(e, n.MethodCall) and e.method in _SELECTIONS):
        return None
    while isinstance(e, n.MethodCall) and e.method in _SELECTIONS:
        e = e.obj
    path = instance_path(e, instances)
    if path is not None and path[0] == sender and len(path[1]) == 1:
        return path[1][0]
    return None


_TAGS = {n.Call: "call", n.Interp: "text", n.Cond: "choice", n.Merge: "merged", n.ListLit: "list",
         n.MapLit: "record", n.Neg: "neg", n.Not: "check", n.BoolOp: "check"}


def slot_name(e: n.Expr, scan: Scan) -> str:
    """A slot name from what it carries: the first value it reads, and what is done to it."""
    base = ""
    for x in n.walk(e):  # the first field it reads names it; else the first variable
        path = instance_path(x, scan.instances)
        if path is not None and path[1]:
            steps = [str(s) for s in path[1]]
            if steps[0] == "custom" and len(steps) > 1:
                steps = steps[1:]
            base = "_".join(steps)
            break
    if not base:
        base = next((x.id for x in n.walk(e) if isinstance(x, n.Name) and id(x) in scan.uses
                     and scan.uses[id(x)].kind != "param"), "value")
    base = re.sub(r"[^a-z0-9]+", "_", base.lower()).strip("_") or "value"
    if instance_path(e, scan.instances) is not None or isinstance(e, n.Name):
        return base
    return f"{base}_{_tag(e)}"


def _tag(e: n.Expr) -> str:
    if isinstance(e, n.Coalesce):
        return "mapped" if _tag(e.left) == "mapped" else "or_default"
    if isinstance(e, n.Cond) and isinstance(e.then, n.Literal) and e.then.value is True:
        return "check"
    if isinstance(e, n.MethodCall) and e.method == "map" and isinstance(e.args[0], n.Lambda) \
            and _tag(e.args[0].body) == "mapped":
        return "mapped"
    if isinstance(e, n.Index):
        return "mapped" if isinstance(e.obj, n.MapLit) else "item"
    if isinstance(e, n.MethodCall):
        return e.method
    if isinstance(e, n.Call):
        return e.func
    if isinstance(e, n.Attr):
        return e.name
    if isinstance(e, n.BinOp):
        return "calc" if e.op in ("+", "-", "*", "/", "%") else "check"
    return _TAGS.get(type(e), "value")
