"""The data-flow analysis behind the sharing report: which parts of `issue` can reach `replica` in an outgoing program."""

# Values are abstracted as the issue fields they carry. A source is (path, mode): mode "value" means the value
# *is* that field (or an item of it), so `.name` narrows it; "part" means the field is inside the value as it
# is (a text built around it, a list holding it); "derived" means only something computed from it travels
# (a comparison, a length, a value-table lookup). Control dependencies (conditions, loop counts, filter
# predicates) are kept apart: they decide what is sent but their values do not travel.

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import model
from . import nodes as n

__all__ = ["Flow", "Src", "analyse_outgoing", "LOOKUP_USER", "LOOKUP_TWIN"]

VALUE, PART, DERIVED = "value", "part", "derived"
LOOKUP_USER = ("<user>",)  # what user() finds in the local user directory
LOOKUP_TWIN = ("<twin>",)  # what twin() finds among the synced issues

_SELECT = frozenset({"filter", "sort_by", "unique", "first"})
_TEXTUAL = frozenset({"lower", "upper", "trim", "replace", "split"})
_KEEPS_TEXT = frozenset({"str", "int", "float", "date", "format_date", "join", "html_to_markdown",
                         "markdown_to_html"})
_LISTS = frozenset(f for f, k in model.ISSUE_FIELDS.items() if k in ("texts", "items", "links"))


@dataclass(frozen=True)
class Src:
    path: tuple
    mode: str


@dataclass(frozen=True)
class AV:
    """An abstract value: the sources of its data and of the decisions that shaped it."""

    data: frozenset[Src] = frozenset()
    ctrl: frozenset[tuple] = frozenset()

    def __or__(self, other: AV) -> AV:
        return AV(self.data | other.data, self.ctrl | other.ctrl)

    def as_mode(self, mode: str) -> AV:
        """Embedded in a bigger value (PART) or computed from (DERIVED); derived stays derived."""
        return AV(frozenset(Src(s.path, DERIVED if s.mode == DERIVED else mode) for s in self.data), self.ctrl)

    def decided(self) -> AV:
        """Everything here only decides: data sources become control sources."""
        return AV(frozenset(), self.ctrl | {s.path for s in self.data})


EMPTY = AV()


@dataclass
class Flow:
    """What an outgoing program sends (per source, the lines that send it) and what only decides."""

    sends: dict[Src, set[int]] = field(default_factory=dict)
    decides: dict[tuple, set[int]] = field(default_factory=dict)


