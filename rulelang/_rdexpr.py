"""Expressions for the recursive-descent parser: operands, postfix chains, operators by precedence, conditions, lambdas, literals.

Where Lark's contextual lexer reads a word as a keyword depends on the parser state; the keyword
sets here and in _rdparse.py are those of the LALR states at each place (a test compares them
with Lark's). Anything else raises Fallback (see _rdparse.py).
"""

from __future__ import annotations

from . import nodes as n
from ._build import number_value
from ._fastnodes import Fallback, S, joined, maker
from ._operators import BINARY, Climber, Misplaced
from ._rdlex import END, END_STMT, LONG_TEXT, NUMBER, TEXT, WORD, lex
from ._rdtext import text_value
from .span import Span

# Words that are keywords where an operand starts (`not` a prefix), and where only a postfix
# expression may start (the operands of `map … <-> …`; literals in value maps).
OPERAND_KEYWORDS = frozenset({"true", "false", "null", "not"})
POSTFIX_KEYWORDS = frozenset({"true", "false", "null"})
CONSTANTS = {"true": True, "false": False, "null": None}

# The texts of tokens that are binary operators after an operand (`not` there starts `not in`).
_BINARY = frozenset(BINARY) | {"not"}

NAME, ATTR, INDEX, CALL, MCALL = maker(n.Name), maker(n.Attr), maker(n.Index), maker(n.Call), maker(n.MethodCall)
LIT, INTERP, LAMBDA, LISTLIT = maker(n.Literal), maker(n.Interp), maker(n.Lambda), maker(n.ListLit)
MAPLIT, MENTRY, COND = maker(n.MapLit), maker(n.MapEntry), maker(n.Cond)


