"""The checker's rules for connection scripts: instance roots, statement targets and value maps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import nodes as n
from ._check_scope import Key
from ._check_types import ANY, MAP, NULL, TEXT, Ty, describe, list_of, literal_type, record
from ._check_visit import FIXED_ROOTS, unwind
from .errors import did_you_mean

if TYPE_CHECKING:
    from ._check_visit import Checker

__all__ = ["connection_root", "connection_target", "value_map"]

_SIDE_ROOTS = ("issue", "replica", "previous")  # side-program roots: a connection script names the instance


def _is_instance(c: Checker, root: n.Name, chain: list) -> bool:
    """`X.issue…` with X not a fixed root: an instance, declared or not."""
    if root.id in c.instances:
        return True
    return (root.id not in FIXED_ROOTS and bool(chain) and isinstance(chain[0], n.Attr)
            and chain[0].name == "issue")


def _undeclared_instance(c: Checker, node: n.Name) -> None:
    guess = did_you_mean(node.id, c.instances)
    c.report("C301", f"instance '{node.id}' is not declared in this connection"
             + (f" (did you mean '{guess}'?)" if guess else ""), node.span,
             hint=f"the instances are {', '.join(c.instances)}" if c.instances
             else "name the instances with --instances A,B")


def _side_root(c: Checker, node: n.Name) -> None:
    example = c.instances[0] if c.instances else "BlueJira"
    c.report("C309", f"'{node.id}' has no meaning in a connection script: name the instance", node.span,
             hint=f"for example {example}.issue.summary")


def connection_root(c: Checker, node: n.Name, first: n.Attr | n.Index | None) -> tuple[Ty, Key | None]:
    """The type of a root name read in a connection script."""
    name = node.id
    if name in c.instances:
        return Ty("instance", name), (name,)
    if name in _SIDE_ROOTS:
        _side_root(c, node)
        return record("issue"), None
    if _is_instance(c, node, [first] if first is not None else []):
        _undeclared_instance(c, node)
        return Ty("instance", name), None
    if first is None or name in c.lets:
        c.undeclared(node)
    else:
        c.unknown_root(node, first)
    return ANY, None


def connection_target(c: Checker, root: n.Name, chain: list, expr: n.Expr, quiet: bool
                      ) -> tuple[Ty, Key | None]:
    """Check a target in a connection script: it must be `<Instance>.issue.<field>…` (or a variable)."""
    name = root.id
    if not chain and name not in c.instances and name not in FIXED_ROOTS:
        c.undeclared(root)
        return ANY, None
    if _is_instance(c, root, chain):
        if name not in c.instances:
            _undeclared_instance(c, root)
        if len(chain) >= 2 and isinstance(chain[0], n.Attr) and chain[0].name == "issue":
            c.read_only_field(chain[1])
            return c.fields((name, "issue"), record("issue"), chain[1:], store=True)
        target = f"{name}.issue.summary"
    else:
        if quiet:
            return ANY, None
        if name in _SIDE_ROOTS:
            _side_root(c, root)
            return ANY, None
        if name not in FIXED_ROOTS:
            c.unknown_root(root, chain[0])
            return ANY, None
        example = c.instances[0] if c.instances else "BlueJira"
        target = f"{example}.issue.summary"
    c.report("C305", "a connection script assigns issue fields of its instances", expr.span,
             hint=f"for example {target} = …")
    return ANY, None


def _mappable(t: Ty) -> str | None:
    if t == TEXT:
        return "text"
    if t == list_of(TEXT):
        return "list of text"
    if t in (ANY, MAP, NULL):
        return "any"
    return None


def value_map(c: Checker, st: n.ValueMap) -> None:
    """`map A.issue.f <-> B.issue.g { … }`: sides, their types, the literals and repeated keys."""
    if c.kind != "connection":
        c.report("C306", "value maps exist only in connection scripts", st.span,
                 hint="in a side program, map values with {\"a\": \"b\"}[x] ?? default")
        return
    sides = []
    for side in (st.left, st.right):
        ty = c.expr(side)
        root, chain = unwind(side)
        text = c.source[side.span.start:side.span.end]
        ok = (isinstance(root, n.Name) and _is_instance(c, root, chain) and len(chain) >= 2
              and isinstance(chain[0], n.Attr) and chain[0].name == "issue")
        if not ok:
            if not (isinstance(root, n.Name) and root.id in _SIDE_ROOTS):
                c.report("C305", "each side of a value map is an issue field of an instance", side.span,
                         hint="for example BlueJira.issue.status")
            sides.append((None, None, text, side))
            continue
        kind = _mappable(ty)
        if kind is None:
            c.report("C303", f"{text} holds {describe(ty)}: value maps work on text and lists of text",
                     side.span)
        sides.append((root.id, kind, text, side))
    (li, lk, ltext, _), (ri, rk, rtext, right) = sides
    if li is not None and li == ri:
        c.report("C304", f"both sides of this map are on {li}: a value map joins the two instances", right.span)
    if lk and rk and "any" not in (lk, rk) and lk != rk:
        c.report("C303", f"cannot map {ltext} ({lk}) to {rtext} ({rk})", right.span)
    for rule in st.entries:
        _literal(c, rule.left, lk, ltext)
        _literal(c, rule.right, rk, rtext)
    if st.default is not None:
        _literal(c, st.default, rk or lk, rtext if rk else ltext)
    _repeats(c, st)


def _literal(c: Checker, lit: n.Literal, kind: str | None, side: str) -> None:
    # Value maps hold text only: the splitter sends the mapped text, and null means "no value".
    if not isinstance(lit.value, str):
        held = kind if kind in ("text", "list of text") else "text"
        hint = "leave the value out and use `else keep`" if lit.value is None else f"write it as text: \"{_show(lit.value).strip(chr(34))}\""
        c.report("C307", f"{describe(literal_type(lit.value))} in a map over {side}; value maps hold {held}",
                 lit.span, hint=hint)


def _repeats(c: Checker, st: n.ValueMap) -> None:
    seen: tuple[dict, dict] = ({}, {})
    for rule in st.entries:
        for d, lit, arrows, direction in ((seen[0], rule.left, ("<->", "->"), "left to right"),
                                          (seen[1], rule.right, ("<->", "<-"), "right to left")):
            if rule.arrow not in arrows:
                continue
            key = (type(lit.value).__name__, lit.value)
            if key in d:
                c.report("C308", f"{_show(lit.value)} is already mapped {direction} on line {d[key]}", lit.span)
            else:
                d[key] = lit.span.line


def _show(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return "null" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
