"""The checker's rules for calls (built-ins, methods, arities, lambda arguments) and for map literals' shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import model
from . import nodes as n
from ._check_types import (
    ANY,
    BOOL,
    NUMBER,
    RECORD_LABEL,
    RECORDS,
    TEXT,
    Ty,
    describe,
    field_suggestion,
    list_of,
    record,
)
from .errors import did_you_mean

if TYPE_CHECKING:
    from ._check_visit import Checker

__all__ = ["call", "method", "shape"]

COLLECTION_METHODS = frozenset({"filter", "map", "any", "all", "first", "sort_by", "unique"})
TEXT_METHODS = frozenset({"lower", "upper", "trim", "replace", "starts_with", "ends_with", "split", "matches"})
_BUILTIN_TYPES = {"len": NUMBER, "int": NUMBER, "float": NUMBER, "user": record("user")}


def _arity(name: str, sig: model.Signature, got: int) -> str | None:
    if sig.min_args <= got <= sig.max_args:
        return None
    if sig.min_args == sig.max_args:
        want = f"{sig.min_args} argument" + ("" if sig.min_args == 1 else "s")
    else:
        want = f"{sig.min_args} or {sig.max_args} arguments"
    return f"{name}() takes {want}, {got} given"


def call(c: Checker, e: n.Call) -> Ty:
    """A built-in function call: `len(x)`, `user(email)`."""
    sig = model.BUILTINS.get(e.func)
    for arg in e.args:
        if isinstance(arg, n.Lambda):
            c.report("R109", "a lambda is allowed only as the argument of a collection method", arg.span,
                     hint=f"{e.func}() takes values" if sig else None)
            c.lambda_(arg, ANY)
        else:
            c.expr(arg)
    if sig is None:
        guess = did_you_mean(e.func, model.BUILTINS)
        hint = None
        if e.func in model.METHODS:
            hint = f"'{e.func}' is a method: write value.{e.func}(…)"
        elif not guess:
            hint = "the functions are " + ", ".join(sorted(model.BUILTINS))
        c.report("R105", f"unknown function '{e.func}'" + (f" (did you mean '{guess}'?)" if guess else ""),
                 e.func_span, hint=hint)
        return ANY
    wrong = _arity(e.func, sig, len(e.args))
    if wrong:
        c.report("R107", wrong, e.span)
    return _BUILTIN_TYPES.get(e.func, TEXT)


def method(c: Checker, e: n.MethodCall) -> Ty:
    """A method call: `xs.filter(x -> …)`, `text.lower()`."""
    obj = c.expr(e.obj)
    sig = model.METHODS.get(e.method)
    if sig is None:
        guess = did_you_mean(e.method, model.METHODS)
        hint = f"'{e.method}' is a function: write {e.method}(value)" if e.method in model.BUILTINS else None
        c.report("R106", f"unknown method '{e.method}'" + (f" (did you mean '{guess}'?)" if guess else ""),
                 e.method_span, hint=hint)
        for arg in e.args:
            if isinstance(arg, n.Lambda):
                c.lambda_(arg, ANY)
            else:
                c.expr(arg)
        return ANY
    wrong = _arity(e.method, sig, len(e.args))
    if wrong:
        c.report("R107", wrong, e.span)
    misapplied = _receiver(c, e, obj)
    elem = (obj.elem or ANY) if obj.kind == "list" else ANY
    body = ANY
    for i, arg in enumerate(e.args):
        if sig.lambda_arg and i == 0:
            if isinstance(arg, n.Lambda):
                body = c.lambda_(arg, elem)
            else:
                c.report("R108", f"{e.method}() needs a lambda, like {e.method}(x -> …)", arg.span)
                c.expr(arg)
        elif isinstance(arg, n.Lambda):
            c.report("R108", f"{e.method}() takes a value, not a lambda", arg.span)
            c.lambda_(arg, ANY)
        else:
            c.expr(arg)
    return ANY if misapplied else _result(e.method, obj, elem, body)


def _receiver(c: Checker, e: n.MethodCall, obj: Ty) -> bool:
    """A collection method on text, or a text method on a list, is certainly wrong: say so (True)."""
    if e.method in COLLECTION_METHODS and obj.kind in ("text", "number", "bool", "record"):
        c.report("R207", f"{e.method}() works on lists, not on {describe(obj)}", e.method_span)
        return True
    if e.method in TEXT_METHODS and obj.kind in ("list", "number", "bool", "record"):
        hint = f"to apply it to each item: .map(x -> x.{e.method}(…))" if obj.kind == "list" else None
        c.report("R207", f"{e.method}() works on text, not on {describe(obj)}", e.method_span, hint=hint)
        return True
    return False


def _result(name: str, obj: Ty, elem: Ty, body: Ty) -> Ty:
    if name in ("filter", "sort_by", "unique"):
        return obj if obj.kind == "list" else list_of(ANY)
    if name == "map":
        return list_of(body)
    if name == "first":
        return elem
    if name in ("any", "all", "contains", "starts_with", "ends_with", "matches"):
        return BOOL
    if name == "split":
        return list_of(TEXT)
    return TEXT  # lower, upper, trim, replace


def shape(c: Checker, value: n.Expr, target: Ty) -> None:
    """Check the keys of map literals written where a record (user, comment, …) is expected."""
    if isinstance(value, n.Cond):
        shape(c, value.then, target)
        shape(c, value.other, target)
    elif isinstance(value, n.Coalesce):
        shape(c, value.left, target)
        shape(c, value.right, target)
    elif target.kind == "record" and isinstance(value, n.MapLit):
        fields = RECORDS[target.name]
        for entry in value.entries:
            if entry.key in fields:
                shape(c, entry.value, fields[entry.key])
            else:
                guess = field_suggestion(entry.key, fields)
                c.report("R102", f"unknown field '{entry.key}' on {RECORD_LABEL[target.name]}"
                 + (f" (did you mean '{guess}'?)" if guess else ""), entry.key_span)
    elif target.kind == "list" and target.elem is not None and target.elem.kind == "record":
        if isinstance(value, n.ListLit):
            for item in value.items:
                shape(c, item, target.elem)
        elif isinstance(value, n.MethodCall) and value.method == "map" and value.args \
                and isinstance(value.args[0], n.Lambda):
            shape(c, value.args[0].body, target.elem)


