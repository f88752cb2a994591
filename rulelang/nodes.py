"""The syntax tree: frozen dataclasses named after grammar rules, each carrying its Span."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

from .span import Span

__all__ = [
    "Node", "Expr", "Stmt",
    "Literal", "Interp", "Name", "Attr", "Index", "Call", "MethodCall", "Lambda",
    "ListLit", "MapLit", "MapEntry", "BinOp", "BoolOp", "Not", "Neg", "Coalesce", "Merge", "Cond",
    "Assign", "Let", "If", "For", "Skip", "Fail", "Log", "MapEntryRule", "ValueMap", "Block", "Program",
    "children", "child_list", "walk", "unwind",
]


@dataclass(frozen=True, slots=True)
class Node:
    span: Span


# ---- expressions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expr(Node):
    pass


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    """Text, number, true/false or null."""

    value: Any


@dataclass(frozen=True, slots=True)
class Interp(Expr):
    """A double-quoted text with `${…}` parts: pieces are str or Expr."""

    parts: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Name(Expr):
    """A root (issue, replica, previous, first_sync, connection, an instance name) or a variable."""

    id: str


@dataclass(frozen=True, slots=True)
class Attr(Expr):
    """`obj.name`: a null-safe field read."""

    obj: Expr
    name: str
    name_span: Span


@dataclass(frozen=True, slots=True)
class Index(Expr):
    """`obj[index]`: a null-safe item read (absent key → null)."""

    obj: Expr
    index: Expr


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A built-in function call: `len(x)`."""

    func: str
    args: tuple[Expr, ...]
    func_span: Span


@dataclass(frozen=True, slots=True)
class MethodCall(Expr):
    """A collection or text method: `xs.filter(x -> …)`."""

    obj: Expr
    method: str
    args: tuple[Expr, ...]
    method_span: Span


@dataclass(frozen=True, slots=True)
class Lambda(Expr):
    """`x -> body`; the checker allows it only as a method argument."""

    param: str
    body: Expr
    param_span: Span


@dataclass(frozen=True, slots=True)
class ListLit(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class MapEntry(Node):
    key: str
    value: Expr
    key_span: Span


@dataclass(frozen=True, slots=True)
class MapLit(Expr):
    entries: tuple[MapEntry, ...]


@dataclass(frozen=True, slots=True)
class BinOp(Expr):
    """Arithmetic and comparison: + - * / % == != < <= > >= in, `not in`."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class BoolOp(Expr):
    """`and` / `or`, short-circuit."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True, slots=True)
class Neg(Expr):
    operand: Expr


@dataclass(frozen=True, slots=True)
class Coalesce(Expr):
    """`a ?? b`: b when a is null."""

    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Merge(Expr):
    """`record | {…}`: a copy of a map with fields replaced."""

    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Cond(Expr):
    """`then if cond else other`."""

    then: Expr
    cond: Expr
    other: Expr


# ---- statements --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Stmt(Node):
    pass


@dataclass(frozen=True, slots=True)
class Block(Node):
    stmts: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class Assign(Stmt):
    """`target = value`, `target += value`, `target -= value` (op is "=", "+=" or "-=")."""

    target: Expr
    op: str
    value: Expr


@dataclass(frozen=True, slots=True)
class Let(Stmt):
    name: str
    value: Expr
    name_span: Span


@dataclass(frozen=True, slots=True)
class If(Stmt):
    """`if c {…} else if c {…} else {…}`: branches are (condition, block) pairs."""

    branches: tuple[tuple[Expr, Block], ...]
    orelse: Block | None


@dataclass(frozen=True, slots=True)
class For(Stmt):
    var: str
    iterable: Expr
    body: Block
    var_span: Span


@dataclass(frozen=True, slots=True)
class Skip(Stmt):
    reason: Expr | None


@dataclass(frozen=True, slots=True)
class Fail(Stmt):
    message: Expr


@dataclass(frozen=True, slots=True)
class Log(Stmt):
    value: Expr


@dataclass(frozen=True, slots=True)
class MapEntryRule(Node):
    """One line of a value map: `"a" <-> "b"`, `"a" -> "b"` or `"a" <- "b"`."""

    left: Literal
    arrow: str
    right: Literal


@dataclass(frozen=True, slots=True)
class ValueMap(Stmt):
    """Connection scripts: `map A.issue.f <-> B.issue.g { entries; else keep|error|default v }`."""

    left: Expr
    right: Expr
    entries: tuple[MapEntryRule, ...]
    otherwise: str  # "keep", "error" or "default"
    default: Literal | None


@dataclass(frozen=True, slots=True)
class Program(Node):
    stmts: tuple[Stmt, ...]
    source: str
    file: str


# ---- traversal ---------------------------------------------------------------


_SPAN_FIELDS = frozenset({"span", "name_span", "key_span", "func_span", "method_span", "param_span", "var_span"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    # Fields declared `str` (names, operators, source text) never hold a node.
    names = tuple(f.name for f in fields(cls) if f.name not in _SPAN_FIELDS and f.type != "str")
    _CHILD_FIELDS[cls] = names
    return names


def child_list(node: Node) -> list[Node]:
    """The direct child nodes, in source order, as a new list (what `children` iterates)."""
    kids = _KIDS.get(type(node))
    if kids is None:
        kids = _KIDS[type(node)] = _kids_function(type(node))
    return kids(node)


_KIDS: dict[type, Any] = {}


def _kids_function(cls: type) -> Any:
    """`child_list` for one node class, with its fields spelled out (the generic loop costs a walk twice as much)."""
    lines = ["def kids(node):", "    out = []"]
    for name in _child_fields(cls):
        lines += [f"    v = node.{name}", "    if isinstance(v, Node):", "        out.append(v)",
                  "    elif isinstance(v, tuple):", "        _flatten(v, out)"]
    lines.append("    return out")
    env: dict[str, Any] = {"Node": Node, "_flatten": _flatten}
    exec("\n".join(lines), env)  # noqa: S102 - generated from our own dataclass field names
    return env["kids"]


def _flatten(v: tuple, out: list[Node]) -> None:
    for item in v:
        if isinstance(item, Node):
            out.append(item)
        elif isinstance(item, tuple):
            _flatten(item, out)


def children(node: Node) -> Iterator[Node]:
    """The direct child nodes, in source order."""
    return iter(child_list(node))


def walk(node: Node) -> Iterator[Node]:
    """Every node below and including `node`, depth-first pre-order, without recursion."""
    stack = [node]
    pop, push = stack.pop, stack.extend
    while stack:
        x = pop()
        yield x
        kids = child_list(x)
        if kids:
            kids.reverse()
            push(kids)


_LINKS = (Attr, Index)  # the links of a path (one tuple, not one built per step)


def unwind(expr: Expr) -> tuple[Expr, list[Attr | Index]]:
    """The root of a path and its links, root first: `a.b[c]` → (a, [.b, [c]])."""
    chain: list[Attr | Index] = []
    while isinstance(expr, _LINKS):
        chain.append(expr)
        expr = expr.obj
    chain.reverse()
    return expr, chain
