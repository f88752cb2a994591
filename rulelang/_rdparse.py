"""The fast path of `parse`: a recursive-descent parser giving the nodes (spans included) Lark's reference parse gives, or Fallback.

It follows grammar/rules.lark over the tokens of `_rdlex.lex`: statements (value maps of
connection scripts included) here, expressions in _rdexpr.py. Anything it does not take raises
Fallback, and Lark's own parser reads the text again and gives the diagnostic: every syntax
error (a word that starts with a keyword where only the keyword fits, `a input`, among them), a
limit within reach, and a few valid but rare texts that Lark's contextual lexer reads otherwise
than one regex pass or that are not worth a rule here: `a <-1` (`<-` after an operand),
`true.x = …`, and `and`/`or`/`not`/`in` used as a name just before a newline.
"""

from __future__ import annotations

from typing import Any

from . import nodes as n
from ._fastnodes import Fallback, S, joined, maker
from ._rdexpr import CONSTANTS, LIT, POSTFIX_KEYWORDS, ExprParser
from ._rdlex import END, END_STMT, LONG_TEXT, NUMBER, TEXT, WORD, lex

# Words that are keywords where a statement starts.
STATEMENT_KEYWORDS = frozenset({"let", "if", "for", "skip", "fail", "log", "map", "true", "false", "null"})
_ASSIGN_OPS = frozenset({"=", "+=", "-="})
_ARROWS = frozenset({"<->", "->", "<-"})
_STMT_END = frozenset({END_STMT, "}", END})

ASSIGN, LET, IF, FOR, BLOCK = maker(n.Assign), maker(n.Let), maker(n.If), maker(n.For), maker(n.Block)
SKIP, FAIL, LOG, VMAP, VRULE = maker(n.Skip), maker(n.Fail), maker(n.Log), maker(n.ValueMap), maker(n.MapEntryRule)


def parse(text: str, file: str, start: str, max_nesting: int, max_operators: int) -> tuple[Any, int]:
    """The value of `start` ("start": the statements; "expr": one expression) and a bound on a statement's tree height."""
    toks, longest = lex(text, 0, 1, 1, 0, max_nesting)
    p = Parser(toks, file, max_nesting, max_operators, 0)
    try:
        return (p.program() if start == "start" else p.whole_expr()), longest
    except (IndexError, RecursionError) as e:  # read past the end; nesting deeper than Python's stack
        raise Fallback from e


