"""The Lark callbacks that build rulelang nodes during LALR reductions (no Lark object escapes)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from lark import Token, Transformer

from . import nodes as n
from ._operators import climb_tokens
from .errors import Diagnostic, RuleSyntaxError
from .span import Span

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "$": "$", "0": "\0", "/": "/"}


class Base(threading.local):
    """Where the text being parsed starts in the file (non-zero while parsing a `${…}` part)."""

    file = "<rules>"
    line = 1
    col = 1
    offset = 0
    max_operators = 200  # ParseLimits.max_tree_depth of the parse under way


class Builder(Transformer):
    """Inline transformer: called bottom-up by the LALR parser, so deep input never recurses here."""

    def __init__(self, parse_expr: Any) -> None:
        super().__init__(visit_tokens=False)
        self.base = Base()
        self._parse_expr = parse_expr

    # ---- positions

    def tspan(self, tok: Token) -> Span:
        b = self.base
        line, col, end_line, end_col = tok.line, tok.column, tok.end_line, tok.end_column
        if line == 1:
            col += b.col - 1
        if end_line == 1:
            end_col += b.col - 1
        return Span(b.file, line + b.line - 1, col, end_line + b.line - 1, end_col,
                    tok.start_pos + b.offset, tok.end_pos + b.offset)

    def span(self, first: Any, last: Any) -> Span:
        a = first.span if isinstance(first, n.Node) else self.tspan(first)
        z = last.span if isinstance(last, n.Node) else self.tspan(last)
        return a.to(z)

    # ---- program and statements

    def start(self, c: list) -> list:
        return [x for x in c if isinstance(x, n.Stmt)]

    def block(self, c: list) -> n.Block:
        return n.Block(self.span(c[0], c[-1]), tuple(x for x in c if isinstance(x, n.Stmt)))

    def assign(self, c: list) -> n.Assign:
        target, op, value = c
        return n.Assign(self.span(target, value), target, str(op), value)

    def let(self, c: list) -> n.Let:
        kw, name, _eq, value = c
        return n.Let(self.span(kw, value), str(name), value, self.tspan(name))

    def if_stmt(self, c: list) -> n.If:
        branches: list[tuple[n.Expr, n.Block]] = []
        orelse = None
        i = 0
        while i < len(c):
            tok = c[i]
            if tok.type == "IF":
                branches.append((c[i + 1], c[i + 2]))
                i += 3
            elif isinstance(c[i + 1], n.Block):  # ELSE block
                orelse = c[i + 1]
                i += 2
            else:  # ELSE IF …: the IF is handled next round
                i += 1
        return n.If(self.span(c[0], c[-1]), tuple(branches), orelse)

    def for_stmt(self, c: list) -> n.For:
        kw, var, _in, iterable, body = c
        return n.For(self.span(kw, body), str(var), iterable, body, self.tspan(var))

    def skip(self, c: list) -> n.Skip:
        return n.Skip(self.span(c[0], c[-1]), c[1] if len(c) > 1 else None)

    def fail(self, c: list) -> n.Fail:
        return n.Fail(self.span(c[0], c[1]), c[1])

    def log(self, c: list) -> n.Log:
        return n.Log(self.span(c[0], c[1]), c[1])

    def value_map(self, c: list) -> n.ValueMap:
        left, right = c[1], c[3]
        rules = tuple(x for x in c if isinstance(x, n.MapEntryRule))
        otherwise, default = "keep", None
        for x in c:
            if isinstance(x, tuple):
                otherwise, default = x
        return n.ValueMap(self.span(c[0], c[-1]), left, right, rules, otherwise, default)

    def map_rule(self, c: list) -> n.MapEntryRule:
        left, arrow, right = c
        return n.MapEntryRule(self.span(left, right), left, arrow, right)

    def map_arrow(self, c: list) -> str:
        return str(c[0])

    def map_else(self, c: list) -> tuple[str, n.Literal | None]:
        if c[1].type == "DEFAULT":
            return "default", c[2]
        return str(c[1]), None

    # ---- expressions

    def lambda_(self, c: list) -> n.Lambda:
        param, _arrow, body = c
        return n.Lambda(self.span(param, body), str(param), body, self.tspan(param))

    def cond(self, c: list) -> n.Cond:
        then, _if, cond, _else, other = c
        return n.Cond(self.span(then, other), then, cond, other)

    def chain(self, c: list) -> n.Expr:
        return climb_tokens(self, c)

    def attr(self, c: list) -> n.Attr:
        obj, _dot, name = c
        return n.Attr(self.span(obj, name), obj, str(name), self.tspan(name))

    def method_call(self, c: list) -> n.MethodCall:
        obj, name = c[0], c[2]
        args = c[4] if isinstance(c[4], tuple) else ()
        return n.MethodCall(self.span(obj, c[-1]), obj, str(name), args, self.tspan(name))

    def index(self, c: list) -> n.Index:
        return n.Index(self.span(c[0], c[-1]), c[0], c[2])

    def args(self, c: list) -> tuple:
        return tuple(x for x in c if isinstance(x, n.Expr))

    def name(self, c: list) -> n.Name:
        return n.Name(self.tspan(c[0]), str(c[0]))

    def call(self, c: list) -> n.Call:
        args = c[2] if isinstance(c[2], tuple) else ()
        return n.Call(self.span(c[0], c[-1]), str(c[0]), args, self.tspan(c[0]))

    def atom(self, c: list) -> n.Expr:  # "(" expr ")"
        return c[1]

    def list_lit(self, c: list) -> n.ListLit:
        return n.ListLit(self.span(c[0], c[-1]), tuple(x for x in c if isinstance(x, n.Expr)))

    def map_lit(self, c: list) -> n.MapLit:
        # Duplicate keys are the checker's to report (R114), with every other finding of the file.
        entries = tuple(x for x in c if isinstance(x, n.MapEntry))
        return n.MapLit(self.span(c[0], c[-1]), entries)

    def map_item(self, c: list) -> n.MapEntry:
        key_tok, _colon, value = c
        key = str(key_tok) if key_tok.type == "NAME" else self.string_value(key_tok)
        if not isinstance(key, str):
            raise RuleSyntaxError(Diagnostic("S107", "map keys must be plain text, without ${…}",
                                             self.tspan(key_tok)))
        return n.MapEntry(self.span(key_tok, value), key, value, self.tspan(key_tok))

    def literal(self, c: list) -> n.Literal | n.Interp:
        tok = c[0]
        sp = self.tspan(tok)
        t = tok.type
        if t == "NUMBER":
            return n.Literal(sp, number_value(str(tok)))
        if t in ("TRUE", "FALSE"):
            return n.Literal(sp, t == "TRUE")
        if t == "NULL":
            return n.Literal(sp, None)
        value = self.string_value(tok)
        if isinstance(value, tuple):
            return n.Interp(sp, value)
        return n.Literal(sp, value)

    # ---- text

    def string_value(self, tok: Token) -> str | tuple:
        """The text of a STRING/LONG_STRING token; a tuple of parts when it holds `${…}`."""
        raw = str(tok)
        q = 3 if tok.type == "LONG_STRING" else 1
        body = raw[q:-q]

        def part(i: int, end: int) -> n.Expr:
            if end < 0:
                raise self._err_at(tok, q + i, 2, "S104", "unclosed '${' in text")
            return self._sub_expr(tok, body[i + 2:end], q + i + 2)

        return text_parts(body, raw[0] == '"', lambda i: self._bad_escape(tok, body, i, q), part)

    def _bad_escape(self, tok: Token, body: str, i: int, q: int) -> RuleSyntaxError:
        nxt = body[i + 1:i + 2]
        if nxt == "u" and len(body) >= i + 6:
            return self._err_at(tok, q + i, 6, "S108", f"bad unicode escape '\\u{body[i + 2:i + 6]}'")
        return self._err_at(tok, q + i, 2, "S108", f"unknown escape '\\{nxt}' in text",
                            hint="write '\\\\' for a backslash")

    def _pos_in_token(self, tok: Token, k: int) -> tuple[int, int]:
        """Line and column of character k of the token's text."""
        raw = str(tok)
        before = raw[:k]
        nl = before.count("\n")
        if nl:
            return tok.line + nl, k - before.rfind("\n")
        return tok.line, tok.column + k

    def _err_at(self, tok: Token, k: int, width: int, code: str, message: str,
                hint: str | None = None) -> RuleSyntaxError:
        line, col = self._pos_in_token(tok, k)
        b = self.base
        if line == 1:
            col += b.col - 1
        off = tok.start_pos + k + b.offset
        span = Span(b.file, line + b.line - 1, col, line + b.line - 1, col + width, off, off + width)
        return RuleSyntaxError(Diagnostic(code, message, span, hint=hint))

    def _sub_expr(self, tok: Token, text: str, k: int) -> n.Expr:
        if not text.strip():
            raise self._err_at(tok, k - 2, 3, "S102", "expected a value inside '${…}'")
        line, col = self._pos_in_token(tok, k)
        b = self.base
        saved = (b.line, b.col, b.offset)
        if line == 1:
            col += b.col - 1
        b.line, b.col, b.offset = line + b.line - 1, col, tok.start_pos + k + b.offset
        try:
            return self._parse_expr(text)
        finally:
            b.line, b.col, b.offset = saved


