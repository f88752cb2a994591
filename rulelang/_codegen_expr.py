"""Expression code generation: rulelang expression nodes → Python `ast` expressions stamped with rule positions."""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field

from . import abi
from . import nodes as n
from .errors import CheckError, Diagnostic, InternalError
from .span import Span

__all__ = ["ExprGen", "Var", "at", "call", "name", "LOAD", "INT_MIN", "INT_MAX"]

INT_MIN, INT_MAX = -(2**63), 2**63 - 1

# Roots that are always maps at run time (the runner guarantees it), so a field read needs no null guard.
_ALWAYS_MAPS = {"outgoing": {"issue", "replica", "connection"}, "incoming": {"issue", "replica", "connection"}}
_CMP = {"==": "rt_eq", "!=": "rt_ne", "<": "rt_lt", "<=": "rt_le", ">": "rt_gt", ">=": "rt_ge"}
_ARITH = {"+": "rt_add", "-": "rt_sub", "*": "rt_mul", "/": "rt_div", "%": "rt_mod"}


def at(node: ast.AST, span: Span) -> ast.AST:
    """Stamp a node with a rule span (columns count characters); children without a position of their own
    inherit their parent's during verification (one pass, so generation stays linear)."""
    if getattr(node, "lineno", None) is None and "lineno" in node._attributes:
        line, col, end_line, end_col = span.line, span.col - 1, span.end_line, span.end_col - 1
        if end_line < line or (end_line == line and end_col < col):
            end_line, end_col = line, col
        node.lineno, node.col_offset, node.end_lineno, node.end_col_offset = line, col, end_line, end_col
    return node


_LOAD, _STORE = ast.Load(), ast.Store()  # shared, as CPython's own parser does
LOAD = _LOAD


def name(py: str, store: bool = False) -> ast.Name:
    return ast.Name(py, _STORE if store else _LOAD)


def call(func: str, *args: ast.expr) -> ast.Call:
    return ast.Call(name(func), list(args), [])


def const(v: object) -> ast.Constant:
    return ast.Constant(v)


@dataclass
class Var:
    """A rulelang variable: its Python name and the loop level (0 = main function) that declared it."""

    py: str
    level: int


@dataclass
class LoopFrame:
    """A `for` body being generated: the outer variables it assigns travel in and out as `carried`."""

    level: int
    carried: dict[str, None] = field(default_factory=dict)


