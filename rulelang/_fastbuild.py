"""The fast parser's reduce callbacks: rulelang nodes straight from token tuples, equal to what `_build.Builder` makes.

Tokens are tuples `(type, text, start, end, line, col, end_line, end_col)` with positions already
in file coordinates. Anything unusual (a bad escape, a text key with `${…}`, chained comparisons,
too many operators) raises `Fallback`: the caller then parses the text again with Lark's own
parser and `_build.Builder`, which give the one diagnostic the user sees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import nodes as n
from ._build import _ESCAPES, _find_close
from ._fastnodes import ASSIGN, ATTR, INDEX, LAMBDA, LIT, MAPLIT, MCALL, MENTRY, NAME_, Fallback, S
from .span import Span

__all__ = ["Fallback", "callbacks"]


# Binding power of binary operators (as in _operators.py); higher binds tighter.
_BINARY = {"??": 1, "or": 2, "and": 3, "==": 5, "!=": 5, "<": 5, "<=": 5, ">": 5, ">=": 5, "in": 5,
           "not in": 5, "|": 6, "+": 7, "-": 7, "*": 8, "/": 8, "%": 8}
_NOT, _NEG, _COMPARISON = 4, 9, 5


def callbacks(file: str, max_operators: int, sub_parse: Callable[[str, int, int, int], n.Expr]) -> dict[str, Any]:
    """The reduce callbacks of one parse, by name (see `RULES` in _fastparse.py); each takes the popped values."""

    def span(a: Any, z: Any) -> Span:
        if a.__class__ is tuple:
            al, ac, ast_ = a[4], a[5], a[2]
        else:
            s = a.span
            al, ac, ast_ = s.line, s.col, s.start
        if z.__class__ is tuple:
            return S(file, al, ac, z[6], z[7], ast_, z[3])
        s = z.span
        return S(file, al, ac, s.end_line, s.end_col, ast_, s.end)

    def tspan(t: tuple) -> Span:
        return S(file, t[4], t[5], t[6], t[7], t[2], t[3])

    # ---- statements

    def start_list(c: list) -> list:
        return c[0]

    start_plus = _append_second
    start_one = _first_of
    def start_empty(c: list) -> list:
        return []

    stmts_first = _first_of  # _stmt _NL
    stmts_more = _append_second  # stmts _stmt _NL
    def block(c: list) -> n.Block:
        if len(c) == 2:
            stmts: tuple = ()
        elif len(c) == 4:
            stmts = (*c[1], c[2])
        elif isinstance(c[1], list):
            stmts = tuple(c[1])
        else:
            stmts = (c[1],)
        return n.Block(span(c[0], c[-1]), stmts)

    def assign(c: list) -> n.Assign:
        t, op, v = c
        ts, vs = t.span, v.span
        return ASSIGN(S(file, ts.line, ts.col, vs.end_line, vs.end_col, ts.start, vs.end), t, op[1], v)

    def let(c: list) -> n.Let:
        kw, name, _eq, value = c
        return n.Let(span(kw, value), name[1], value, tspan(name))

    def if_stmt(c: list) -> n.If:
        branches = [(c[1], c[2])]
        orelse = None
        if len(c) in (4, 6):
            branches.extend(c[3])
        if len(c) in (5, 6):
            orelse = c[-1]
        return n.If(span(c[0], branches[-1][1] if orelse is None else orelse), tuple(branches), orelse)

    def elifs_first(c: list) -> list:  # ELSE IF expr block
        return [(c[2], c[3])]

    def elifs_more(c: list) -> list:
        c[0].append((c[3], c[4]))
        return c[0]

    def for_stmt(c: list) -> n.For:
        kw, var, _in, iterable, body = c
        return n.For(span(kw, body), var[1], iterable, body, tspan(var))

    def skip(c: list) -> n.Skip:
        return n.Skip(span(c[0], c[-1]), c[1] if len(c) > 1 else None)

    def fail(c: list) -> n.Fail:
        return n.Fail(span(c[0], c[1]), c[1])

    def log(c: list) -> n.Log:
        return n.Log(span(c[0], c[1]), c[1])

    def value_map(c: list) -> n.ValueMap:
        rules: list = []
        otherwise, default = "keep", None
        for x in c[5:-1]:
            if isinstance(x, n.MapEntryRule):
                rules.append(x)
            elif isinstance(x, list):
                rules.extend(x)
            else:
                otherwise, default = x
        return n.ValueMap(span(c[0], c[-1]), c[1], c[3], tuple(rules), otherwise, default)

    map_rules_first = _first_after_separator  # _NL map_rule
    map_rules_more = _append_third
    def map_rule(c: list) -> n.MapEntryRule:
        left, arrow, right = c
        return n.MapEntryRule(span(left, right), left, arrow, right)

    def map_arrow(c: list) -> str:
        return c[0][1]

    def map_else(c: list) -> tuple:
        if c[1][0] == "DEFAULT":
            return "default", c[2]
        return c[1][1], None

    # ---- expressions

    def lambda_(c: list) -> n.Lambda:
        param, _arrow, body = c
        return LAMBDA(span(param, body), param[1], body, tspan(param))

    def cond(c: list) -> n.Cond:
        then, _if, test, _else, other = c
        return n.Cond(span(then, other), then, test, other)

    def chain(c: list) -> n.Expr:
        items: list = []
        for x in c:
            if x.__class__ is list:
                items.extend(x)
            else:
                items.append(x)
        if len(items) > 2 * max_operators + 1:
            raise Fallback
        return _Climber(items, span).parse(0)

    prefixes_first = _first_of
    prefixes_more = _append_second
    def ops_tail(c: list) -> list:  # [ops] _binop [prefixes] postfix, flattened
        out = c[0] if c[0].__class__ is list else [c[0]]
        for x in c[1:]:
            if x.__class__ is list:
                out.extend(x)
            else:
                out.append(x)
        return out

    def not_in(c: list) -> tuple:
        a, b = c
        return ("IN", "not in", a[2], b[3], a[4], a[5], b[6], b[7])

    def attr(c: list) -> n.Attr:
        obj, _dot, name = c
        s = obj.span
        return ATTR(S(file, s.line, s.col, name[6], name[7], s.start, name[3]), obj, name[1],
                    S(file, name[4], name[5], name[6], name[7], name[2], name[3]))

    def method_call(c: list) -> n.MethodCall:
        obj, name, close = c[0], c[2], c[-1]
        args = c[4] if len(c) == 6 else ()
        s = obj.span
        return MCALL(S(file, s.line, s.col, close[6], close[7], s.start, close[3]), obj, name[1], args,
                     S(file, name[4], name[5], name[6], name[7], name[2], name[3]))

    def index(c: list) -> n.Index:
        return INDEX(span(c[0], c[-1]), c[0], c[2])

    def args(c: list) -> tuple:
        if len(c) > 1 and c[1].__class__ is list:
            return (c[0], *c[1])
        return (c[0],)

    exprs_first = _first_after_separator  # COMMA expr
    exprs_more = _append_third
    def name(c: list) -> n.Name:
        t = c[0]
        return NAME_(S(file, t[4], t[5], t[6], t[7], t[2], t[3]), t[1])

    def call(c: list) -> n.Call:
        args = c[2] if len(c) == 4 else ()
        return n.Call(span(c[0], c[-1]), c[0][1], args, tspan(c[0]))

    def list_lit(c: list) -> n.ListLit:
        items: list = []
        for x in c[1:-1]:
            if x.__class__ is list:
                items.extend(x)
            elif x.__class__ is not tuple:
                items.append(x)
        return n.ListLit(span(c[0], c[-1]), tuple(items))

    def map_lit(c: list) -> n.MapLit:
        items: list = []
        for x in c[1:-1]:
            if x.__class__ is list:
                items.extend(x)
            elif x.__class__ is not tuple:
                items.append(x)
        return MAPLIT(span(c[0], c[-1]), tuple(items))

    def items_first(c: list) -> list:  # (COMMA | _NL) map_item
        return [c[1]]

    def items_more(c: list) -> list:
        c[0].append(c[2])
        return c[0]

    def map_item(c: list) -> n.MapEntry:
        key_tok, _colon, value = c
        key = key_tok[1] if key_tok[0] == "NAME" else string_value(key_tok)
        if key.__class__ is not str:
            raise Fallback
        ks = tspan(key_tok)
        vs = value.span
        return MENTRY(S(file, ks.line, ks.col, vs.end_line, vs.end_col, ks.start, vs.end), key, value, ks)

    def literal(c: list) -> n.Literal | n.Interp:
        tok = c[0]
        sp = S(file, tok[4], tok[5], tok[6], tok[7], tok[2], tok[3])
        t = tok[0]
        if t == "STRING" or t == "LONG_STRING":
            value = string_value(tok)
            if value.__class__ is tuple:
                return n.Interp(sp, value)
            return LIT(sp, value)
        if t == "NUMBER":
            text = tok[1].replace("_", "")
            return LIT(sp, float(text) if "." in text else int(text))
        if t == "NULL":
            return LIT(sp, None)
        return LIT(sp, t == "TRUE")

    def string_value(tok: tuple) -> str | tuple:
        raw = tok[1]
        q = 3 if tok[0] == "LONG_STRING" else 1
        body = raw[q:-q]
        interpolating = raw[0] == '"'
        if "\\" not in body and not (interpolating and "${" in body):
            return body
        parts: list[Any] = []
        buf: list[str] = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch == "\\":
                i = _escape(body, i, buf)
                continue
            if ch == "$" and interpolating and body.startswith("${", i):
                end = _find_close(body, i + 2)
                text = body[i + 2:end]
                if end < 0 or not text.strip():
                    raise Fallback
                if buf:
                    parts.append("".join(buf))
                    buf = []
                k = q + i + 2
                before = raw[:k]
                nl = before.count("\n")
                line, col = (tok[4] + nl, k - before.rfind("\n")) if nl else (tok[4], tok[5] + k)
                parts.append(sub_parse(text, line, col, tok[2] + k))
                i = end + 1
                continue
            buf.append(ch)
            i += 1
        if buf:
            parts.append("".join(buf))
        if all(p.__class__ is str for p in parts):
            return "".join(parts)
        return tuple(parts)

    helpers = ("span", "tspan", "string_value", "sub_parse")
    return {k: v for k, v in locals().items() if callable(v) and k not in helpers}


def _escape(body: str, i: int, buf: list[str]) -> int:
    nxt = body[i + 1] if i + 1 < len(body) else ""
    if nxt in _ESCAPES and nxt:
        buf.append(_ESCAPES[nxt])
        return i + 2
    if nxt == "u" and len(body) >= i + 6:
        try:
            code = int(body[i + 2:i + 6], 16)
        except ValueError:
            code = -1
        if 0 <= code and not 0xD800 <= code <= 0xDFFF:
            buf.append(chr(code))
            return i + 6
    if nxt == "\n":
        return i + 2
    raise Fallback


class _Climber:
    """Precedence climbing over operands (nodes) and operator token tuples, as `_operators.Climber` does."""

    __slots__ = ("items", "i", "span")

    def __init__(self, items: list, span: Callable[[Any, Any], Span]) -> None:
        self.items = items
        self.i = 0
        self.span = span

    def parse(self, min_power: int) -> n.Expr:
        items = self.items
        left = self._prefixed(min_power)
        while self.i < len(items):
            text = items[self.i][1]
            power = _BINARY[text]
            if power < min_power:
                break
            self.i += 1
            right = self.parse(power if text == "??" else power + 1)
            ls, rs = left.span, right.span
            sp = S(ls.file, ls.line, ls.col, rs.end_line, rs.end_col, ls.start, rs.end)
            if text == "??":
                left = n.Coalesce(sp, left, right)
            elif text == "and" or text == "or":
                left = n.BoolOp(sp, text, left, right)
            elif text == "|":
                left = n.Merge(sp, left, right)
            else:
                left = n.BinOp(sp, text, left, right)
            if power == _COMPARISON and self.i < len(items) and _BINARY[items[self.i][1]] == _COMPARISON:
                raise Fallback
        return left

    def _prefixed(self, min_power: int) -> n.Expr:
        item = self.items[self.i]
        self.i += 1
        if item.__class__ is not tuple:
            return item
        text = item[1]
        power = _NOT if text == "not" else _NEG
        if power < min_power:
            raise Fallback
        operand = self.parse(power)
        sp = self.span(item, operand)
        if text == "not":
            return n.Not(sp, operand)
        if isinstance(operand, n.Literal) and type(operand.value) in (int, float):
            return LIT(sp, -operand.value)
        return n.Neg(sp, operand)


# List-building rules (`items: item | items SEP item`) share these four shapes.
def _first_of(c: list) -> list:
    return [c[0]]


def _append_second(c: list) -> list:
    c[0].append(c[1])
    return c[0]


def _first_after_separator(c: list) -> list:
    return [c[1]]


def _append_third(c: list) -> list:
    c[0].append(c[2])
    return c[0]