def number_value(text: str) -> int | float:
    """42, 3.5, 1_000_000."""
    if "_" in text:
        text = text.replace("_", "")
    return float(text) if "." in text else int(text)


def text_parts(body: str, interpolating: bool, bad_escape: Callable[[int], Exception],
               part: Callable[[int, int], Any]) -> str | tuple:
    """The text between the quotes of a text token; a tuple of str and nodes when it holds `${…}` parts.

    `bad_escape(i)` is the error to raise for the escape at body[i]; `part(i, end)` parses the
    `${…}` at body[i] whose '}' is at body[end] (-1: none), or raises.
    """
    parts: list[Any] = []
    buf: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            after = read_escape(body, i, buf)
            if after < 0:
                raise bad_escape(i)
            i = after
            continue
        if ch == "$" and interpolating and body.startswith("${", i):
            end = _find_close(body, i + 2)
            node = part(i, end)
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(node)
            i = end + 1
            continue
        buf.append(ch)
        i += 1
    if buf:
        parts.append("".join(buf))
    if all(isinstance(p, str) for p in parts):
        return "".join(parts)
    return tuple(parts)


def read_escape(body: str, i: int, buf: list[str]) -> int:
    """Append the character the escape at body[i] stands for; the index after the escape, or -1 if it is none."""
    nxt = body[i + 1:i + 2]
    if nxt and nxt in _ESCAPES:
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
        return -1
    if nxt == "\n":  # a backslash at the end of a line in """ text joins the lines
        return i + 2
    return -1


def _find_close(body: str, i: int) -> int:
    """Index of the '}' closing a `${` whose content starts at i, skipping quoted text; -1 if none."""
    depth = 0
    quote = ""
    while i < len(body):
        ch = body[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1
