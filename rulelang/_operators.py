"""Precedence climbing: a flat chain of operands and operators → BinOp/BoolOp/… nodes, for both parse paths."""

from __future__ import annotations

from typing import Any

from lark import Token

from . import nodes as n
from ._fastnodes import S, joined, maker
from .errors import Diagnostic, RuleSyntaxError

# Binding power of binary operators; higher binds tighter.
BINARY = {"??": 1, "or": 2, "and": 3, "==": 5, "!=": 5, "<": 5, "<=": 5, ">": 5, ">=": 5, "in": 5,
          "not in": 5, "|": 6, "+": 7, "-": 7, "*": 8, "/": 8, "%": 8}
_NOT = 4  # prefix `not` takes a comparison: `not a == b` is `not (a == b)`
_NEG = 9  # prefix `-` binds tightest
_COMPARISON = 5

_NOT_NODE, _NEG_NODE, _LIT = maker(n.Not), maker(n.Neg), maker(n.Literal)
_COALESCE, _BOOLOP, _MERGE, _BINOP = maker(n.Coalesce), maker(n.BoolOp), maker(n.Merge), maker(n.BinOp)


class Misplaced(Exception):
    """The chain does not parse: `items[index]` is a comparison after a comparison ("chain"), or a prefix
    operator where it binds looser than what stands before it ("prefix"). Each parse path words it."""

    def __init__(self, index: int, kind: str) -> None:
        super().__init__(kind)
        self.index, self.kind = index, kind


class Climber:
    """One chain. `items` alternate operands (nodes) and binary operators (their text, `not in` as one);
    a prefix operator before an operand is a token tuple `(kind, text, start offset, line, column)`."""

    __slots__ = ("items", "i")

    def __init__(self, items: list) -> None:
        self.items = items
        self.i = 0

    def parse(self, min_power: int = 0) -> n.Expr:
        items = self.items
        left = self._prefixed(min_power)
        while self.i < len(items):
            op = items[self.i]
            power = BINARY[op]
            if power < min_power:
                break
            self.i += 1
            # `??` is right-associative, comparisons do not chain, the rest are left-associative.
            right = self.parse(power if op == "??" else power + 1)
            sp = joined(left.span, right.span)
            if op == "??":
                left = _COALESCE(sp, left, right)
            elif op == "and" or op == "or":
                left = _BOOLOP(sp, op, left, right)
            elif op == "|":
                left = _MERGE(sp, left, right)
            else:
                left = _BINOP(sp, op, left, right)
            if power == _COMPARISON and self.i < len(items) and BINARY[items[self.i]] == _COMPARISON:
                raise Misplaced(self.i, "chain")
        return left

    def _prefixed(self, min_power: int) -> n.Expr:
        item = self.items[self.i]
        if item.__class__ is not tuple:
            self.i += 1
            return item
        text = item[1]
        power = _NOT if text == "not" else _NEG
        if power < min_power:
            raise Misplaced(self.i, "prefix")
        self.i += 1
        operand = self.parse(power)
        s = operand.span
        sp = S(s.file, item[3], item[4], s.end_line, s.end_col, item[2], s.end)
        if text == "not":
            return _NOT_NODE(sp, operand)
        if operand.__class__ is n.Literal and type(operand.value) in (int, float):
            return _LIT(sp, -operand.value)
        return _NEG_NODE(sp, operand)


def climb_tokens(builder: Any, items: list) -> n.Expr:
    """The chain as Lark's parse gives it (nodes and Tokens; `not in` as two), with positioned syntax errors."""
    items = _join_not_in(items)
    cap = builder.base.max_operators
    if len(items) > 2 * cap + 1:
        raise RuleSyntaxError(Diagnostic(
            "S111", f"expression too deeply nested: more than {cap} levels",
            builder.span(items[0], items[-1]), hint="split it with `let` variables"))
    chain: list = []
    operand_next = True  # a token where an operand is due is a prefix operator, else a binary one
    for item in items:
        if not isinstance(item, Token):
            chain.append(item)
            operand_next = False
        elif operand_next:
            sp = builder.tspan(item)
            chain.append((item.type, str(item), sp.start, sp.line, sp.col))
        else:
            chain.append(str(item))
            operand_next = True
    try:
        return Climber(chain).parse()
    except Misplaced as e:
        item = items[e.index]
        if e.kind == "prefix":
            raise RuleSyntaxError(Diagnostic("S102", f"put '{item} …' in parentheses here",
                                             builder.tspan(item))) from None
        raise RuleSyntaxError(Diagnostic(
            "S102", f"comparisons do not chain: '{item}' cannot follow a comparison",
            builder.tspan(item) if isinstance(item, Token) else item.span,
            hint="join two comparisons with 'and'")) from None


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
