"""Precedence climbing: a flat chain of operands and operator tokens → BinOp/BoolOp/… nodes."""

from __future__ import annotations

from typing import Any

from lark import Token

from . import nodes as n
from .errors import Diagnostic, RuleSyntaxError

# Binding power of binary operators; higher binds tighter.
_BINARY = {"??": 1, "or": 2, "and": 3, "==": 5, "!=": 5, "<": 5, "<=": 5, ">": 5, ">=": 5, "in": 5,
           "not in": 5, "|": 6, "+": 7, "-": 7, "*": 8, "/": 8, "%": 8}
_NOT = 4  # prefix `not` takes a comparison: `not a == b` is `not (a == b)`
_NEG = 9  # prefix `-` binds tightest
_COMPARISON = 5


class Climber:
    """Builds one chain. `items` holds nodes and Tokens; `not in` arrives as two tokens."""

    def __init__(self, builder: Any, items: list) -> None:
        self.b = builder
        self.items = _join_not_in(items)
        self.i = 0
        cap = builder.base.max_operators
        if len(self.items) > 2 * cap + 1:
            raise RuleSyntaxError(Diagnostic(
                "S111", f"expression too deeply nested: more than {cap} levels",
                builder.span(self.items[0], self.items[-1]), hint="split it with `let` variables"))

    def parse(self, min_power: int = 0) -> n.Expr:
        left = self._prefixed(min_power)
        while self.i < len(self.items):
            op = self.items[self.i]
            text = _op_text(op)
            power = _BINARY[text]
            if power < min_power:
                break
            self.i += 1
            # `??` is right-associative, comparisons do not chain, the rest are left-associative.
            right = self.parse(power if text == "??" else power + 1)
            left = self._binary(text, left, right)
            if power == _COMPARISON and self.i < len(self.items) and _BINARY[_op_text(self.items[self.i])] == _COMPARISON:
                nxt = self.items[self.i]
                raise RuleSyntaxError(Diagnostic(
                    "S102", f"comparisons do not chain: '{_op_text(nxt)}' cannot follow a comparison",
                    self.b.tspan(nxt) if isinstance(nxt, Token) else nxt.span,
                    hint="join two comparisons with 'and'"))
        return left

    def _prefixed(self, min_power: int) -> n.Expr:
        item = self.items[self.i]
        if not isinstance(item, Token):
            self.i += 1
            return item
        text = str(item)
        power = _NOT if text == "not" else _NEG
        if power < min_power:
            raise RuleSyntaxError(Diagnostic(
                "S102", f"put '{text} …' in parentheses here", self.b.tspan(item)))
        self.i += 1
        operand = self.parse(power)
        span = self.b.span(item, operand)
        if text == "not":
            return n.Not(span, operand)
        if isinstance(operand, n.Literal) and type(operand.value) in (int, float):
            return n.Literal(span, -operand.value)
        return n.Neg(span, operand)

    def _binary(self, op: str, left: n.Expr, right: n.Expr) -> n.Expr:
        span = left.span.to(right.span)
        if op == "??":
            return n.Coalesce(span, left, right)
        if op in ("and", "or"):
            return n.BoolOp(span, op, left, right)
        if op == "|":
            return n.Merge(span, left, right)
        return n.BinOp(span, op, left, right)


def _op_text(item: Any) -> str:
    return item if isinstance(item, str) and not isinstance(item, Token) else str(item)


def _join_not_in(items: list) -> list:
    """`not` directly after an operand is the first half of `not in`."""
    out: list = []
    k = 0
    while k < len(items):
        it = items[k]
        if (isinstance(it, Token) and it.type == "NOT" and out and not isinstance(out[-1], Token)
                and k + 1 < len(items) and isinstance(items[k + 1], Token) and items[k + 1].type == "IN"):
            out.append(Token("IN", "not in", it.start_pos, it.line, it.column, items[k + 1].end_line,
                             items[k + 1].end_column, items[k + 1].end_pos))
            k += 2
            continue
        out.append(it)
        k += 1
    return out
