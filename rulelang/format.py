"""Rulelang nodes back to formatted rule text that parses to the same nodes (modulo spans)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import fields
from decimal import Decimal
from typing import Any

from . import nodes as n

__all__ = ["format_program", "format_stmts", "format_expr", "format_literal", "strip_spans", "same_nodes",
           "FormatError", "INDENT"]

INDENT = "    "
# A map literal longer than this goes one entry per line (value tables read better that way).
_WRAP_MAP_AT = 60

# Binding strength, lowest first, as in grammar/rules.lark.
_LAMBDA, _COND, _COALESCE, _OR, _AND, _NOT, _CMP, _MERGE, _SUM, _PRODUCT, _NEG, _POSTFIX, _ATOM = range(13)
_COMPARISONS = {"==", "!=", "<", "<=", ">", ">=", "in", "not in"}
_KEYWORDS = {"let", "if", "else", "for", "in", "skip", "fail", "log", "map", "default", "and", "or", "not",
             "true", "false", "null", "keep", "error"}
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")  # record fields stay bare; other keys are quoted
# Characters written as escapes: the ones the lexer or a line-based reader would treat specially.
_ESCAPE = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "$": "\\$"}


class FormatError(ValueError):
    """A node that has no rule-text spelling (a NaN, a map literal inside `${…}`, …)."""


# Called with each statement (and each `else if` condition) to get a trailing comment, or None.
Annotate = Callable[[n.Node], "str | None"]


def format_program(program: n.Program, annotate: Annotate | None = None) -> str:
    """The program as rule text, one statement a line, blocks indented by four spaces."""
    return format_stmts(program.stmts, annotate)


def format_stmts(stmts: tuple[n.Stmt, ...] | list[n.Stmt], annotate: Annotate | None = None) -> str:
    out: list[tuple[str, str | None]] = []
    for s in stmts:
        _stmt(s, 0, out, annotate)
    return _join(out)


def _join(lines: list[tuple[str, str | None]]) -> str:
    # Trailing comments line up in one column (per file) so the code stays readable.
    width = max((len(code) for code, c in lines if c and "\n" not in code), default=0)
    width = min(width, 72)
    text = []
    for code, comment in lines:
        if comment:
            first, nl, rest = code.partition("\n")
            text.append(f"{first.ljust(width)}  // {comment}{nl}{rest}")
        else:
            text.append(code)
    return "\n".join(text) + ("\n" if text else "")


def _stmt(s: n.Stmt, depth: int, out: list[tuple[str, str | None]], annotate: Annotate | None) -> None:
    pad = INDENT * depth
    note = annotate(s) if annotate else None
    if isinstance(s, n.Assign):
        out.append((f"{pad}{_expr(s.target, _POSTFIX, depth)} {s.op} {_expr(s.value, _LAMBDA, depth)}", note))
    elif isinstance(s, n.Let):
        out.append((f"{pad}let {s.name} = {_expr(s.value, _LAMBDA, depth)}", note))
    elif isinstance(s, n.If):
        for i, (cond, block) in enumerate(s.branches):
            head = "if" if i == 0 else "} else if"
            out.append((f"{pad}{head} {_expr(cond, _LAMBDA, depth)} {{", note if i == 0 else
                        (annotate(cond) if annotate else None)))
            _block(block, depth, out, annotate)
        if s.orelse is not None:
            out.append((f"{pad}}} else {{", None))
            _block(s.orelse, depth, out, annotate)
        out.append((f"{pad}}}", None))
    elif isinstance(s, n.For):
        out.append((f"{pad}for {s.var} in {_expr(s.iterable, _LAMBDA, depth)} {{", note))
        _block(s.body, depth, out, annotate)
        out.append((f"{pad}}}", None))
    elif isinstance(s, n.Skip):
        out.append((pad + ("skip" if s.reason is None else f"skip {_expr(s.reason, _LAMBDA, depth)}"), note))
    elif isinstance(s, n.Fail):
        out.append((f"{pad}fail {_expr(s.message, _LAMBDA, depth)}", note))
    elif isinstance(s, n.Log):
        out.append((f"{pad}log {_expr(s.value, _LAMBDA, depth)}", note))
    elif isinstance(s, n.ValueMap):
        out.append((f"{pad}map {_expr(s.left, _POSTFIX, depth)} <-> {_expr(s.right, _POSTFIX, depth)} {{", note))
        inner = pad + INDENT
        for rule in s.entries:
            out.append((f"{inner}{format_literal(rule.left)} {rule.arrow} {format_literal(rule.right)}",
                        annotate(rule) if annotate else None))
        if s.otherwise == "default":
            if s.default is None:
                raise FormatError("a value map with 'else default' needs a default value")
            out.append((f"{inner}else default {format_literal(s.default)}", None))
        else:
            out.append((f"{inner}else {s.otherwise}", None))
        out.append((f"{pad}}}", None))
    else:
        raise FormatError(f"not a statement: {type(s).__name__}")


def _block(block: n.Block, depth: int, out: list[tuple[str, str | None]], annotate: Annotate | None) -> None:
    for s in block.stmts:
        _stmt(s, depth + 1, out, annotate)


# ---- expressions -------------------------------------------------------------------------------


def format_expr(e: n.Expr) -> str:
    """One expression as rule text (on one line unless it holds a long map literal)."""
    return _expr(e, _LAMBDA, 0)


def _level(e: n.Expr) -> int:
    if isinstance(e, n.Lambda):
        return _LAMBDA
    if isinstance(e, n.Cond):
        return _COND
    if isinstance(e, n.Coalesce):
        return _COALESCE
    if isinstance(e, n.BoolOp):
        return _OR if e.op == "or" else _AND
    if isinstance(e, n.Not):
        return _NOT
    if isinstance(e, n.BinOp):
        if e.op in _COMPARISONS:
            return _CMP
        return _SUM if e.op in ("+", "-") else _PRODUCT
    if isinstance(e, n.Merge):
        return _MERGE
    if isinstance(e, n.Neg):
        return _NEG
    if isinstance(e, n.Literal) and _is_number(e.value) and (e.value < 0 or math.copysign(1, e.value) < 0):
        return _NEG  # `-5` is read as a negation of 5, folded by the parser
    if isinstance(e, (n.Attr, n.Index, n.MethodCall)):
        return _POSTFIX
    return _ATOM


def _expr(e: n.Expr, need: int, depth: int, interp: bool = False) -> str:
    text = _bare(e, depth, interp)
    return f"({text})" if _level(e) < need else text


def _bare(e: n.Expr, depth: int, interp: bool) -> str:  # noqa: C901 - one case per node type
    def sub(x: n.Expr, need: int) -> str:
        return _expr(x, need, depth, interp)

    if isinstance(e, n.Literal):
        return format_literal(e, single=interp)
    if isinstance(e, n.Interp):
        if interp:
            raise FormatError("a text with ${…} cannot appear inside another ${…}")
        return _interp(e)
    if isinstance(e, n.Name):
        return e.id
    if isinstance(e, n.Attr):
        return f"{sub(e.obj, _POSTFIX)}.{e.name}"
    if isinstance(e, n.Index):
        return f"{sub(e.obj, _POSTFIX)}[{sub(e.index, _LAMBDA)}]"
    if isinstance(e, n.Call):
        return f"{e.func}({', '.join(sub(a, _LAMBDA) for a in e.args)})"
    if isinstance(e, n.MethodCall):
        return f"{sub(e.obj, _POSTFIX)}.{e.method}({', '.join(sub(a, _LAMBDA) for a in e.args)})"
    if isinstance(e, n.Lambda):
        return f"{e.param} -> {sub(e.body, _LAMBDA)}"
    if isinstance(e, n.ListLit):
        return "[" + ", ".join(sub(x, _LAMBDA) for x in e.items) + "]"
    if isinstance(e, n.MapLit):
        return _map_lit(e, depth, interp)
    if isinstance(e, n.BinOp):
        lvl = _level(e)
        if lvl == _CMP:  # comparisons do not chain: both sides one level up
            return f"{sub(e.left, _MERGE)} {e.op} {sub(e.right, _MERGE)}"
        return f"{sub(e.left, lvl)} {e.op} {sub(e.right, lvl + 1)}"
    if isinstance(e, n.BoolOp):
        lvl = _level(e)
        return f"{sub(e.left, lvl)} {e.op} {sub(e.right, lvl + 1)}"
    if isinstance(e, n.Not):
        return f"not {sub(e.operand, _NOT)}"
    if isinstance(e, n.Neg):
        if isinstance(e.operand, n.Literal) and _is_number(e.operand.value):
            raise FormatError("'-' before a number literal is read as a negative literal")
        return f"-{sub(e.operand, _NEG)}"
    if isinstance(e, n.Coalesce):
        return f"{sub(e.left, _OR)} ?? {sub(e.right, _COALESCE)}"
    if isinstance(e, n.Merge):
        return f"{sub(e.left, _MERGE)} | {sub(e.right, _SUM)}"
    if isinstance(e, n.Cond):
        return f"{sub(e.then, _COALESCE)} if {sub(e.cond, _COALESCE)} else {sub(e.other, _COND)}"
    raise FormatError(f"not an expression: {type(e).__name__}")


def _map_lit(e: n.MapLit, depth: int, interp: bool) -> str:
    items = [f"{_key(m.key, interp)}: {_expr(m.value, _LAMBDA, depth + 1, interp)}" for m in e.entries]
    one_line = "{" + ", ".join(items) + "}"
    if interp or len(one_line) <= _WRAP_MAP_AT or len(items) < 2 or any("\n" in i for i in items):
        return one_line
    inner = INDENT * (depth + 1)
    return "{\n" + "".join(f"{inner}{i},\n" for i in items) + INDENT * depth + "}"


def _key(k: str, interp: bool = False) -> str:
    return k if _NAME.match(k) and k not in _KEYWORDS else _quote(k, "'" if interp else '"')


def _interp(e: n.Interp) -> str:
    out = ['"']
    for part in e.parts:
        if isinstance(part, str):
            out.append(_escape(part, '"'))
        else:
            out.append("${" + _expr(part, _LAMBDA, 0, interp=True) + "}")
    out.append('"')
    return "".join(out)


def format_literal(lit: n.Literal, single: bool = False) -> str:
    """A literal's spelling: `"text"` (or `'text'` inside `${…}`), a number, true, false or null."""
    v = lit.value
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return _quote(v, "'" if single else '"')
    if _is_number(v):
        return _number(v)
    raise FormatError(f"no literal spelling for a {type(v).__name__}")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _number(v: int | float) -> str:
    if isinstance(v, int):
        return str(v)
    if not math.isfinite(v):
        raise FormatError(f"no literal spelling for {v!r}")
    # Rule numbers have no exponent: write the shortest repr out in plain digits.
    text = format(Decimal(repr(v)), "f")
    if "." not in text:
        text += ".0"
    return text


