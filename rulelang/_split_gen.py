"""The splitter's second pass for one direction S → T: the sender's outgoing statements (replica slots) and the
target's incoming statements, built from the script's own nodes so every statement keeps its script span."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from . import model
from . import nodes as n
from ._split_flow import Flow, S, T, direction_rules
from ._split_nodes import (
    MapParts,
    as_bool,
    map_children,
    read_slot,
    reattach,
    rename,
    root_name,
    selected_field,
    slot_field,
    slot_name,
)
from ._split_scan import Binding, instance_path
from .format import format_expr, strip_spans
from .span import Span

__all__ = ["Gen", "Plan", "Slot"]


@dataclass(frozen=True)
class Slot:
    """One value the sender computes for the target: `replica.summary` or `replica.custom["status_mapped"]`."""

    path: tuple[str, ...]  # ("summary",) or ("custom", "status_mapped")
    value: n.Expr  # the sender-side expression (over the sender's `issue`)
    span: Span  # the script text it computes

    @property
    def text(self) -> str:
        return "replica." + self.path[0] if len(self.path) == 1 else f"replica.custom[{json.dumps(self.path[1])}]"


@dataclass
class Plan:
    """What a first run over the script learnt, so the second can share and reuse slots."""

    root_keys: set = field(default_factory=set)  # stable values sent unconditionally
    root_leaves: set = field(default_factory=set)  # of those, the plain fields and variables
    raw_fields: set = field(default_factory=set)  # replica fields that carry the sender field as it is
    reserved: set = field(default_factory=set)  # custom names the script reads (`custom["X"]`)


class _SBlock:
    """A block of the sender's outgoing program being built, with the slots computed in it."""

    def __init__(self, parent: _SBlock | None) -> None:
        self.parent = parent
        self.stmts: list[n.Stmt] = []
        self.keys: dict[Any, Slot] = {}


