"""A reference interpreter for tests: runs a connection script directly, with both issues in view, and side programs."""

# Deliberately naive (a tree walk, no slots, no splitting): what a connection script means for one sync
# direction, written down once, so the splitter's output can be checked against it. Primitive operations
# (`+`, `==`, methods, built-ins) are the runtime's own functions, so the two can only differ in what the
# splitter is responsible for: which statements run, where, and in what order.

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rulelang import model
from rulelang import nodes as n
from rulelang._split_scan import instance_path
from rulelang.format import format_expr
from rulelang.span import Span
from runtime import functions as F
from runtime.apply import finish_incoming
from runtime.budget import DEFAULT_LIMITS, FailSignal, Limits, SkipSignal, State, Trap
from runtime.lookups import StaticLookups
from runtime.methods import METHODS_AND_BUILTINS as MB
from runtime.values import to_text

__all__ = ["Outcome", "run_direction", "run_outgoing", "run_incoming", "NOW", "LIMITS"]

NOW = "2025-03-04T05:06:07Z"
# The budgets of a reference run: the runtime's sizes, but time and steps to spare (a tree walk is slow).
LIMITS = Limits(wall_time=10.0, max_steps=10_000_000)
_LIST_FIELDS = frozenset(f for f, k in model.ISSUE_FIELDS.items() if k in ("texts", "items", "links"))


@dataclass
class Outcome:
    """How one run ended: "done", "skipped", "failed" (a `fail`) or "error" (a run-time error, with its code)."""

    status: str
    result: dict | None = None  # the replica (outgoing) or the target issue after the run (incoming/connection)
    message: str | None = None
    log: list[str] = field(default_factory=list)
    changes: dict | None = None  # incoming/connection: the change set, as JSON

    def key(self) -> tuple:
        done = self.status == "done"
        # A failed run reports its message, not its log (the runtime raises RuleFailed without one).
        log = self.log if self.status in ("done", "skipped") else None
        return (self.status, self.result if done else None, self.changes if done else None, self.message, log)