class _Analysis:
    def __init__(self) -> None:
        self.env: dict[int, AV] = {}  # id(binding node) → everything the variable may hold
        self.flow = Flow()
        self.changed = False
        self.replica = EMPTY

    def bind(self, key: int, av: AV) -> None:
        old = self.env.get(key, EMPTY)
        new = old | av
        if new != old:
            self.env[key] = new
            self.changed = True

    # ---- statements (scopes: name → binding key)

    def block(self, stmts: Sequence[n.Stmt], scopes: list[dict[str, int]], ctl: AV) -> None:
        scopes.append({})
        for st in stmts:
            self.stmt(st, scopes, ctl)
        scopes.pop()

    def stmt(self, st: n.Stmt, scopes: list[dict[str, int]], ctl: AV) -> None:  # noqa: C901
        line = st.span.line
        if isinstance(st, n.Let):
            av = self.expr(st.value, scopes)
            scopes[-1][st.name] = id(st)
            self.bind(id(st), av | ctl.decided())
        elif isinstance(st, n.Assign):
            t = st.target
            if isinstance(t, n.Name):
                key = _lookup(scopes, t.id)
                if key is not None:
                    self.bind(key, self.expr(st.value, scopes) | ctl.decided())
                return
            av = self.expr(st.value, scopes)
            if st.op != "=":
                av = av | self.expr(t, scopes).as_mode(PART)
            node = t
            while isinstance(node, n.Attr | n.Index):  # a computed key travels as a key
                if isinstance(node, n.Index):
                    av = av | self.expr(node.index, scopes).as_mode(PART)
                node = node.obj
            if isinstance(node, n.Name) and node.id == "replica" and _lookup(scopes, "replica") is None:
                self.send(av | ctl.decided(), line)
        elif isinstance(st, n.If):
            inner = ctl
            for cond, block in st.branches:
                inner = inner | self.expr(cond, scopes).decided()  # later branches ran because earlier ones did not
                self.block(block.stmts, scopes, inner)
            if st.orelse is not None:
                self.block(st.orelse.stmts, scopes, inner)
        elif isinstance(st, n.For):
            items = self.expr(st.iterable, scopes)
            scopes.append({st.var: id(st)})
            self.bind(id(st), _item(items) | ctl.decided())
            self.block(st.body.stmts, scopes, ctl | _count(items))
            scopes.pop()
        elif isinstance(st, n.Skip | n.Fail):
            for path in ctl.decided().ctrl:  # whether anything is sent at all
                self.flow.decides.setdefault(path, set()).add(line)

    def send(self, av: AV, line: int) -> None:
        self.replica = self.replica | av
        for s in av.data:
            self.flow.sends.setdefault(s, set()).add(line)
        for path in av.ctrl:
            self.flow.decides.setdefault(path, set()).add(line)

    # ---- expressions

    def expr(self, e: n.Expr, scopes: list[dict[str, int]]) -> AV:  # noqa: C901 - one case per node type
        ex = self.expr
        if isinstance(e, n.Literal):
            return EMPTY
        if isinstance(e, n.Interp):
            out = EMPTY
            for p in e.parts:
                if isinstance(p, n.Expr):
                    out = out | ex(p, scopes).as_mode(PART)
            return out
        if isinstance(e, n.Name):
            key = _lookup(scopes, e.id)
            if key is not None:
                return self.env.get(key, EMPTY)
            if e.id == "issue":
                return AV(frozenset({Src((), VALUE)}))
            if e.id == "replica":
                return self.replica.as_mode(PART)
            return EMPTY
        if isinstance(e, n.Attr):
            return _narrow(ex(e.obj, scopes), e.name)
        if isinstance(e, n.Index):
            obj, idx = ex(e.obj, scopes), ex(e.index, scopes)
            if isinstance(e.obj, n.MapLit):  # a value table: what it holds, chosen by the key
                return obj.as_mode(PART) | idx.as_mode(DERIVED)
            if isinstance(e.index, n.Literal) and isinstance(e.index.value, str):
                return _narrow(obj, e.index.value)
            return _item(obj) | idx.as_mode(DERIVED)
        if isinstance(e, n.Call):
            args = EMPTY
            for a in e.args:
                args = args | ex(a, scopes)
            if e.func in _KEEPS_TEXT:
                return args.as_mode(PART)
            if e.func == "user":
                return args.as_mode(DERIVED) | AV(frozenset({Src(LOOKUP_USER, VALUE)}))
            if e.func == "twin":
                return args.as_mode(DERIVED) | AV(frozenset({Src(LOOKUP_TWIN, VALUE)}))
            return args.as_mode(DERIVED)
        if isinstance(e, n.MethodCall):
            return self.method(e, scopes)
        if isinstance(e, n.ListLit | n.MapLit):
            out = EMPTY
            for x in (e.items if isinstance(e, n.ListLit) else [m.value for m in e.entries]):
                out = out | ex(x, scopes).as_mode(PART)
            return out
        if isinstance(e, n.BinOp):
            both = ex(e.left, scopes) | ex(e.right, scopes)
            return both.as_mode(PART) if e.op == "+" else both.as_mode(DERIVED)
        if isinstance(e, n.BoolOp):
            return (ex(e.left, scopes) | ex(e.right, scopes)).as_mode(DERIVED)
        if isinstance(e, n.Not | n.Neg):
            return ex(e.operand, scopes).as_mode(DERIVED)
        if isinstance(e, n.Coalesce):
            return ex(e.left, scopes) | ex(e.right, scopes)
        if isinstance(e, n.Merge):
            return (ex(e.left, scopes) | ex(e.right, scopes)).as_mode(PART)
        if isinstance(e, n.Cond):
            return ex(e.then, scopes) | ex(e.other, scopes) | ex(e.cond, scopes).as_mode(DERIVED)
        return EMPTY  # a lambda outside a method call sends nothing

    def method(self, e: n.MethodCall, scopes: list[dict[str, int]]) -> AV:
        obj = self.expr(e.obj, scopes)
        items = _item(obj)
        results = []
        for a in e.args:
            if isinstance(a, n.Lambda):
                scopes.append({a.param: id(a)})
                self.bind(id(a), items)
                results.append(self.expr(a.body, scopes))
                scopes.pop()
            else:
                results.append(self.expr(a, scopes))
        args = EMPTY
        for r in results:
            args = args | r
        m = e.method
        if m in _SELECT:  # the items themselves; what picked or ordered them only decides
            return obj | args.decided()
        if m == "map":
            return args | AV(frozenset(), obj.ctrl)
        if m in _TEXTUAL:
            return (obj | args).as_mode(PART)
        return (obj | args).as_mode(DERIVED)  # any, all, contains, starts_with, ends_with, matches


def _count(av: AV) -> AV:
    """Looping over a value decides by how many items it has, not by what they hold."""
    return AV(frozenset(), av.ctrl | {s.path + ("#",) for s in av.data})


def _lookup(scopes: list[dict[str, int]], name: str) -> int | None:
    for scope in reversed(scopes):
        if name in scope:
            return scope[name]
    return None


def _narrow(av: AV, name: str) -> AV:
    """`.name` of a value: a field's value narrows to its sub-field; anything else keeps its sources."""
    out = {Src(s.path + (name,), VALUE) if s.mode == VALUE else s for s in av.data}
    return AV(frozenset(out), av.ctrl)


def _item(av: AV) -> AV:
    """An item of a value: of a list field, an item carries the same field; of a map, any of its entries."""
    out = set()
    for s in av.data:
        if s.mode == VALUE and not (len(s.path) == 1 and s.path[0] in _LISTS):
            out.add(Src(s.path + ("*",), VALUE))
        else:
            out.add(s)
    return AV(frozenset(out), av.ctrl)


def analyse_outgoing(program: n.Program) -> Flow:
    """Run the analysis to its fixed point (variables in loops gather what every round may give them)."""
    a = _Analysis()
    for _ in range(1000):
        a.changed = False
        a.flow = Flow()
        a.replica = EMPTY
        a.block(program.stmts, [{}], EMPTY)
        if not a.changed:
            return a.flow
    raise AssertionError("sharing analysis did not settle")  # pragma: no cover - monotone
