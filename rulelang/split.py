"""Split a two-sided connection script into each instance's outgoing and incoming programs (docs/connection-scripts.md)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from . import nodes as n
from ._split_flow import analyse
from ._split_gen import Gen, Plan, Slot
from ._split_scan import Binding, Scan, scan
from .format import format_program
from .span import Span

__all__ = ["split", "SplitResult", "SidePrograms", "Slot", "render_side", "side_file_name", "KINDS"]

KINDS = ("outgoing", "incoming")


@dataclass(frozen=True)
class SidePrograms:
    """One instance's two programs. Their nodes carry the connection script's spans (their provenance)."""

    instance: str
    outgoing: n.Program
    incoming: n.Program

    def program(self, kind: str) -> n.Program:
        if kind not in KINDS:
            raise ValueError(f"kind must be 'outgoing' or 'incoming', not {kind!r}")
        return self.outgoing if kind == "outgoing" else self.incoming


@dataclass(frozen=True)
class SplitResult:
    """The per-instance programs of a connection script, and the replica slots each instance sends."""

    script: n.Program
    instances: tuple[str, str]
    sides: tuple[SidePrograms, SidePrograms]
    slots: dict[str, tuple[Slot, ...]]  # sender instance → the slots its outgoing program fills

    def side(self, instance: str) -> SidePrograms:
        for s in self.sides:
            if s.instance == instance:
                return s
        raise KeyError(f"no instance {instance!r} in this connection ({', '.join(self.instances)})")

    def program(self, instance: str, kind: str) -> n.Program:
        return self.side(instance).program(kind)

    def other(self, instance: str) -> str:
        a, b = self.instances
        return b if instance == a else a

    @staticmethod
    def origin(stmt: n.Node) -> Span:
        """The connection-script text a generated statement (or expression) came from."""
        return stmt.span

    def text(self, instance: str, kind: str) -> str:
        """One program as formatted rule text, each line commented with its connection-script line."""
        return render_side(self, instance, kind)

    def files(self) -> dict[str, str]:
        """File name → text for the four programs: `Blue-outgoing.rules`, `Blue-incoming.rules`, …"""
        return {side_file_name(i, k): self.text(i, k) for i in self.instances for k in KINDS}


def side_file_name(instance: str, kind: str) -> str:
    return f"{instance}-{kind}.rules"


def split(program: n.Program, instances: Sequence[str] | None = None) -> SplitResult:
    """Split a parsed (and checked) connection script; raise CheckError (positioned) when it cannot be split.

    `instances` names the connection's two instances (ValueError unless there are two); without it they are
    the two the script names. The programs' nodes carry the script's spans, and their source is the script.
    """
    sc = scan(program, instances)
    a, b = sc.instances
    out: dict[str, list[n.Stmt]] = {}
    inc: dict[str, list[n.Stmt]] = {}
    slots: dict[str, tuple[Slot, ...]] = {}
    for sender, target in ((a, b), (b, a)):
        out[sender], inc[target], slots[sender] = _direction(sc, sender, target)
    sides = tuple(SidePrograms(i, _program(program, out[i]), _program(program, inc[i])) for i in (a, b))
    return SplitResult(program, (a, b), sides, slots)  # type: ignore[arg-type]


def _direction(sc: Scan, sender: str, target: str) -> tuple[list[n.Stmt], list[n.Stmt], tuple[Slot, ...]]:
    flow = analyse(sc, sender, target)
    # First run: which values travel unconditionally; the second run shares and reuses them.
    first = Gen(flow, Plan(reserved=set(sc.raw_custom)))
    first.run()
    plan = first.learnt
    plan.root_leaves = {leaf for leaf in plan.root_leaves if not _has_prefix_in(leaf, plan.root_leaves)}
    gen = Gen(flow, plan)
    outgoing, incoming = gen.run()
    outgoing = _prune(outgoing, gen.defs, sc.uses)
    incoming = _prune(incoming, gen.defs, sc.uses)
    used = {id(x) for st in outgoing for x in n.walk(st)}
    return outgoing, incoming, tuple(s for s in gen.slots if id(s.value) in used)


def _has_prefix_in(leaf: tuple, leaves: set) -> bool:
    if leaf[0] != "path":
        return False
    steps = leaf[1]
    return any(("path", steps[:k]) in leaves for k in range(1, len(steps)))


def _program(script: n.Program, stmts: list[n.Stmt]) -> n.Program:
    return n.Program(script.span, tuple(stmts), script.source, script.file)


# ---- dead variables and empty blocks ----------------------------------------------------------------


def _prune(stmts: list[n.Stmt], defs: dict[int, tuple[n.Stmt, Binding]], uses: dict[int, Binding]
           ) -> list[n.Stmt]:
    """Drop variables this side never reads (each side keeps only what it needs), then empty blocks."""
    while True:
        live = _live(stmts, defs, uses)
        new = _drop(stmts, live, defs)
        if _count(new) == _count(stmts):
            return new
        stmts = new


def _count(stmts: Iterable[n.Stmt]) -> int:
    return sum(1 for st in stmts for _ in n.walk(st))


def _live(stmts: list[n.Stmt], defs: dict[int, tuple[n.Stmt, Binding]], uses: dict[int, Binding]
          ) -> set[int]:
    live: set[int] = set()
    stack: list[tuple[n.Node, int]] = [(st, 0) for st in stmts]
    while stack:
        node, own = stack.pop()
        if id(node) in defs:
            own = id(defs[id(node)][1])
        if isinstance(node, n.Name) and id(node) in uses and id(uses[id(node)]) != own:
            live.add(id(uses[id(node)]))
        stack.extend((c, own) for c in n.children(node))
    return live


def _drop(stmts: Sequence[n.Stmt], live: set[int], defs: dict[int, tuple[n.Stmt, Binding]]) -> list[n.Stmt]:
    out: list[n.Stmt] = []
    for st in stmts:
        if id(st) in defs and id(defs[id(st)][1]) not in live:
            continue
        if isinstance(st, n.If):
            branches = [(c, replace(b, stmts=tuple(_drop(b.stmts, live, defs)))) for c, b in st.branches]
            orelse = st.orelse
            if orelse is not None:
                orelse = replace(orelse, stmts=tuple(_drop(orelse.stmts, live, defs)))
                if not orelse.stmts:
                    orelse = None
            while branches and orelse is None and not branches[-1][1].stmts:
                branches.pop()  # a trailing empty branch does nothing: conditions have no effects
            if not branches:
                continue
            st = replace(st, branches=tuple(branches), orelse=orelse)
        elif isinstance(st, n.For):
            body = replace(st.body, stmts=tuple(_drop(st.body.stmts, live, defs)))
            if not body.stmts:
                continue
            st = replace(st, body=body)
        out.append(st)
    return out


# ---- text -------------------------------------------------------------------------------------------


def render_side(result: SplitResult, instance: str, kind: str) -> str:
    """A header naming where the program comes from, then its statements with `// file:line` comments."""
    program = result.program(instance, kind)
    script = os.path.basename(result.script.file)
    other = result.other(instance)
    what = f"what {instance} sends to {other}" if kind == "outgoing" else f"how {instance} applies what {other} sends"
    head = [f"// {instance} {kind} rules: {what}.",
            f"// Split from {script} by `rulelang split`; each line names the line of {script} it comes from.",
            ""]
    if not program.stmts:
        empty = (f"// {instance} sends nothing to {other}." if kind == "outgoing"
                 else f"// {instance} takes nothing from {other}.")
        return "\n".join(head + [empty]) + "\n"
    body = format_program(program, annotate=lambda node: f"{script}:{node.span.line}")
    return "\n".join(head) + "\n" + body