class _Error(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class _Env:
    """Block-scoped variables: a stack of dicts."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = [{}]

    def find(self, name: str) -> dict | None:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope
        return None


class _Interp:
    def __init__(self, roots: dict[str, Any], instances: dict[str, dict], writable: str,
                 lookups: Any, sender: str | None = None, target: str | None = None) -> None:
        self.rt = State(LIMITS, lookups, ())
        self.rt.now_text = NOW
        self.roots = roots  # side programs: issue, replica, previous, first_sync, connection
        self.instances = instances  # connection scripts: instance name → its issue
        self.writable = writable  # the root name (or instance) that statements write
        self.sender, self.target = sender, target
        self.env = _Env()
        self.log: list[str] = []

    # ---- statements

    def block(self, stmts: Sequence[n.Stmt]) -> None:
        self.env.scopes.append({})
        try:
            for st in stmts:
                self.stmt(st)
        finally:
            self.env.scopes.pop()

    def stmt(self, st: n.Stmt) -> None:  # noqa: C901
        if isinstance(st, n.Let):
            value = self.expr(st.value)
            self.env.scopes[-1][st.name] = value
        elif isinstance(st, n.Assign):
            self.assign(st)
        elif isinstance(st, n.If):
            for cond, block in st.branches:
                if self.expr(cond):
                    self.block(block.stmts)
                    return
            if st.orelse is not None:
                self.block(st.orelse.stmts)
        elif isinstance(st, n.For):
            it = self.expr(st.iterable)
            if it is None:
                return
            if type(it) is dict:
                items = list(it)
            elif type(it) is list:
                items = list(it)
            else:
                raise _Error("X409")
            for x in items:
                self.env.scopes.append({st.var: x})
                try:
                    self.block(st.body.stmts)
                finally:
                    self.env.scopes.pop()
        elif isinstance(st, n.Skip):
            raise SkipSignal(None if st.reason is None else to_text(self.rt, self.expr(st.reason)), 0)
        elif isinstance(st, n.Fail):
            raise FailSignal(to_text(self.rt, self.expr(st.message)), 0)
        elif isinstance(st, n.Log):
            self.log.append(to_text(self.rt, self.expr(st.value)))
        elif isinstance(st, n.ValueMap):
            self.value_map(st)

    def assign(self, st: n.Assign) -> None:
        t = st.target
        if isinstance(t, n.Name) and self.env.find(t.id) is not None:
            scope = self.env.find(t.id)
            assert scope is not None
            scope[t.id] = self._combine(st.op, scope[t.id], self.expr(st.value), False)
            return
        root, path = self.target_path(t)
        if root is None:
            return  # a connection-script statement for the other direction
        value = self.expr(st.value)
        if st.op != "=":
            as_list = len(path) == 1 and path[0] in _LIST_FIELDS
            value = self._combine(st.op, self.expr(t), value, as_list)
        if len(path) == 1 and type(path[0]) is str:
            F.rt_set(self.rt, root, path[0], value, 0)
        else:
            F.rt_put(self.rt, root, tuple(path), value, 0)

    def _combine(self, op: str, cur: Any, value: Any, as_list: bool) -> Any:
        if op == "=":
            return value
        return (F.rt_iadd if op == "+=" else F.rt_isub)(self.rt, cur, value, as_list)

    def target_path(self, t: n.Expr) -> tuple[dict | None, list]:
        links: list = []
        node = t
        while isinstance(node, n.Attr | n.Index):
            links.append(node)
            node = node.obj
        assert isinstance(node, n.Name)
        if self.instances and node.id != self.target:
            return None, []  # a connection-script statement for the other direction
        path = [x.name if isinstance(x, n.Attr) else self.expr(x.index) for x in reversed(links)]
        if self.instances:  # connection script: `X.issue.path`
            return self.instances[node.id], path[1:]
        assert node.id == self.writable
        return self.roots[node.id], path

    def value_map(self, st: n.ValueMap) -> None:
        """A value map, one direction: the semantics docs/connection-scripts.md states."""
        left = instance_path(st.left, tuple(self.instances))
        right = instance_path(st.right, tuple(self.instances))
        if left[0] == self.target:
            pairs = [(r.right.value, r.left.value) for r in st.entries if r.arrow in ("<->", "<-")]
            target, source, steps = st.left, st.right, right[1]
        else:
            pairs = [(r.left.value, r.right.value) for r in st.entries if r.arrow in ("<->", "->")]
            target, source, steps = st.right, st.left, left[1]
        if not pairs:
            return
        table: dict[str, Any] = {}
        for a, b in pairs:
            table.setdefault(a, b)
        value = self.expr(source)
        listy = len(steps) == 1 and steps[0] in model.LIST_OF_TEXT
        mode = st.otherwise
        fail = (f"no mapping for {format_expr(source)} '{{}}' to {self.target} "
                f"(value map on line {st.span.line})")
        if listy:
            items = value if type(value) is list else [] if value is None else None
            if items is None:
                raise _Error("X405")
            if mode == "error":
                for x in items:
                    if not (type(x) is str and x in table):
                        raise FailSignal(fail.format(to_text(self.rt, x)), 0)
            out = []
            for x in items:
                got = F.rt_index(table, x)
                out.append(got if got is not None or mode == "error" else x if mode == "keep"
                           else st.default.value)  # type: ignore[union-attr]
            self._set(target, out)
            return
        if mode == "error":
            if not (type(value) is str and value in table):
                raise FailSignal(fail.format(to_text(self.rt, value)), 0)
            self._set(target, table[value])
            return
        got = F.rt_index(table, value)
        if got is not None:
            self._set(target, got)
        elif mode == "default":
            self._set(target, st.default.value)  # type: ignore[union-attr]

    def _set(self, target: n.Expr, value: Any) -> None:
        root, path = self.target_path(target)
        assert root is not None
        if len(path) == 1:
            F.rt_set(self.rt, root, path[0], value, 0)
        else:
            F.rt_put(self.rt, root, tuple(path), value, 0)

    # ---- expressions

    def expr(self, e: n.Expr) -> Any:  # noqa: C901 - one case per node type
        if isinstance(e, n.Literal):
            return e.value
        if isinstance(e, n.Interp):
            return F.rt_text(self.rt, *[p if isinstance(p, str) else self.expr(p) for p in e.parts])
        if isinstance(e, n.Name):
            scope = self.env.find(e.id)
            if scope is not None:
                return scope[e.id]
            if e.id in self.roots:
                return self.roots[e.id]
            raise _Error("R101")
        if isinstance(e, n.Attr):
            if self.instances and e.name == "issue" and isinstance(e.obj, n.Name) \
                    and self.env.find(e.obj.id) is None and e.obj.id in self.instances:
                return self.instances[e.obj.id]
            return self.field(self.expr(e.obj), e.name)
        if isinstance(e, n.Index):
            obj = self.expr(e.obj)
            idx = self.expr(e.index)
            if type(idx) is str and not isinstance(e.obj, n.MapLit):
                return self.field(obj, idx)
            return F.rt_index(obj, idx)
        if isinstance(e, n.Call):
            return MB[f"rt_b_{e.func}"](self.rt, *[self.expr(a) for a in e.args])
        if isinstance(e, n.MethodCall):
            obj = self.expr(e.obj)
            args = [self.lam(a) if isinstance(a, n.Lambda) else self.expr(a) for a in e.args]
            return MB[f"rt_m_{e.method}"](self.rt, obj, *args)
        if isinstance(e, n.ListLit):
            return [self.expr(x) for x in e.items]
        if isinstance(e, n.MapLit):
            return {m.key: self.expr(m.value) for m in e.entries}
        if isinstance(e, n.BinOp):
            return self.binop(e)
        if isinstance(e, n.BoolOp):
            left = bool(self.expr(e.left))
            if e.op == "and":
                return left and bool(self.expr(e.right))
            return left or bool(self.expr(e.right))
        if isinstance(e, n.Not):
            return not self.expr(e.operand)
        if isinstance(e, n.Neg):
            return F.rt_neg(self.rt, self.expr(e.operand))
        if isinstance(e, n.Coalesce):
            left = self.expr(e.left)
            return left if left is not None else self.expr(e.right)
        if isinstance(e, n.Merge):
            return F.rt_merge(self.rt, self.expr(e.left), self.expr(e.right))
        if isinstance(e, n.Cond):
            return self.expr(e.then) if self.expr(e.cond) else self.expr(e.other)
        raise AssertionError(f"no rule for {type(e).__name__}")

    def field(self, obj: Any, key: str) -> Any:
        if obj is None:
            return None
        if type(obj) is not dict:
            raise _Error("X401")
        return obj.get(key)

    def lam(self, e: n.Lambda) -> Callable[[Any], Any]:
        def call(x: Any) -> Any:
            self.env.scopes.append({e.param: x})
            try:
                return self.expr(e.body)
            finally:
                self.env.scopes.pop()
        return call

    def binop(self, e: n.BinOp) -> Any:
        a, b = self.expr(e.left), self.expr(e.right)
        op = e.op
        ops: dict[str, Callable] = {"+": F.CORE["rt_add"], "-": F.CORE["rt_sub"], "*": F.CORE["rt_mul"],
                                    "/": F.CORE["rt_div"], "%": F.CORE["rt_mod"], "==": F.rt_eq, "!=": F.rt_ne,
                                    "<": F.rt_lt, "<=": F.rt_le, ">": F.rt_gt, ">=": F.rt_ge}
        if op == "in":
            return F.rt_in(self.rt, a, b)
        if op == "not in":
            return not F.rt_in(self.rt, a, b)
        return ops[op](self.rt, a, b)


def _run(interp: _Interp, stmts: Sequence[n.Stmt], finish: Callable[[], tuple[dict, dict | None]]) -> Outcome:
    try:
        interp.block(stmts)
        result, changes = finish()
    except SkipSignal as s:
        return Outcome("skipped", None, s.reason, interp.log)
    except FailSignal as f:
        return Outcome("failed", None, f.message, interp.log)
    except Trap as t:
        return Outcome("error", None, t.code, interp.log)
    except _Error as x:
        return Outcome("error", None, x.code, interp.log)
    return Outcome("done", copy.deepcopy(result), None, interp.log, changes)


def _incoming_result(interp: _Interp, out: dict, local: dict | None, id_maps: dict | None
                     ) -> tuple[dict, dict | None]:
    """The runtime's own last step (entity lists merged by identity, the change set), on the fields written."""
    spans = {path: Span("<reference>", 1, 1, 1, 2) for path in interp.rt.explain}
    result, changes = finish_incoming(out, local, spans, id_maps or {}, DEFAULT_LIMITS)
    return result, changes.to_json()


def run_direction(script: n.Program, sender: str, target: str, source_issue: dict,
                  target_issue: dict | None, lookups: Any = None, id_maps: dict | None = None) -> Outcome:
    """One sync direction of a connection script, both issues in view: the target's issue after the run."""
    issues = {sender: copy.deepcopy(source_issue), target: dict(target_issue or {})}
    interp = _Interp({}, issues, target, lookups or StaticLookups(), sender, target)
    return _run(interp, script.stmts, lambda: _incoming_result(interp, issues[target], target_issue, id_maps))


def run_outgoing(program: n.Program, issue: dict) -> Outcome:
    """An outgoing program: the replica it builds."""
    replica: dict = {}
    interp = _Interp({"issue": copy.deepcopy(issue), "replica": replica, "connection": {}}, {}, "replica",
                     StaticLookups())
    return _run(interp, program.stmts, lambda: (replica, None))


def run_incoming(program: n.Program, replica: dict, issue: dict | None, lookups: Any = None,
                 id_maps: dict | None = None) -> Outcome:
    """An incoming program: the local issue after it ran, and the change set."""
    local = dict(issue or {})
    roots = {"issue": local, "replica": copy.deepcopy(replica), "previous": None, "first_sync": issue is None,
             "connection": {}}
    interp = _Interp(roots, {}, "issue", lookups or StaticLookups())
    return _run(interp, program.stmts, lambda: _incoming_result(interp, local, issue, id_maps))