def _quote(s: str, q: str) -> str:
    return q + _escape(s, q) + q


def _escape(s: str, q: str) -> str:
    out = []
    for ch in s:
        if ch in _ESCAPE:
            out.append(_ESCAPE[ch])
        elif ch == q or (q == "'" and ch == '"'):
            # Single quotes are the texts inside `${…}`: there a bare '"' would end the outer text when a
            # map's '}' came before it (the lexer reads `${…}` up to the first '}'), so it is escaped too.
            out.append("\\" + ch)
        elif ch < " " or ch in "\x7f\x85\u2028\u2029" or 0xD800 <= ord(ch) <= 0xDFFF:
            if 0xD800 <= ord(ch) <= 0xDFFF:
                raise FormatError("text holds a lone surrogate, which rule text cannot spell")
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


# ---- comparing trees ---------------------------------------------------------------------------

_SPAN_FIELDS = frozenset({"span", "name_span", "key_span", "func_span", "method_span", "param_span",
                          "var_span"})


def strip_spans(node: Any) -> Any:
    """A span-free, comparable rendering of a node tree (a Program compares by its statements only)."""
    if isinstance(node, n.Program):
        return ("Program", strip_spans(node.stmts))
    if isinstance(node, n.Node):
        items = tuple((f.name, strip_spans(getattr(node, f.name))) for f in fields(node)
                      if f.name not in _SPAN_FIELDS)
        return (type(node).__name__, items)
    if isinstance(node, tuple):
        return tuple(strip_spans(x) for x in node)
    if isinstance(node, float) or isinstance(node, bool) or node is None:
        return (type(node).__name__, node)  # 1 == 1.0 == True in Python; the language keeps them apart
    if isinstance(node, int):
        return ("int", node)
    return node


def same_nodes(a: Any, b: Any) -> bool:
    """True when two trees are equal apart from their spans (and a Program's source text)."""
    return strip_spans(a) == strip_spans(b)
