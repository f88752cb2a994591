"""The post-lexer between Lark's lexer and parser: statement ends, bracket balance and nesting depth."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from lark import Token

from .errors import Diagnostic, RuleSyntaxError
from .span import Span

OPENERS = {"(": ")", "[": "]", "{": "}"}
CLOSERS = {")": "(", "]": "[", "}": "{"}

# A newline right after a binary operator continues the expression (`"a" +⏎ "b"`), as in Go:
# a line that ends with an operator cannot end a statement anyway.
BINARY_OPERATORS = frozenset({"ADD_OP", "MUL_OP", "COMP_OP", "AND", "OR", "NOT", "IN", "VBAR", "MINUS",
                              "COALESCE"})


@dataclass
class Open:
    char: str
    line: int
    col: int
    offset: int


class PostLexer:
    """Turns newlines and ';' into _NL tokens where they can end a statement, and checks brackets.

    Lark calls `process` once per parse; per-parse state (the open brackets,
    kept for error messages) lives in a thread-local.
    """

    always_accept = ("_NL",)

    def __init__(self) -> None:
        self._local = threading.local()
        self.file = "<rules>"
        self.max_depth = 32
        self.base = None  # the Builder's Base: where the text parsed now starts in the file

    @property
    def open_brackets(self) -> list[Open]:
        return getattr(self._local, "stack", [])

    def configure(self, file: str, max_depth: int, text: str, depth_offset: int = 0) -> None:
        self._local.file = file
        self._local.text = text
        self._local.max_depth = max_depth
        self._local.depth_offset = depth_offset  # brackets already open around a `${…}` part
        self._local.stack = []

    def save(self) -> tuple:
        """The per-parse state, so that parsing a `${…}` part inside a parse can restore it."""
        loc = self._local
        return (getattr(loc, "file", "<rules>"), getattr(loc, "text", ""), getattr(loc, "max_depth", 32),
                getattr(loc, "depth_offset", 0), getattr(loc, "stack", []))

    def restore(self, state: tuple) -> None:
        loc = self._local
        loc.file, loc.text, loc.max_depth, loc.depth_offset, loc.stack = state

    def span(self, line: int, col: int, end_line: int, end_col: int, start: int, end: int) -> Span:
        """A span in the file for a position in the text parsed now (shifted inside `${…}`)."""
        b = self.base
        file = getattr(self._local, "file", "<rules>")
        if b is None:
            return Span(file, line, col, end_line, end_col, start, end)
        if line == 1:
            col += b.col - 1
        if end_line == 1:
            end_col += b.col - 1
        return Span(file, line + b.line - 1, col, end_line + b.line - 1, end_col, start + b.offset, end + b.offset)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        # No token look-ahead here: Lark's contextual lexer lexes each token in the parser
        # state of the moment, so holding one back would lex the next in the wrong state.
        # Whether a newline continues the statement is decided from the raw text instead.
        max_depth = getattr(self._local, "max_depth", 32)
        depth_offset = getattr(self._local, "depth_offset", 0)
        text = getattr(self._local, "text", "")
        stack: list[Open] = []
        self._local.stack = stack
        last_type = None  # type of the last token emitted (None: start of file)
        for tok in stream:
            if tok.type == "_NL":
                if stack and stack[-1].char in "([":
                    if tok.value == ";":
                        raise self._error(tok, "S102", "unexpected ';' inside brackets")
                    continue
                if (last_type in (None, "LBRACE", "COMMA", "_NL") or last_type in BINARY_OPERATORS
                        or continues(text, tok.end_pos)):
                    continue
            else:
                v = tok.value
                if tok.type in ("LBRACE", "LSQB", "LPAR"):
                    stack.append(Open(v, tok.line, tok.column, tok.start_pos))
                    if len(stack) + depth_offset > max_depth:
                        raise self._error(tok, "S111",
                                     f"nesting too deep: more than {max_depth} levels of brackets and blocks",
                                     hint="split the expression with `let` variables")
                elif tok.type in ("RBRACE", "RSQB", "RPAR"):
                    want = CLOSERS[v]
                    if not stack:
                        raise self._error(tok, "S103", f"unexpected '{v}': no '{want}' is open")
                    top = stack[-1]
                    if top.char != want:
                        raise self._error(tok, "S103",
                                     f"mismatched '{v}': '{top.char}' opened at line {top.line}, "
                                     f"column {top.col} is still open")
                    stack.pop()
            last_type = tok.type
            yield tok
        if stack:
            top = stack[-1]
            where = self.span(top.line, top.col, top.line, top.col + 1, top.offset, top.offset + 1)
            raise RuleSyntaxError(Diagnostic(
                "S103", f"unclosed '{top.char}' opened at line {where.line}", where,
                hint=f"add the matching '{OPENERS[top.char]}'"))

    def _error(self, tok: Token, code: str, message: str, hint: str | None = None) -> RuleSyntaxError:
        where = self.span(tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)
        return RuleSyntaxError(Diagnostic(code, message, where, hint=hint))


_SKIP = re.compile(r"(?:[ \t\f\n;]|//[^\n]*|/\*(?:.|\n)*?\*/)*")
_CONTINUATION = re.compile(r"\}|\.[A-Za-z]|else\b")


def continues(text: str, pos: int) -> bool:
    """True when the next code after a newline is '}', '.name' or 'else': the statement goes on."""
    m = _SKIP.match(text, pos)
    return bool(_CONTINUATION.match(text, m.end() if m else pos))


def token_span(file: str, tok: Token) -> Span:
    return Span(file, tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)
