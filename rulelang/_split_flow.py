"""Where each part of a connection script runs for one sync direction (sender S → target T): a fixed point over
variable locations, `if`/`for` deciders and the side that executes each `skip`, `fail` and `log`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import nodes as n
from ._split_scan import Binding, Scan, instance_path

__all__ = ["Flow", "N", "S", "T", "TARGET_FUNCTIONS", "analyse"]

# Locations, ordered: a value that needs T (even partly) is computed on T.
N, S, T = 0, 1, 2
# Built-ins that look things up on the instance that runs them: in a connection script they belong to
# the target side (`user(Green.issue.assignee.email)` finds a Blue user when Blue is the target).
TARGET_FUNCTIONS = frozenset({"user", "twin"})


@dataclass
class Flow:
    """The analysis of one direction. Keys are `id(node)` of script nodes."""

    scan: Scan
    sender: str
    target: str
    loc: dict[int, int] = field(default_factory=dict)  # id(Binding) → N/S/T
    # id(Expr) → (the expression, {S, T}). The expression is held: the generator also asks about expressions
    # it makes and may drop, and a dropped one's id must not answer for a later expression.
    reads_of: dict[int, tuple[n.Expr, frozenset[int]]] = field(default_factory=dict)
    decider: dict[int, int] = field(default_factory=dict)  # id(If) → who evaluates the conditions
    runner: dict[int, int] = field(default_factory=dict)  # id(For) → who runs the loop
    t_work: set[int] = field(default_factory=set)  # ids of If/For that hold work for the target
    placed: dict[int, int] = field(default_factory=dict)  # id(Skip/Fail/Log/ValueMap) → S or T (stop side)

    def binding_loc(self, b: Binding) -> int:
        return self.loc.get(id(b), N)

    def reads(self, e: n.Expr) -> frozenset[int]:
        got = self.reads_of.get(id(e))
        if got is None:
            got = self.reads_of[id(e)] = (e, self._reads(e))
        return got[1]

    def side(self, e: n.Expr) -> int:
        r = self.reads(e)
        return T if T in r else S if S in r else N

    def _reads(self, e: n.Expr) -> frozenset[int]:
        if isinstance(e, n.Attr) and e.name == "issue" and isinstance(e.obj, n.Name) \
                and id(e.obj) not in self.scan.uses:
            if e.obj.id == self.sender:
                return frozenset({S})
            if e.obj.id == self.target:
                return frozenset({T})
        if isinstance(e, n.Name):
            b = self.scan.uses.get(id(e))
            loc = self.binding_loc(b) if b is not None else N
            return frozenset() if loc == N else frozenset({loc})
        out: set[int] = set()
        if isinstance(e, n.Interp):
            for p in e.parts:
                if isinstance(p, n.Expr):
                    out |= self.reads(p)
            return frozenset(out)
        for child in n.children(e):
            if isinstance(child, n.MapEntry):
                out |= self.reads(child.value)
            elif isinstance(child, n.Expr):
                out |= self.reads(child)
        if isinstance(e, n.Call) and e.func in TARGET_FUNCTIONS:
            out.add(T)
        if isinstance(e, n.MethodCall):
            # A lambda runs where its method call runs: its parameter lives on that side.
            where = T if T in out else S if S in out else N
            for arg in e.args:
                if isinstance(arg, n.Lambda):
                    b = self.scan.defines[id(arg)]
                    self._raise(b, where)
        return frozenset(out)

    # ---- the fixed point

    def _raise(self, b: Binding, to: int) -> None:
        if to > self.loc.get(id(b), N):
            self.loc[id(b)] = to
            self.changed = True

    def run(self) -> Flow:
        for _ in range(10_000):
            self.changed = False
            self.reads_of = {}
            self.placed = {}
            self.t_work = set()
            self.stop_on_t = False  # a target-side skip/fail/log came earlier in the script
            self._block(self.scan.program.stmts, ctx=N)
            if not self.changed:
                return self
        raise AssertionError("split analysis did not settle")  # pragma: no cover - monotone lattice

    def _block(self, stmts: Sequence[n.Stmt], ctx: int) -> tuple[bool, bool]:
        """Analyse statements run in context ctx (T: inside a target-run construct); (target work?, sender work?)."""
        tw = sw = False
        for st in stmts:
            a, b = self._stmt(st, ctx)
            tw, sw = tw or a, sw or b
        return tw, sw

    def _value_loc(self, value: n.Expr, ctx: int) -> int:
        return max(self.side(value), ctx)

    def _stmt(self, st: n.Stmt, ctx: int) -> tuple[bool, bool]:  # noqa: C901 - one case per statement
        if isinstance(st, n.Let | n.Assign) and id(st) in self.scan.defines:
            b = self.scan.defines[id(st)]
            self._raise(b, self._value_loc(st.value, ctx))
            loc = self.binding_loc(b)
            return loc == T, loc == S
        if isinstance(st, n.Assign):
            path = instance_path(st.target, self.scan.instances)
            inst = path[0] if path else _root_instance(st.target)
            self.reads(st.value)
            return inst == self.target, False
        if isinstance(st, n.If):
            sides = [self.side(c) for c, _ in st.branches]
            decider = max(sides)
            self.decider[id(st)] = decider
            inner = T if decider == T else max(ctx, decider)
            tw = sw = False
            for _, block in st.branches:
                a, b = self._block(block.stmts, inner)
                tw, sw = tw or a, sw or b
            if st.orelse is not None:
                a, b = self._block(st.orelse.stmts, inner)
                tw, sw = tw or a, sw or b
            if tw:
                self.t_work.add(id(st))
            return tw, sw
        if isinstance(st, n.For):
            it = self.side(st.iterable)
            runner = max(self.runner.get(id(st), N), T if it == T else N)
            inner = T if runner == T else max(ctx, it)
            self._raise(self.scan.defines[id(st)], inner)
            tw, sw = self._block(st.body.stmts, inner)
            new = T if (tw or it == T) else S if (sw or it == S) else N
            if new > self.runner.get(id(st), N):
                self.runner[id(st)] = new
                self.changed = True
            if self.runner.get(id(st), N) == T:
                self.t_work.add(id(st))
                return True, False
            return False, sw
        if isinstance(st, n.Skip | n.Fail):
            arg = st.reason if isinstance(st, n.Skip) else st.message
            where = self._stop_side(ctx, self.side(arg) if arg is not None else N)
            self.placed[id(st)] = where
            return where == T, where == S
        if isinstance(st, n.Log):
            self.reads(st.value)
            self.placed[id(st)] = T
            self.stop_on_t = True
            return True, False
        if isinstance(st, n.ValueMap):
            return self._value_map(st, ctx)
        return False, False

    def _stop_side(self, ctx: int, arg: int) -> int:
        # A stop runs on the sender when nothing before it needs the target to stop or log first:
        # then a skipped issue is never sent at all.
        if ctx < T and arg < T and not self.stop_on_t:
            return S
        self.stop_on_t = True
        return T

    def _value_map(self, st: n.ValueMap, ctx: int) -> tuple[bool, bool]:
        rules = direction_rules(st, self.scan.instances, self.target)
        if rules is None or not rules:
            return False, False
        if st.otherwise == "error":
            where = self._stop_side(ctx, S)
            self.placed[id(st)] = where
            return True, where == S
        return True, False


def direction_rules(st: n.ValueMap, instances: Sequence[str],
                    target: str) -> list[tuple[n.Literal, n.Literal]] | None:
    """The (source value, target value) pairs of a value map when `target` receives, or None if it does not."""
    left = instance_path(st.left, instances)
    right = instance_path(st.right, instances)
    if left is None or right is None:
        return None
    if left[0] == target:
        return [(r.right, r.left) for r in st.entries if r.arrow in ("<->", "<-")]
    if right[0] == target:
        return [(r.left, r.right) for r in st.entries if r.arrow in ("<->", "->")]
    return None


def _root_instance(target: n.Expr) -> str | None:
    while isinstance(target, n.Attr | n.Index):
        target = target.obj
    return target.id if isinstance(target, n.Name) else None


def analyse(scan: Scan, sender: str, target: str) -> Flow:
    """The settled analysis of the direction sender → target."""
    return Flow(scan, sender, target).run()