class ExprGen:
    """Expression half of the code generator; the statement half (codegen.Codegen) subclasses it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.scopes: list[dict[str, Var]] = [{}]
        self.used: set[str] = set()
        self.counter = 0
        self.hoisted: list[ast.stmt] = []
        self.loops: list[LoopFrame] = []
        self.comprehensions: list[ast.ListComp] = []
        self.roots_read: set[str] = set()  # the roots the expressions generated since the last clear() read
        self.writable_py: str | None = None  # the output root's Python name (set by codegen.Codegen)
        self.root_escapes = False  # the output root was used as a value, not only to read a field of it

    # ---- names

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}_{self.counter}"

    def allocate(self, user_name: str) -> str:
        """A Python name for a rulelang variable: `v_name`, or `v_name_2`… when taken (block scoping)."""
        base = f"v_{user_name}"
        if base.endswith("__roles__"):  # RestrictedPython reserves that suffix
            base += "_"
        py, i = base, 1
        while py in self.used:
            i += 1
            py = f"{base}_{i}"
        self.used.add(py)
        return py

    def lookup(self, user_name: str) -> Var | None:
        for scope in reversed(self.scopes):
            if user_name in scope:
                return scope[user_name]
        return None

    def root_py(self, root: str) -> str | None:
        if root in ("issue", "replica", "previous", "first_sync", "connection") and \
                f"r_{root}" in abi.ENTRY_PARAMS[self.kind]:
            return f"r_{root}"
        return None

    # ---- expressions

    def expr(self, e: n.Expr, test: bool = False) -> ast.expr:
        """Python for one expression; `test` means only its truth value is used (an `if`, `not`, `and`)."""
        method = getattr(self, f"_{type(e).__name__}", None)
        if method is None:
            raise InternalError(f"code generation has no rule for {type(e).__name__} (please report)", e.span,
                                code="I900")
        return at(method(e, test), e.span)

    def _Literal(self, e: n.Literal, test: bool) -> ast.expr:
        v = e.value
        if type(v) is int and not INT_MIN <= v <= INT_MAX:
            raise CheckError(Diagnostic("X402", f"integer {v} is out of range (integers are 64-bit)", e.span))
        if type(v) is float and not math.isfinite(v):
            raise CheckError(Diagnostic("X402", "number out of range", e.span))
        return const(v)

    def _Interp(self, e: n.Interp, test: bool) -> ast.expr:
        parts = [const(p) if isinstance(p, str) else self.expr(p) for p in e.parts]
        if len(parts) > 255:
            raise CheckError(Diagnostic("X407", "too many ${…} parts in one text (at most 255)", e.span))
        return call("rt_text", name("rt"), *parts)

    def _Name(self, e: n.Name, test: bool) -> ast.expr:
        var = self.lookup(e.id)
        if var is not None:
            return name(var.py)
        py = self.root_py(e.id)
        if py is None:
            raise CheckError(Diagnostic("R101", f"unknown name '{e.id}'", e.span))
        self.roots_read.add(py)
        if py == self.writable_py:  # the output root as a value (`let r = replica`): it may be read later
            self.root_escapes = True
        return name(py)

    def field_read(self, obj: n.Expr, key: str, span: Span) -> ast.expr:
        """`obj.key`: C-level dict.get, with null → the empty map so that a field of null is null."""
        if isinstance(obj, n.Name) and self.lookup(obj.id) is None and obj.id in _ALWAYS_MAPS[self.kind]:
            py = self.root_py(obj.id)
            if py is not None:  # a field of a root: the root itself goes nowhere (see _Name)
                self.roots_read.add(py)
                return call("rt_dget", at(name(py), obj.span), const(key))
        target = self.expr(obj)
        return call("rt_dget", at(self.null_to_empty(target), span), const(key))

    def null_to_empty(self, target: ast.expr) -> ast.expr:
        if isinstance(target, ast.Name):
            test = ast.Compare(target, [ast.IsNot()], [const(None)])
            return ast.IfExp(test, name(target.id), name("rt_E"))
        tmp = self.fresh("t")
        test = ast.Compare(ast.NamedExpr(name(tmp, store=True), target), [ast.IsNot()], [const(None)])
        return ast.IfExp(test, name(tmp), name("rt_E"))

    def _Attr(self, e: n.Attr, test: bool) -> ast.expr:
        return self.field_read(e.obj, e.name, e.span)

    def _Index(self, e: n.Index, test: bool) -> ast.expr:
        idx = e.index
        if isinstance(idx, n.Literal) and type(idx.value) is str and not isinstance(e.obj, n.MapLit):
            return self.field_read(e.obj, idx.value, e.span)
        return call("rt_index", self.hoist_map(e.obj) if isinstance(e.obj, n.MapLit) else self.expr(e.obj),
                    self.expr(idx))

    def hoist_map(self, m: n.MapLit) -> ast.expr:
        """A literal map that is only indexed (`{"a": "b"}[x]`) is built once per run, not per evaluation."""
        if not all(isinstance(ent.value, n.Literal) for ent in m.entries):
            return self.expr(m)
        py = self.fresh("k")
        self.hoisted.append(at(ast.Assign([name(py, store=True)], self.expr(m)), m.span))
        return name(py)

    def _Call(self, e: n.Call, test: bool) -> ast.expr:
        py = abi.BUILTIN_FUNCTIONS.get(e.func)
        if py is None:
            raise CheckError(Diagnostic("R105", f"unknown function '{e.func}'", e.func_span))
        self.check_arity(py, len(e.args) + 1, e.span)
        return call(py, name("rt"), *(self.expr(a) for a in e.args))

    def _MethodCall(self, e: n.MethodCall, test: bool) -> ast.expr:
        py = abi.METHOD_FUNCTIONS.get(e.method)
        if py is None:
            raise CheckError(Diagnostic("R106", f"unknown method '{e.method}'", e.method_span))
        self.check_arity(py, len(e.args) + 2, e.span)
        if e.method in ("map", "filter") and isinstance(e.args[0], n.Lambda):
            return self.comprehension(e, e.args[0])
        truthy = e.method in ("filter", "any", "all", "first")
        receiver = self.expr(e.obj)
        args = [self.lambda_(a, truthy) if isinstance(a, n.Lambda) else self.expr(a) for a in e.args]
        return call(py, name("rt"), receiver, *args)

    def comprehension(self, e: n.MethodCall, lam: n.Lambda) -> ast.expr:
        """`xs.map(c -> E)` → `[E for v_c in t] if (t := rt_iter(rt, xs, 'map')) is not None else None` (always
        the list: the test only binds t, since a comprehension's iterable may not hold an assignment) and
        `xs.filter(c -> P)` → `rt_kept(rt, t := rt_iter(rt, xs, 'filter'), [v_c for v_c in t if P])`: the
        lambda's body runs inline, with rt_m_map's and rt_m_filter's budgets (rt_iter charges the steps)."""
        receiver = self.expr(e.obj)
        looped = self.fresh("t")
        source = ast.NamedExpr(name(looped, store=True), at(call("rt_iter", name("rt"), receiver, const(e.method)),
                                                            e.span))
        py = self.lambda_param(lam.param)
        self.scopes.append({lam.param: Var(py, len(self.loops))})
        try:
            body = self.expr(lam.body, e.method == "filter")
        finally:
            self.scopes.pop()
        loop = ast.comprehension(name(py, store=True), name(looped), [body] if e.method == "filter" else [], 0)
        comp = at(ast.ListComp(name(py) if e.method == "filter" else body, [loop]), e.span)
        self.comprehensions.append(comp)
        if e.method == "filter":
            return call("rt_kept", name("rt"), source, comp)
        return ast.IfExp(ast.Compare(source, [ast.IsNot()], [const(None)]), comp, const(None))

    def lambda_param(self, param: str) -> str:
        py = f"v_{param}"  # a lambda (or comprehension) is its own Python scope: its parameter may shadow freely
        return py + "_" if py.endswith("__roles__") else py

    def check_arity(self, py: str, count: int, span: Span) -> None:
        f = abi.FUNCTIONS[py]
        if not f.min_args <= count <= f.max_args:
            raise CheckError(Diagnostic("R107", "wrong number of arguments", span))

    def lambda_(self, e: n.Lambda, test: bool) -> ast.expr:
        py = self.lambda_param(e.param)
        self.scopes.append({e.param: Var(py, len(self.loops))})
        try:
            body = self.expr(e.body, test)
        finally:
            self.scopes.pop()
        args = ast.arguments(posonlyargs=[], args=[ast.arg(py)], kwonlyargs=[], kw_defaults=[], defaults=[])
        return at(ast.Lambda(args, body), e.span)

    def _Lambda(self, e: n.Lambda, test: bool) -> ast.expr:
        raise CheckError(Diagnostic("R109", "a lambda is only allowed as a method argument", e.span))

    def _ListLit(self, e: n.ListLit, test: bool) -> ast.expr:
        return ast.List([self.expr(x) for x in e.items], _LOAD)

    def _MapLit(self, e: n.MapLit, test: bool) -> ast.expr:
        return ast.Dict([at(const(ent.key), ent.key_span) for ent in e.entries],
                        [self.expr(ent.value) for ent in e.entries])

    def _BinOp(self, e: n.BinOp, test: bool) -> ast.expr:
        op, left, right = e.op, e.left, e.right
        if op in ("==", "!="):
            fast = self.fast_equality(left, right, op) or self.fast_equality(right, left, op)
            if fast is not None:
                return fast
        if op in ("in", "not in"):
            if isinstance(right, n.ListLit) and right.items and \
                    all(isinstance(x, n.Literal) and type(x.value) is str for x in right.items):
                # text items only: Python's `in` on a tuple of texts is exact (no true == 1 surprise)
                items = ast.Tuple([const(x.value) for x in right.items], _LOAD)
                return ast.Compare(self.expr(left), [ast.In() if op == "in" else ast.NotIn()], [items])
            found = call("rt_in", name("rt"), self.expr(left), self.expr(right))
            return found if op == "in" else ast.UnaryOp(ast.Not(), found)
        func = _CMP.get(op) or _ARITH.get(op)
        if func is None:
            raise InternalError(f"code generation: unknown operator {op!r} (please report)", e.span, code="I900")
        return call(func, name("rt"), self.expr(left), self.expr(right))

    def fast_equality(self, value: n.Expr, lit: n.Expr, op: str) -> ast.expr | None:
        """`x == "text"`, `x == null`, `x == true`: plain Python comparisons with the same meaning."""
        if not isinstance(lit, n.Literal):
            return None
        v = lit.value
        if type(v) is str:
            return ast.Compare(self.expr(value), [ast.Eq() if op == "==" else ast.NotEq()], [const(v)])
        if v is None or type(v) is bool:
            return ast.Compare(self.expr(value), [ast.Is() if op == "==" else ast.IsNot()], [const(v)])
        return None

    def _BoolOp(self, e: n.BoolOp, test: bool) -> ast.expr:
        both = ast.BoolOp(ast.And() if e.op == "and" else ast.Or(),
                          [self.expr(e.left, True), self.expr(e.right, True)])
        return both if test else ast.IfExp(both, const(True), const(False))

    def _Not(self, e: n.Not, test: bool) -> ast.expr:
        return ast.UnaryOp(ast.Not(), self.expr(e.operand, True))

    def _Neg(self, e: n.Neg, test: bool) -> ast.expr:
        return call("rt_neg", name("rt"), self.expr(e.operand))

    def _Coalesce(self, e: n.Coalesce, test: bool) -> ast.expr:
        left = self.expr(e.left)
        other = self.expr(e.right, test)
        if isinstance(left, ast.Name):
            return ast.IfExp(ast.Compare(left, [ast.IsNot()], [const(None)]), name(left.id), other)
        if isinstance(left, ast.Constant):
            return left if left.value is not None else other
        tmp = self.fresh("t")
        check = ast.Compare(ast.NamedExpr(name(tmp, store=True), left), [ast.IsNot()], [const(None)])
        return ast.IfExp(check, name(tmp), other)

    def _Merge(self, e: n.Merge, test: bool) -> ast.expr:
        return call("rt_merge", name("rt"), self.expr(e.left), self.expr(e.right))

    def _Cond(self, e: n.Cond, test: bool) -> ast.expr:
        return ast.IfExp(self.expr(e.cond, True), self.expr(e.then, test), self.expr(e.other, test))