class ExprParser:
    """One parse of one token list (the file's, or a `${…}` part's): a method per grammar rule, `i` the next token."""

    __slots__ = ("toks", "i", "file", "max_nesting", "max_operators", "depth")

    def __init__(self, toks: list[tuple], file: str, max_nesting: int, max_operators: int, depth: int) -> None:
        self.toks = toks
        self.i = 0
        self.file = file
        self.max_nesting = max_nesting
        self.max_operators = max_operators
        self.depth = depth  # brackets open around this text in the file (a `${…}` part's)

    # ---- positions

    def tspan(self, t: tuple) -> Span:
        """The span of a one-line token."""
        k = len(t[1])
        return S(self.file, t[3], t[4], t[3], t[4] + k, t[2], t[2] + k)

    def to_token(self, a: Span, t: tuple) -> Span:
        """From the start of `a` to the end of the one-line token `t`."""
        k = len(t[1])
        return S(self.file, a.line, a.col, t[3], t[4] + k, a.start, t[2] + k)

    def to_node(self, t: tuple, z: n.Node) -> Span:
        """From the start of token `t` to the end of node `z`."""
        s = z.span
        return S(self.file, t[3], t[4], s.end_line, s.end_col, t[2], s.end)

    def whole_expr(self) -> n.Expr:
        value = self.expr()
        if self.toks[self.i][0] != END:
            raise Fallback
        return value

    def name_token(self) -> tuple:
        """A word where only NAME is accepted (after `let`, `for`, a dot; a map key): any word, keywords too."""
        t = self.toks[self.i]
        if t[0] != WORD or "." in t[1]:
            raise Fallback
        self.i += 1
        return t

    # ---- expressions

    def expr(self) -> n.Expr:
        toks = self.toks
        t = toks[self.i]
        if t[0] == WORD and toks[self.i + 1][0] == "->" and t[1] not in OPERAND_KEYWORDS and "." not in t[1]:
            self.i += 2
            body = self.expr()
            s = body.span
            return LAMBDA(S(self.file, t[3], t[4], s.end_line, s.end_col, t[2], s.end), t[1], body, self.tspan(t))
        then = self.operators()
        t = toks[self.i]
        if t[1] != "if" or t[0] != WORD:
            return then
        return self.cond(then)

    def cond(self, then: n.Expr) -> n.Cond:
        """`then if test else other`, the `if` next (right-associative: `other` may be a cond again)."""
        toks = self.toks
        self.i += 1
        test = self.operators()
        t = toks[self.i]
        if t[1] != "else" or t[0] != WORD:
            raise Fallback
        self.i += 1
        other = self.operators()
        t = toks[self.i]
        if t[1] == "if" and t[0] == WORD:
            other = self.cond(other)
        return COND(joined(then.span, other.span), then, test, other)

    def operators(self) -> n.Expr:
        """Operands, prefix and binary operators, arranged by precedence as `_operators.Climber` does."""
        toks = self.toks
        t = toks[self.i]
        if t[1] != "-" and t[1] != "not":
            left = self.postfix(OPERAND_KEYWORDS)
            t = toks[self.i]
            if t[1] not in _BINARY:
                return left  # no operator: most expressions
            items: list = [left]
        else:
            items = []
        while True:
            if items:
                op = t[1]
                if op not in _BINARY:
                    break
                if op == "not":
                    if toks[self.i + 1][1] != "in":
                        raise Fallback
                    op = "not in"
                    self.i += 1
                self.i += 1
                items.append(op)
            t = toks[self.i]
            while t[1] == "-" or t[1] == "not":
                items.append(t)
                self.i += 1
                t = toks[self.i]
            items.append(self.postfix(OPERAND_KEYWORDS))
            t = toks[self.i]
        if len(items) > 2 * self.max_operators + 1:
            raise Fallback
        try:
            return Climber(items).parse()
        except Misplaced:  # `a < b < c`, `a == not b`: the reference says what is wrong
            raise Fallback from None

    def postfix(self, keywords: frozenset[str]) -> n.Expr:
        toks = self.toks
        t = toks[self.i]
        k = t[0]
        if k == WORD:
            word = t[1]
            if "." in word:
                head = word[:word.index(".")]
                if head in keywords:
                    raise Fallback
                obj = NAME(S(self.file, t[3], t[4], t[3], t[4] + len(head), t[2], t[2] + len(head)), head)
                node = self.links(obj, word[len(head) + 1:], t[3], t[4] + len(head) + 1, t[2] + len(head) + 1)
            elif word in keywords:
                if word == "not":
                    raise Fallback
                self.i += 1
                node = LIT(self.tspan(t), CONSTANTS[word])
            elif toks[self.i + 1][0] == "(":
                self.i += 2
                args = self.items(")")
                last = toks[self.i - 1]
                node = CALL(self.to_token(sp := self.tspan(t), last), word, args, sp)
            else:
                self.i += 1
                node = NAME(self.tspan(t), word)
        elif k == TEXT or k == NUMBER or k == LONG_TEXT:
            self.i += 1
            node = self.literal(t)
        elif k == "(":
            self.i += 1
            node = self.expr()  # the parentheses are in no span: the node is the expression's
            if toks[self.i][0] != ")":
                raise Fallback
            self.i += 1
        elif k == "[":
            self.i += 1
            items = self.items("]")
            node = LISTLIT(self.to_token(self.tspan(t), toks[self.i - 1]), items)
        elif k == "{":
            node = self.map_lit(t)
        else:
            raise Fallback
        while True:
            k = toks[self.i][0]
            if k == ".":
                w = toks[self.i + 1]
                if w[0] != WORD:
                    raise Fallback
                self.i += 1
                node = self.links(node, w[1], w[3], w[4], w[2])
            elif k == "[":
                self.i += 1
                index = self.expr()
                last = toks[self.i]
                if last[0] != "]":
                    raise Fallback
                self.i += 1
                node = INDEX(self.to_token(node.span, last), node, index)
            else:
                return node

    def links(self, obj: n.Expr, path: str, line: int, col: int, start: int) -> n.Expr:
        """`obj.a.b…` for the word token at `i` holding `path` (placed at line/col/start): an Attr per
        word, and a MethodCall for the last one when '(' follows."""
        file = self.file
        s = obj.span
        ol, oc, ostart = s.line, s.col, s.start
        words = path.split(".")
        last = len(words) - 1
        for j, word in enumerate(words):
            end_col = col + len(word)
            end = start + len(word)
            name_span = S(file, line, col, line, end_col, start, end)
            if j == last and self.toks[self.i + 1][0] == "(":
                self.i += 2
                args = self.items(")")
                close = self.toks[self.i - 1]
                return MCALL(S(file, ol, oc, close[3], close[4] + 1, ostart, close[2] + 1), obj, word, args, name_span)
            obj = ATTR(S(file, ol, oc, line, end_col, ostart, end), obj, word, name_span)
            col, start = end_col + 1, end + 1
        self.i += 1
        return obj

    def items(self, close: str) -> tuple[n.Expr, ...]:
        """`expr ("," expr)* ","?` up to `close`, which is consumed (the opener is already)."""
        toks = self.toks
        if toks[self.i][0] == close:
            self.i += 1
            return ()
        out = []
        while True:
            out.append(self.expr())
            k = toks[self.i][0]
            self.i += 1
            if k == ",":
                if toks[self.i][0] == close:
                    self.i += 1
                    return tuple(out)
            elif k == close:
                return tuple(out)
            else:
                raise Fallback

    def map_lit(self, first: tuple) -> n.MapLit:
        """`{key: value, 'text key': value}`; items part on ',' or a newline."""
        toks = self.toks
        self.i += 1
        entries = []
        if toks[self.i][0] != "}":
            while True:
                t = toks[self.i]
                if t[0] == TEXT:
                    key = text_value(t, self.sub_expr)
                    if key.__class__ is not str:  # text with `${…}`: S107
                        raise Fallback
                    self.i += 1
                else:
                    key = self.name_token()[1]
                if toks[self.i][0] != ":":
                    raise Fallback
                self.i += 1
                value = self.expr()
                key_span = self.tspan(t)
                vs = value.span
                entries.append(MENTRY(S(self.file, t[3], t[4], vs.end_line, vs.end_col, t[2], vs.end), key, value,
                                      key_span))
                k = toks[self.i][0]
                if k == ",":
                    self.i += 1
                    if toks[self.i][0] == "}":
                        break
                elif k == END_STMT:
                    self.i += 1
                elif k == "}":
                    break
                else:
                    raise Fallback
        last = toks[self.i]
        self.i += 1
        return MAPLIT(S(self.file, first[3], first[4], last[3], last[4] + 1, first[2], last[2] + 1), tuple(entries))

    def literal(self, t: tuple) -> n.Expr:
        k = t[0]
        if k == NUMBER:
            return LIT(self.tspan(t), number_value(t[1]))
        raw = t[1]
        if k == LONG_TEXT and "\n" in raw:
            nl = raw.count("\n")
            span = S(self.file, t[3], t[4], t[3] + nl, len(raw) - raw.rindex("\n"), t[2], t[2] + len(raw))
        else:
            span = self.tspan(t)
        value = text_value(t, self.sub_expr)
        return LIT(span, value) if value.__class__ is str else INTERP(span, value)

    def sub_expr(self, text: str, line: int, col: int, start: int, outer_depth: int) -> n.Expr:
        """A `${…}` part, placed in the file. Lark counts the brackets open around it when the token after
        the text is read, so one more than `outer_depth` may be open then: the limit is checked for that many."""
        depth = self.depth + outer_depth + 1
        toks, _height = lex(text, start, line, col, depth, self.max_nesting)
        return ExprParser(toks, self.file, self.max_nesting, self.max_operators, depth).whole_expr()
