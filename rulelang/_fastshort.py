"""The fast parser's one-line shortcut: a statement `a.b = c.d` read with one regex where the LALR table says it may be.

Most lines of a sync rule copy one field to another (`replica.summary = issue.summary`). The
token loop spends about ten table steps and eight tokens on such a line; this shortcut reads
the rest of the line with one regex and builds the Assign at once, leaving on the parser's
stack exactly what the token loop would have left (the statement, then its _NL).

Whether that holds is decided from the table, once per (parser state, link counts): the token
types of the line are fed to the table symbolically (`simulate`), which must make exactly the
reductions the shortcut stands for (`name`, `attr` per link, `assign`, and pass-through rules)
without reaching below the statement's first state; and each token must be lexed, in the state
the token loop would lex it in, as the shortcut reads it (`_lexes_like_the_regex`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import nodes as n
from ._fastlex import IGNORED, PLAIN
from ._fastnodes import ASSIGN, ATTR, NAME_, S

# The rest of a line after its first NAME: target links, the operator, the value path, an optional
# `//` comment and the newline. Blanks are those Lark ignores (`%ignore /[ \t\f\r]+/`).
ASSIGN_LINE = re.compile(r"((?:\.[A-Za-z][A-Za-z0-9_]*)*)[ \t\f\r]*(=|\+=|-=)[ \t\f\r]*"
                         r"([A-Za-z][A-Za-z0-9_]*)((?:\.[A-Za-z][A-Za-z0-9_]*)*)[ \t\f\r]*(//[^\n]*)?\n")


class AssignPlan:
    """What the table does with `NAME (DOT NAME)*k1 ASSIGN_OP NAME (DOT NAME)*k2 _NL` from one state.

    `states`: the two states the line leaves on the stack (the statement's, then the _NL's);
    `value_keywords`: words the value's first NAME would be retyped as (a keyword: not a path);
    `comment`: whether a `//` comment before the newline is lexed as the ignored COMMENT there.
    """

    __slots__ = ("states", "value_keywords", "comment")

    def __init__(self, states: tuple[int, int], value_keywords: dict[str, str], comment: bool) -> None:
        self.states = states
        self.value_keywords = value_keywords
        self.comment = comment


def simulate(actions: list[dict[str, Any]], fn_names: list[str], state: int,
             types: list[str]) -> tuple[list[int], list[tuple], list[tuple]] | None:
    """Feed token types to the table from `state`, symbolically, as `FastParser._run` feeds tokens.

    Returns the state each token is lexed in; the reductions that call a builder, in order, as
    (callback name, its arguments as ("tok", i) or ("node", j): the j-th such reduction's value);
    and the (state, value) pairs left above `state`. None when the table refuses a token or a
    reduction would pop `state` itself (then the outcome depends on what lies below).
    """
    stack: list[int] = [state]
    vals: list[tuple | None] = [None]
    lexed: list[int] = []
    calls: list[tuple] = []
    for i, typ in enumerate(types):
        lexed.append(stack[-1])
        while True:
            act = actions[stack[-1]].get(typ)
            if act is None:
                return None
            if act.__class__ is int:
                break
            if act.__class__ is str:
                size, fn, origin, keep = 1, -1, act, 0
            elif act.__class__ is list:
                size, fn, origin, keep = 1, act[0], act[1], -1
            else:
                size, fn, origin, keep = act
            if size >= len(stack):
                return None
            popped = vals[len(vals) - size:]
            if keep >= 0:
                value = popped[keep]
            else:
                calls.append((fn_names[fn], tuple(popped)))
                value = ("node", len(calls) - 1)
            del stack[len(stack) - size:]
            del vals[len(vals) - size:]
            goto = actions[stack[-1]].get(origin)
            if goto.__class__ is not int:
                return None
            stack.append(goto)
            vals.append(value)
        stack.append(act)
        vals.append(("tok", i))
    return lexed, calls, list(zip(stack[1:], vals[1:], strict=True))


def assign_plan(parser: Any, state: int, k1: int, k2: int) -> AssignPlan | None:
    """The plan for an assignment line with k1 target links and k2 value links from `state`, or None."""
    types = ["NAME", *["DOT", "NAME"] * k1, "ASSIGN_OP", "NAME", *["DOT", "NAME"] * k2, "_NL"]
    run = simulate(parser.actions, parser.fn_names, state, types)
    if run is None:
        return None
    lexed, calls, left = run
    op = 1 + 2 * k1
    expected: list[tuple] = [("name", (("tok", 0),))]
    expected += [("attr", (("node", j), ("tok", 1 + 2 * j), ("tok", 2 + 2 * j))) for j in range(k1)]
    target = len(expected) - 1
    expected.append(("name", (("tok", op + 1),)))
    expected += [("attr", (("node", target + 1 + j), ("tok", op + 2 + 2 * j), ("tok", op + 3 + 2 * j)))
                 for j in range(k2)]
    expected.append(("assign", (("node", target), ("tok", op), ("node", len(expected) - 1))))
    if calls != expected or [v for _, v in left] != [("node", len(expected) - 1), ("tok", len(types) - 1)]:
        return None
    lex = parser.lex.get
    link_words = [2 + 2 * j for j in range(k1)] + [op + 3 + 2 * j for j in range(k2)]
    if any(lex(lexed[i]).name_kind != PLAIN for i in link_words):
        return None
    value = lex(lexed[op + 1])
    if value.name_kind is None or not _lexes_like_the_regex(lex(lexed[op])):
        return None
    comment = lex(lexed[-1])
    m = comment.regex.match("  // note")
    ok = m is not None and comment.kinds[m.lastindex] == IGNORED and m.end() == len("  // note")
    return AssignPlan((left[0][0], left[1][0]), value.retype.get("NAME", {}), ok)


def _lexes_like_the_regex(lx: Any) -> bool:
    """The state's lexer reads `=`, `+=` and `-=` before a blank or a word as one ASSIGN_OP, as ASSIGN_LINE does."""
    for op in ("=", "+=", "-="):
        for after in (" x", "x", "\tx"):
            m = lx.regex.match(" " + op + after)
            if m is None or lx.names[m.lastindex] != "ASSIGN_OP" or m.span(m.lastindex) != (1, 1 + len(op)):
                return False
            if lx.retype.get("ASSIGN_OP", {}).get(op, "ASSIGN_OP") != "ASSIGN_OP":
                return False
    return True


def may_start(parser: Any, state: int) -> bool:
    """Whether the table takes `NAME ASSIGN_OP NAME _NL` or `NAME DOT NAME ASSIGN_OP NAME _NL` from this state
    (only there is the shortcut tried; assign_plan decides each line's shape)."""
    ok = any(simulate(parser.actions, parser.fn_names, state, types) is not None
             for types in (["NAME", "ASSIGN_OP", "NAME", "_NL"], ["NAME", "DOT", "NAME", "ASSIGN_OP", "NAME", "_NL"]))
    parser.starts[state] = ok
    return ok


def line_builder(file: str) -> Callable[..., tuple[n.Assign, tuple]]:
    """The builder of one parse's shortcut lines: nodes equal to what `_fastbuild`'s `name`, `attr` and `assign` make."""

    def path(text: str, begin: int, end: int, line: int, line_start: int, off: int) -> n.Expr:
        """`a.b.c` at text[begin:end] on one line: what `name` and then `attr` per link make of its tokens."""
        words = text[begin:end].split(".")
        word = words[0]
        c0 = begin - line_start + 1
        e, ce = begin + len(word), c0 + len(word)
        start = begin + off
        obj = NAME_(S(file, line, c0, line, ce, start, e + off), word)
        for k in range(1, len(words)):
            word = words[k]
            b, cb = e + 1, ce + 1
            e, ce = b + len(word), cb + len(word)
            obj = ATTR(S(file, line, c0, line, ce, start, e + off), obj, word,
                       S(file, line, cb, line, ce, b + off, e + off))
        return obj

    def assign_line(text: str, begin: int, m: Any, line: int, line_start: int, off: int) -> tuple[n.Assign, tuple]:
        """The line ASSIGN_LINE matched after the NAME at `begin`: its Assign, and its _NL token."""
        t = path(text, begin, m.end(1), line, line_start, off)
        v = path(text, m.start(3), m.end(4), line, line_start, off)
        ts, vs = t.span, v.span
        nl = m.end() - 1
        c = nl - line_start + 1
        return (ASSIGN(S(file, line, ts.col, line, vs.end_col, ts.start, vs.end), t, m.group(2), v),
                ("_NL", "\n", nl + off, nl + 1 + off, line, c, line + 1, 1))

    return assign_line