class Parser(ExprParser):
    """The statements of a program (`program`), on top of the expressions."""

    __slots__ = ()

    # ---- program and statements

    def program(self) -> list[n.Stmt]:
        return self.statements(END)

    def block(self) -> n.Block:
        toks = self.toks
        first = toks[self.i]
        if first[0] != "{":
            raise Fallback
        self.i += 1
        stmts = self.statements("}")
        last = toks[self.i]
        self.i += 1
        return BLOCK(S(self.file, first[3], first[4], last[3], last[4] + 1, first[2], last[2] + 1), tuple(stmts))

    def statements(self, until: str) -> list[n.Stmt]:
        """Statements, each ended by a statement end or by `until` (not consumed)."""
        toks = self.toks
        stmts = []
        while toks[self.i][0] != until:
            stmts.append(self.statement())
            k = toks[self.i][0]
            if k == END_STMT:
                self.i += 1
            elif k != until:
                raise Fallback
        return stmts

    def statement(self) -> n.Stmt:
        toks = self.toks
        t = toks[self.i]
        if t[0] == WORD and t[1] in _KEYWORD_STATEMENTS:
            return _KEYWORD_STATEMENTS[t[1]](self, t)
        target = self.postfix(STATEMENT_KEYWORDS)
        op = toks[self.i][0]
        if op not in _ASSIGN_OPS:
            raise Fallback
        self.i += 1
        value = self.expr()
        return ASSIGN(joined(target.span, value.span), target, op, value)

    def stmt_let(self, kw: tuple) -> n.Let:
        self.i += 1
        name = self.name_token()
        if self.toks[self.i][0] != "=":
            raise Fallback
        self.i += 1
        value = self.expr()
        return LET(self.to_node(kw, value), name[1], value, self.tspan(name))

    def stmt_if(self, kw: tuple) -> n.If:
        toks = self.toks
        self.i += 1
        branches = [(self.expr(), self.block())]
        orelse = None
        while toks[self.i][1] == "else":
            nxt = toks[self.i + 1]
            if nxt[1] == "if" and nxt[0] == WORD:
                self.i += 2
                branches.append((self.expr(), self.block()))
            elif nxt[0] == "{":
                self.i += 1
                orelse = self.block()
                break
            else:
                raise Fallback
        return IF(self.to_node(kw, branches[-1][1] if orelse is None else orelse), tuple(branches), orelse)

    def stmt_for(self, kw: tuple) -> n.For:
        self.i += 1
        var = self.name_token()
        if self.toks[self.i][1] != "in":
            raise Fallback
        self.i += 1
        iterable = self.expr()
        body = self.block()
        return FOR(self.to_node(kw, body), var[1], iterable, body, self.tspan(var))

    def stmt_skip(self, kw: tuple) -> n.Skip:
        self.i += 1
        if self.toks[self.i][0] in _STMT_END:
            return SKIP(self.tspan(kw), None)
        reason = self.expr()
        return SKIP(self.to_node(kw, reason), reason)

    def stmt_fail(self, kw: tuple) -> n.Fail:
        self.i += 1
        message = self.expr()
        return FAIL(self.to_node(kw, message), message)

    def stmt_log(self, kw: tuple) -> n.Log:
        self.i += 1
        value = self.expr()
        return LOG(self.to_node(kw, value), value)

    def stmt_map(self, kw: tuple) -> n.ValueMap:
        """`map A.issue.f <-> B.issue.g { "a" <-> "b"; "c" -> "d"; else keep|error|default "v" }`."""
        toks = self.toks
        self.i += 1
        left = self.postfix(POSTFIX_KEYWORDS)
        if toks[self.i][0] != "<->":
            raise Fallback
        self.i += 1
        right = self.postfix(POSTFIX_KEYWORDS)
        if toks[self.i][0] != "{":
            raise Fallback
        self.i += 1
        rules = []
        otherwise, default = "keep", None
        if toks[self.i][0] != "}" and toks[self.i][1] != "else":
            rules.append(self.map_rule())
            while toks[self.i][0] == END_STMT:
                self.i += 1
                rules.append(self.map_rule())
        if toks[self.i][1] == "else":  # the newline before `else` never ends a line
            kind = toks[self.i + 1][1]
            self.i += 2
            if kind == "default":
                otherwise, default = "default", self.literal_only()
            elif kind in ("keep", "error"):
                otherwise = kind
            else:
                raise Fallback
        last = toks[self.i]
        if last[0] != "}":
            raise Fallback
        self.i += 1
        return VMAP(S(self.file, kw[3], kw[4], last[3], last[4] + 1, kw[2], last[2] + 1), left, right, tuple(rules),
                    otherwise, default)

    def map_rule(self) -> n.MapEntryRule:
        left = self.literal_only()
        arrow = self.toks[self.i][0]
        if arrow not in _ARROWS:
            raise Fallback
        self.i += 1
        right = self.literal_only()
        return VRULE(joined(left.span, right.span), left, arrow, right)

    def literal_only(self) -> n.Expr:
        """`literal` where nothing else may stand (value maps): text, a number, true, false or null."""
        t = self.toks[self.i]
        if t[0] in (TEXT, LONG_TEXT, NUMBER):
            self.i += 1
            return self.literal(t)
        if t[0] == WORD and t[1] in POSTFIX_KEYWORDS:
            self.i += 1
            return LIT(self.tspan(t), CONSTANTS[t[1]])
        raise Fallback


# The statements that start with a keyword, by that keyword.
_KEYWORD_STATEMENTS = {"let": Parser.stmt_let, "if": Parser.stmt_if, "for": Parser.stmt_for, "skip": Parser.stmt_skip,
                       "fail": Parser.stmt_fail, "log": Parser.stmt_log, "map": Parser.stmt_map}