class Gen:
    """Builds both programs of one direction from the settled flow analysis."""

    def __init__(self, flow: Flow, plan: Plan) -> None:
        self.flow = flow
        self.scan = flow.scan
        self.plan = plan
        self.root = self.cur = _SBlock(None)
        self.slots: list[Slot] = []
        self.names: dict[Any, tuple[str, ...]] = {}
        self.used: set[str] = set()
        self.claimed: dict[str, Any] = {}
        # id(generated var statement) → (the statement, its variable). Holding the statement keeps its id its
        # own: a statement made and then dropped (the target copy of a loop only the sender runs) would
        # otherwise pass its id on to a later statement, which pruning would then take for a dead variable.
        self.defs: dict[int, tuple[n.Stmt, Binding]] = {}
        self.learnt = Plan(reserved=plan.reserved)

    # ---- the two programs

    def run(self) -> tuple[list[n.Stmt], list[n.Stmt]]:
        incoming = self.block(self.scan.program.stmts)
        return self.root.stmts, incoming

    def block(self, stmts: tuple[n.Stmt, ...]) -> list[n.Stmt]:
        out: list[n.Stmt] = []
        for st in stmts:
            self.stmt(st, out)
        return out

    def stmt(self, st: n.Stmt, out: list[n.Stmt]) -> None:  # noqa: C901 - one case per statement
        fl = self.flow
        if isinstance(st, n.Let | n.Assign) and id(st) in self.scan.defines:
            b = self.scan.defines[id(st)]
            loc = fl.binding_loc(b)
            if loc != T:
                self._def(self.cur.stmts, replace(st, value=self.lower_s(st.value)), b)
            if loc != S:
                self._def(out, replace(st, value=self.lower_t(st.value)), b)
        elif isinstance(st, n.Assign):
            path = instance_path(st.target, self.scan.instances)
            if (path[0] if path else root_name(st.target)) == fl.target:
                target = self.lower_t(st.target)
                value = self.lower_t(st.value)
                if (st.op == "=" and path and len(path[1]) == 1 and path[1][0] in model.LIST_OF_TEXT
                        and isinstance(value, n.Literal) and isinstance(value.value, str)):
                    value = n.ListLit(value.span, (value,))  # what the runtime makes of it anyway (no R204)
                out.append(n.Assign(st.span, target, st.op, value))
        elif isinstance(st, n.If):
            self._if(st, out)
        elif isinstance(st, n.For):
            self._for(st, out)
        elif isinstance(st, n.Skip | n.Fail):
            attr = "reason" if isinstance(st, n.Skip) else "message"
            arg = getattr(st, attr)
            if fl.placed.get(id(st)) == S:
                self.cur.stmts.append(replace(st, **{attr: None if arg is None else self.lower_s(arg)}))
            else:
                out.append(replace(st, **{attr: None if arg is None else self.lower_t(arg)}))
        elif isinstance(st, n.Log):
            out.append(replace(st, value=self.lower_t(st.value)))
        elif isinstance(st, n.ValueMap):
            self._value_map(st, out)

    def _def(self, into: list[n.Stmt], st: n.Stmt, b: Binding) -> None:
        self.defs[id(st)] = (st, b)
        into.append(st)

    def _if(self, st: n.If, out: list[n.Stmt]) -> None:
        decider = self.flow.decider[id(st)]
        if decider == T and id(st) not in self.flow.t_work:
            return  # nothing in it for this direction (and the sender has nothing to guard under it)
        if decider == T:  # the target decides; the sender only computes the slots the branches read
            branches = tuple((self.lower_t(c), n.Block(b.span, tuple(self.block(b.stmts))))
                             for c, b in st.branches)
            orelse = None if st.orelse is None else n.Block(st.orelse.span, tuple(self.block(st.orelse.stmts)))
            out.append(n.If(st.span, branches, orelse))
            return
        # The sender can decide: it guards its own slots with the same conditions, and the target
        # receives each decision (or evaluates it from values it receives anyway).
        needs_target = id(st) in self.flow.t_work
        if decider == S:
            t_conds = [self.slot_for(as_bool(c)) if needs_target else c for c, _ in st.branches]
        else:
            t_conds = [self.lower_t(c) for c, _ in st.branches]
        s_branches, t_branches = [], []
        for (cond, block), t_cond in zip(st.branches, t_conds, strict=True):
            sb, tb = self._guarded(block)
            s_branches.append((self.lower_s(cond), sb))
            t_branches.append((t_cond, tb))
        s_else = t_else = None
        if st.orelse is not None:
            s_else, t_else = self._guarded(st.orelse)
        self.cur.stmts.append(n.If(st.span, tuple(s_branches), s_else))
        if needs_target or decider != S:
            out.append(n.If(st.span, tuple(t_branches), t_else))

    def _guarded(self, block: n.Block) -> tuple[n.Block, n.Block]:
        self.cur = _SBlock(self.cur)
        try:
            t_stmts = self.block(block.stmts)
            s_stmts = self.cur.stmts
        finally:
            self.cur = self.cur.parent  # type: ignore[assignment]
        return n.Block(block.span, tuple(s_stmts)), n.Block(block.span, tuple(t_stmts))

    def _for(self, st: n.For, out: list[n.Stmt]) -> None:
        runner = self.flow.runner.get(id(st), 0)
        if runner == T:  # the loop runs on the target over received values; sender slots stay outside
            iterable = self.lower_t(st.iterable)
            body = n.Block(st.body.span, tuple(self.block(st.body.stmts)))
            out.append(n.For(st.span, st.var, iterable, body, st.var_span))
            return
        s_body, t_body = self._guarded(st.body)
        self.cur.stmts.append(n.For(st.span, st.var, self.lower_s(st.iterable), s_body, st.var_span))
        if runner != S:
            out.append(n.For(st.span, st.var, self.lower_t(st.iterable), t_body, st.var_span))

    # ---- value maps

    def _value_map(self, st: n.ValueMap, out: list[n.Stmt]) -> None:
        fl = self.flow
        pairs = direction_rules(st, self.scan.instances, fl.target)
        if not pairs:
            return
        left_is_target = instance_path(st.left, self.scan.instances)[0] == fl.target  # type: ignore[index]
        target, source = (st.left, st.right) if left_is_target else (st.right, st.left)
        m = MapParts(st, pairs, instance_path(source, self.scan.instances)[1])  # type: ignore[index]
        tgt = self.lower_t(target)

        def set_to(value: n.Expr) -> n.Assign:
            return n.Assign(m.sp, tgt, "=", value)

        if st.otherwise == "keep" and not m.listy:
            if self._cover(source) is not None:  # the sender's value travels anyway: map it on arrival
                got = self.slot_for(source)
                cond: n.Expr = n.BinOp(m.sp, "in", got, m.keys)
                value: n.Expr = n.Index(m.sp, m.table, got)
            else:
                value = self.slot_for(m.lookup(source))
                cond = n.BinOp(m.sp, "!=", value, n.Literal(m.sp, None))
            out.append(n.If(m.sp, ((cond, n.Block(m.sp, (set_to(value),))),), None))
        elif st.otherwise != "error":
            out.append(set_to(self.slot_for(self._sender_lambdas(m.lookup(source)))))
        elif fl.placed.get(id(st)) == S:  # the sender stops: a value without mapping never leaves
            here = self.lower_s(source)
            self.cur.stmts.append(n.If(m.sp, ((m.unmapped(here), n.Block(m.sp, (self._no_mapping(
                m, source, m.first_unmapped(here)),))),), None))
            out.append(set_to(self.slot_for(self._sender_lambdas(m.lookup(source)))))
        else:
            got = self.slot_for(source)
            out.append(n.If(m.sp, ((m.unmapped(got), n.Block(m.sp, (self._no_mapping(
                m, source, m.first_unmapped(got)),))),), None))
            out.append(set_to(m.lookup(got)))

    def _sender_lambdas(self, e: n.Expr) -> n.Expr:
        """Register the parameters of lambdas made here as sender-side variables (for the analysis)."""
        for x in n.walk(e):
            if isinstance(x, n.Lambda) and id(x) not in self.scan.defines:
                b = Binding(x.param, "param")
                self.scan.defines[id(x)] = b
                self.scan.held.append(x)
                self.flow.loc[id(b)] = S
                for y in n.walk(x.body):
                    if isinstance(y, n.Name) and y.id == x.param:
                        self.scan.uses[id(y)] = b
        return e

    def _no_mapping(self, m: MapParts, source: n.Expr, value: n.Expr) -> n.Fail:
        text = (f"no mapping for {format_expr(source)} '", value,
                f"' to {self.flow.target} (value map on line {m.sp.line})")
        return n.Fail(m.sp, n.Interp(m.sp, text))

    # ---- expressions

    def lower_s(self, e: n.Expr) -> n.Expr:
        """A sender-only expression as outgoing code: `Green.issue` becomes `issue`."""
        assert T not in self.flow.reads(e), "target value on the sending side"
        return rename(e, self.flow.sender)

    def lower_t(self, e: n.Expr) -> n.Expr:
        """An expression as incoming code: every maximal sender-only part read from a replica slot."""
        r = self.flow.reads(e)
        if S not in r:
            return rename(e, self.flow.target)
        if r == {S} and not isinstance(e, n.Lambda):
            return self.slot_for(e)
        return map_children(e, self.lower_t)

    def slot_for(self, e: n.Expr) -> n.Expr:
        """The target-side expression for a sender-only value: a slot read (made when needed) or, when every
        sender value it needs already travels unconditionally, the expression over those slots."""
        covered = self._cover(e)
        if covered is not None:
            return covered
        key = self._key(e)
        if key is not None and key in self.plan.root_keys:
            return self._get(key, e, self.root)
        if key is not None:
            blk: _SBlock | None = self.cur
            while blk is not None:
                if key in blk.keys:
                    return read_slot(blk.keys[key].path, e.span)
                blk = blk.parent
        return self._get(key, e, self.cur)

    def _get(self, key: Any, e: n.Expr, blk: _SBlock) -> n.Expr:
        if key is not None and key in blk.keys:
            return read_slot(blk.keys[key].path, e.span)
        path = self._name(key, e)
        slot = Slot(path, self.lower_s(e), e.span)
        self.slots.append(slot)
        blk.stmts.append(n.Assign(e.span, read_slot(path, e.span), "=", slot.value))
        if key is not None:
            blk.keys[key] = slot
            if blk is self.root:
                self.learnt.root_keys.add(key)
                leaf = self._leaf(e)
                if leaf is not None:
                    self.learnt.root_leaves.add(leaf)
        return read_slot(path, e.span)

    def _key(self, e: n.Expr) -> Any:
        """A span-free identity for values that are the same wherever computed (None for the others)."""
        params = {id(self.scan.defines[id(x)]) for x in n.walk(e) if isinstance(x, n.Lambda)}
        for x in n.walk(e):
            if isinstance(x, n.Name) and id(x) in self.scan.uses:
                b = self.scan.uses[id(x)]
                if id(b) not in params and not (b.kind == "let" and b.top and not b.reassigned):
                    return None
        return strip_spans(rename(e, self.flow.sender))

    def _leaf(self, e: n.Expr) -> Any:
        path = instance_path(e, self.scan.instances)
        if path is not None and path[0] == self.flow.sender:
            return ("path", path[1])
        if isinstance(e, n.Name) and id(e) in self.scan.uses:
            b = self.scan.uses[id(e)]
            if b.kind == "let" and b.top and not b.reassigned:
                return ("var", id(b))
        return None

    def _cover(self, e: n.Expr) -> n.Expr | None:
        if not self.plan.root_leaves or self._key(e) is None:
            return None
        if any(isinstance(x, n.Call) and x.func == "now" for x in n.walk(e)):
            return None  # the sender's clock stays the sender's
        return self._cover_go(e)

    def _cover_go(self, x: n.Expr) -> n.Expr | None:
        if S not in self.flow.reads(x):
            return rename(x, self.flow.target)
        leaf = self._leaf(x)
        if leaf is not None:
            if leaf[0] == "var":
                return self._get(self._key(x), x, self.root) if leaf in self.plan.root_leaves else None
            return self._cover_path(x, leaf[1])
        if isinstance(x, n.Name) or (isinstance(x, n.Attr) and x.name == "issue"):
            return x if isinstance(x, n.Name) and id(x) in self.scan.uses else None
        failed = False

        def go(child: n.Expr) -> n.Expr:
            nonlocal failed
            got = self._cover_go(child)
            if got is None:
                failed = True
                return child
            return got

        out = map_children(x, go)
        return None if failed else out

    def _cover_path(self, x: n.Expr, steps: tuple) -> n.Expr | None:
        node, k = x, len(steps)
        while k >= 1:
            if ("path", steps[:k]) in self.plan.root_leaves:
                got = self._get(self._key(node), node, self.root)
                return reattach(x, node, got)
            node, k = node.obj, k - 1  # type: ignore[attr-defined]
        return None

    # ---- slot names

    def _name(self, key: Any, e: n.Expr) -> tuple[str, ...]:
        if key is not None and key in self.names:
            return self.names[key]
        leaf = self._leaf(e)
        path: tuple[str, ...] | None = None
        if leaf is not None and leaf[0] == "path":
            steps = leaf[1]
            if len(steps) == 1 and slot_field(steps[0]):
                self.learnt.raw_fields.add(steps[0])
            if len(steps) == 1 and self._free_field(steps[0], key, raw=True):
                path = (steps[0],)
            elif len(steps) == 2 and steps[0] == "custom" and isinstance(steps[1], str):
                path = ("custom", steps[1])
                self.used.add(steps[1])
        if path is None:
            chosen = selected_field(e, self.scan.instances, self.flow.sender)
            if chosen is not None and self._free_field(chosen, key, raw=False):
                path = (chosen,)
        if path is None:
            path = ("custom", self._fresh(slot_name(e, self.scan)))
        if key is not None:
            self.names[key] = path
        return path

    def _free_field(self, name: str, key: Any, raw: bool) -> bool:
        if not slot_field(name):
            return False
        if not raw and name in self.plan.raw_fields:
            return False
        if name in self.claimed and self.claimed[name] != key:
            return False
        self.claimed[name] = key if key is not None else object()
        return True

    def _fresh(self, base: str) -> str:
        name, i = base, 2
        while name in self.used or name in self.plan.reserved:
            name, i = f"{base}_{i}", i + 1
        self.used.add(name)
        return name
