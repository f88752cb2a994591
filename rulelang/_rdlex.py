"""The recursive-descent parser's lexer: rule text → token tuples in one regex pass, with the post-lexer's newline, bracket and nesting rules."""

from __future__ import annotations

import re

from ._fastnodes import Fallback
from ._lexing import continues

# One token after optional blanks (those Lark ignores, `%ignore /[ \t\f\r]+/`; the text has no '\r' left).
# The alternatives are tried in the order Lark's contextual lexer tries the terminals: long text before
# text, comments before '/', the longest operators first. A dotted path `issue.fields.x` is one token
# (the parser splits it: every word after a dot is a NAME wherever a dot is accepted). The last
# alternative takes a newline, ';', a bracket, or a character no terminal starts with (then Lark decides).
_TOKEN = re.compile(r"""([ \t\f]*)(
    \"\"\"[\s\S]*?\"\"\" | '''[\s\S]*?'''
  | "(?:[^"\\\n$]|\\.|\$(?!\{)|\$\{(?:[^}"'\\\n]|'(?:[^'\\\n]|\\.)*')*\})*"
  | '(?:[^'\\\n]|\\.)*'
  | [0-9](?:_?[0-9])*(?:\.[0-9](?:_?[0-9])*)?
  | [A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*
  | //[^\n]* | /\*[\s\S]*?\*/
  | <-> | <- | -> | <= | >= | == | != | \?\? | \+= | -=
  | [^ \t\f])""", re.VERBOSE)

# What the first character of a token says it is.
_WORD, _NUMBER, _QUOTE, _SLASH, _NEWLINE, _OPEN, _CLOSE, _OP = range(8)
_FIRST = {**{c: _WORD for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"},
          **{c: _NUMBER for c in "0123456789"}, '"': _QUOTE, "'": _QUOTE, "/": _SLASH, "\n": _NEWLINE,
          ";": _NEWLINE, "(": _OPEN, "[": _OPEN, "{": _OPEN, ")": _CLOSE, "]": _CLOSE, "}": _CLOSE,
          **{c: _OP for c in "+-*%<>=!?|.,:"}}
_OPERATORS = frozenset({"<->", "<-", "->", "<=", ">=", "==", "!=", "??", "+=", "-=", "+", "-", "*", "%", "<", ">", "=",
                        "|", ".", ",", ":"})
_OPENS_OF = {")": "(", "]": "[", "}": "{"}

# Token kinds beyond the operators (whose kind is their text): a word or dotted path, a word of
# KEYWORD_OPERATORS whose newline was dropped for it, text, long text, a number, a statement end, the end.
WORD, KEYWORD_NL, TEXT, LONG_TEXT, NUMBER, END_STMT, END = "w", "W", "s", "l", "n", "\n", "$"

# After a token of these kinds a newline cannot end a statement (as in `_lexing.PostLexer`): '{', ',',
# a statement end, the binary and prefix operators. `and`, `or`, `not` and `in` are keywords only
# where the parser takes them as such: a newline after one is dropped, and the word marked (see `lex`).
KEYWORD_OPERATORS = frozenset({"and", "or", "not", "in"})
_NO_END_AFTER = frozenset({"{", ",", END_STMT, KEYWORD_NL, "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=",
                           "|", "??"})


def lex(text: str, off: int, line: int, col: int, depth_offset: int, max_nesting: int) -> tuple[list[tuple], int]:
    """The tokens of `text` (placed at line/col/offset `off` in the file), and a bound on a statement's tree height.

    A token is `(kind, text, start offset, line, column)`; text with `${…}` parts has a sixth
    item, the number of brackets open around it. Newlines and ';' become END_STMT tokens only
    where `_lexing.PostLexer` keeps them. The bound is, per top-level statement, its tokens plus
    two per dot (a dotted path is one token here, one to three nodes per link in the tree) plus
    the length of its `${…}` text (whose parts are parsed later): no tree is taller than that.
    Raises Fallback where Lark's lexer or post-lexer would fail, or might read the text otherwise.
    """
    toks: list[tuple] = []
    append = toks.append
    first = _FIRST
    stack: list[str] = []
    pos = 0
    col_base = -col  # so that a token's column is pos - col_base on the first line too (pos - line start + 1 after)
    run_tokens = run_pos = extra = longest = 0
    for blanks, tok in _TOKEN.findall(text):
        if blanks:
            pos += len(blanks)
        kind = first.get(tok[0])
        if kind == _WORD:
            append((WORD, tok, pos + off, line, pos - col_base))
        elif kind == _OP:
            if tok not in _OPERATORS:
                raise Fallback
            append((tok, tok, pos + off, line, pos - col_base))
        elif kind == _NEWLINE:
            if tok == "\n":
                line += 1
                col_base = pos
            pos += 1
            if stack and stack[-1] != "{":
                if tok == ";":
                    raise Fallback
                continue
            last = toks[-1] if toks else None
            if last is None or last[0] in _NO_END_AFTER:
                continue
            if last[0] == WORD and last[1] in KEYWORD_OPERATORS:
                if not continues(text, pos):
                    # Lark drops this newline only if the word was read as the keyword: the parser checks.
                    toks[-1] = (KEYWORD_NL, *last[1:])
                continue
            if continues(text, pos):
                continue
            append((END_STMT, tok, pos - 1 + off, 0, 0))  # no span ends on a statement end
            if not stack:
                height = len(toks) - run_tokens + 2 * text.count(".", run_pos, pos) + extra
                if height > longest:
                    longest = height
                run_tokens, run_pos, extra = len(toks), pos, 0
            continue
        elif kind == _OPEN:
            stack.append(tok)
            if len(stack) + depth_offset > max_nesting:
                raise Fallback
            append((tok, tok, pos + off, line, pos - col_base))
        elif kind == _CLOSE:
            if not stack or stack.pop() != _OPENS_OF[tok]:
                raise Fallback
            append((tok, tok, pos + off, line, pos - col_base))
        elif kind == _QUOTE:
            if len(tok) < 2:  # a quote that opens no text Lark reads
                raise Fallback
            long = tok[:3] == tok[0] * 3
            if tok[0] == '"' and "${" in tok:
                append((LONG_TEXT if long else TEXT, tok, pos + off, line, pos - col_base, len(stack)))
                extra += len(tok)
            else:
                append((LONG_TEXT if long else TEXT, tok, pos + off, line, pos - col_base))
            if long and "\n" in tok:
                line += tok.count("\n")
                col_base = pos + tok.rindex("\n")
        elif kind == _NUMBER:
            append((NUMBER, tok, pos + off, line, pos - col_base))
        elif kind == _SLASH:
            if tok == "/":
                append(("/", tok, pos + off, line, pos - col_base))
            elif tok[1] == "*" and "\n" in tok:  # a block comment over several lines
                line += tok.count("\n")
                col_base = pos + tok.rindex("\n")
        else:
            raise Fallback
        pos += len(tok)
    if stack:
        raise Fallback
    height = len(toks) - run_tokens + 2 * text.count(".", run_pos) + extra
    append((END, "", len(text) + off, line, len(text) - col_base))
    return toks, max(longest, height)
