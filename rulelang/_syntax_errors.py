"""Lark's parse exceptions → rulelang syntax errors in words ("use 'and' instead of '&&'")."""

from __future__ import annotations

import re

from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .errors import Diagnostic, RuleSyntaxError
from .span import Span

# Spellings from other languages, answered with the rulelang one (the parser accepts only one).
_BAD_SPELLINGS = [
    ("&&", "S101", "use 'and' instead of '&&'"),
    ("||", "S101", "use 'or' instead of '||'"),
    ("?:", "S101", "use '??' instead of '?:'"),
    ("?.", "S101", "use '.' instead of '?.': paths are already null-safe"),
    ("===", "S101", "use '==' instead of '==='"),
    ("!==", "S101", "use '!=' instead of '!=='"),
    ("!", "S101", "use 'not' instead of '!'"),
    ("&", "S101", "use 'and' instead of '&'"),
]

_RESERVED = {
    "def": "there are no user-defined functions",
    "function": "there are no user-defined functions",
    "fn": "there are no user-defined functions",
    "return": "there is no 'return': assign fields, or use 'skip' to stop",
    "while": "there are no 'while' loops: use 'for x in list { … }'",
    "loop": "there are no 'while' loops: use 'for x in list { … }'",
    "import": "there are no imports",
    "from": "there are no imports",
    "require": "there are no imports",
    "var": "use 'let' to declare a variable",
    "const": "use 'let' to declare a variable",
    "val": "use 'let' to declare a variable",
    "elif": "use 'else if'",
    "elsif": "use 'else if'",
    "elseif": "use 'else if'",
    "class": "there are no classes",
    "lambda": "write a lambda as 'x -> expression'",
    "try": "there is no 'try': use '??' for missing values",
    "throw": "use 'fail \"message\"' to stop with an error",
    "raise": "use 'fail \"message\"' to stop with an error",
}

_WORDS = {
    "NAME": "a name", "STRING": "a text", "LONG_STRING": "a text", "NUMBER": "a number",
    "_NL": "a new line", "$END": "the end of the file", "ASSIGN_OP": "'='", "EQUAL": "'='",
    "COMP_OP": "a comparison", "ADD_OP": "'+' or '-'", "MUL_OP": "'*', '/' or '%'",
    "ELSE_KIND": "'keep' or 'error'", "BOTH_WAYS": "'<->'", "ARROW": "'->'", "LEFT_ARROW": "'<-'", "COALESCE": "'??'",
}
_VALUE_STARTS = {"NAME", "STRING", "LONG_STRING", "NUMBER", "LSQB", "LBRACE", "LPAR", "TRUE", "FALSE", "NULL"}
_OPERATORS = {"COMP_OP", "ADD_OP", "MUL_OP", "AND", "OR", "IF", "IN", "NOT", "VBAR", "ARROW", "COALESCE"}
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The `else keep|error|default v` line of a value map, when it is followed by more lines.
_MAP_ELSE_BEFORE = re.compile(
    r"\b(else[ \t]+(?:keep|error|default[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|[\w.-]+)))[ \t]*(?://[^\n]*)?[\s;]*\Z")


def translate(e: UnexpectedInput, text: str, builder, postlex) -> RuleSyntaxError:
    """One positioned diagnostic for a Lark parse failure."""
    base = builder.base

    def span(pos: int, width: int = 1) -> Span:
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        if line == 1:
            col += base.col - 1
        return Span(base.file, line + base.line - 1, col, line + base.line - 1, col + max(1, width),
                    pos + base.offset, pos + base.offset + max(1, width))

    def err(code: str, message: str, pos: int, width: int = 1, hint: str | None = None) -> RuleSyntaxError:
        return RuleSyntaxError(Diagnostic(code, message, span(pos, width), hint=hint))

    if isinstance(e, UnexpectedCharacters):
        pos = e.pos_in_stream
        tok_type, tok_text = None, text[pos:pos + 1]
        expected = set(e.allowed or ())
    elif isinstance(e, UnexpectedToken):
        tok = e.token
        tok_type = tok.type
        pos = tok.start_pos if tok.type != "$END" and tok.start_pos is not None else len(text)
        tok_text = str(tok) if tok.type != "$END" else ""
        expected = _acceptable(e)
    elif isinstance(e, UnexpectedEOF):
        pos, tok_type, tok_text, expected = len(text), "$END", "", set(e.expected or ())
    else:  # pragma: no cover - Lark has no other kinds
        return err("S100", str(e), 0)

    # 1. Spellings from other languages ('===' and '!==' are lexed as '==' or '!=' then '=').
    for bad, code, message in _BAD_SPELLINGS:
        if len(bad) == 3 and pos >= 2 and text.startswith(bad, pos - 2):
            return err(code, message, pos - 2, 3)
        if text.startswith(bad, pos):
            return err(code, message, pos, len(bad))
        if bad == "||" and text.startswith(bad, pos - 1):
            return err(code, message, pos - 1, 2)
    if text.startswith("=>", pos):
        return err("S101", "use '->' instead of '=>'", pos, 2)
    prev_start, prev = _previous_word(text, pos)
    if isinstance(e, UnexpectedToken) and prev in ("let", "for") and tok_type != "NAME" \
            and _at_statement_start(text, prev_start):
        return err("S102", f"expected a name after '{prev}'", pos, max(1, len(tok_text.strip())))
    if tok_type == "NAME" and pos > 0 and text[pos - 1].isdigit():
        return _malformed_number(err, text, pos)
    if text.startswith("=", pos) and pos > 0 and text[pos - 1] == "=":
        return err("S106", "'==' compares; use '=' to assign", pos - 1, 2)
    if tok_type == "COMP_OP" and tok_text == "==" and "ASSIGN_OP" in expected:
        return err("S106", "'==' compares; use '=' to assign", pos, 2)
    if tok_type in ("ASSIGN_OP", "EQUAL") and tok_text == "=":
        return err("S106", "use '==' to compare ('=' assigns a field or variable)", pos, 1)
    if tok_type in ("ASSIGN_OP",) and tok_text in ("+=", "-="):
        return err("S102", f"'{tok_text}' is a statement: it cannot be used inside an expression", pos, 2)

    # 2. Words from other languages: the unexpected word itself, or the one just before it.
    word_here = _NAME_RE.match(text, pos)
    for w, wpos in ((word_here.group() if word_here else None, pos), (prev, prev_start)):
        if w in _RESERVED and _at_statement_start(text, wpos):
            return err("S105", f"'{w}' is not rulelang: {_RESERVED[w]}", wpos, len(w))

    # 3. Characters the lexer could not read (an unclosed comment may also reach here as a '/' token).
    if text.startswith("/*", pos):
        return err("S104", "unclosed comment: '/*' has no matching '*/'", pos, 2)
    if isinstance(e, UnexpectedCharacters):
        ch = text[pos]
        if ch in "\"'" and pos >= 2 and text[pos - 2:pos + 1] == ch * 3:  # '""' lexed as empty text, then '"'
            pos -= 2
        if ch.isalpha() and pos > 0 and text[pos - 1].isdigit():
            return _malformed_number(err, text, pos)
        if text.startswith('"""', pos) or text.startswith("'''", pos):
            return err("S104", f"unclosed text: {text[pos:pos + 3]} has no closing {text[pos:pos + 3]}", pos, 3)
        if ch in "\"'":
            rest = text[pos:text.find("\n", pos) if "\n" in text[pos:] else len(text)]
            if ch == '"' and "${" in rest:
                at = pos + rest.index("${")
                return err("S104", "unclosed '${' in text, or a '\"' inside '${…}' (use single quotes there)",
                           at, 2)
            return err("S104", f"unclosed text: {ch} has no closing {ch} on this line", pos, 1,
                       hint="use triple quotes for text that spans lines")
        if ch == "_" and _NAME_RE.match(text, pos):
            w = _NAME_RE.match(text, pos).group()
            return err("S101", f"names cannot start with '_': '{w}'", pos, len(w))
        if ord(ch) > 127:
            kind = "letter" if ch.isalpha() else "character"
            return err("S101", f"non-ASCII {kind} '{ch}' (U+{ord(ch):04X}): names and operators are ASCII only",
                       pos, 1, hint="non-ASCII text belongs inside quotes")
        return err("S101", f"unexpected character '{ch}'", pos, 1)

    # 4. A token in the wrong place: say what was expected, in words.
    width = max(1, len(tok_text))
    hint = _unclosed_hint(postlex, text, pos)
    if expected <= {"RBRACE"}:
        m = _MAP_ELSE_BEFORE.search(text, 0, pos)
        if m:
            message = ("a map has only one 'else' line" if tok_type == "ELSE"
                       else "the 'else' line must be the last line of a map")
            return err("S112", message, m.start(1), len(m.group(1)))
    if tok_type == "LEFT_ARROW" and "NUMBER" not in expected:
        return err("S102", "'<-' belongs in value maps; to compare with a negative number write '< -'", pos, 2)
    if tok_type in ("COMP_OP", "IN") and "COMP_OP" not in expected and "AND" in expected:
        return err("S102", f"comparisons do not chain: '{tok_text}' cannot follow a comparison",
                   pos, width, hint="write 'a < b and b < c'")
    if tok_type in _LINE_START_OPERATORS and _at_line_start(text, pos) and "NAME" in expected:
        return err("S102", f"a statement cannot start with '{tok_text}'", pos, width,
                   hint=f"to continue the expression on a new line, end the previous line with '{tok_text}'")
    value_expected = "NUMBER" in expected
    if value_expected and tok_type not in _VALUE_STARTS and prev is not None:
        return err("S102", f"expected a value after '{prev}'", pos if tok_text.strip() else prev_start,
                   width if tok_text.strip() else len(prev), hint)
    what = _describe(tok_type, tok_text)
    wanted = _expected_words(expected, builder)
    message = f"unexpected {what}" + (f"; expected {wanted}" if wanted else "")
    if tok_type == "$END":
        message = "unexpected end of file" + (f"; expected {wanted}" if wanted else "")
        pos, width = max(0, len(text.rstrip()) - 1), 1
    return err("S102", message, pos, width, hint)


def _acceptable(e: UnexpectedToken) -> set[str]:
    """The tokens the parser would really accept here.

    LALR merges look-ahead sets, so `e.expected` offers closers and keywords that are not valid
    at this point; asking the interactive parser token by token gives the exact set.
    """
    try:
        if e.interactive_parser is not None:
            return set(e.interactive_parser.accepts())
    except Exception:  # noqa: BLE001 - a builder callback refusing a fake token: fall back
        pass
    return set(e.expected or ())


_LINE_START_OPERATORS = {"ADD_OP", "MUL_OP", "COMP_OP", "AND", "OR", "VBAR", "MINUS", "COALESCE"}


def _at_line_start(text: str, pos: int) -> bool:
    return not text[text.rfind("\n", 0, pos) + 1:pos].strip()


def _malformed_number(err, text: str, pos: int) -> RuleSyntaxError:
    """`0x10`, `1e5`: a number run into letters."""
    start = pos
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "._"):
        start -= 1
    m = _NAME_RE.match(text, pos)
    end = m.end() if m else pos + 1
    return err("S101", f"malformed number '{text[start:end]}'", start, end - start,
               hint="numbers are written like 42, 3.5 or 1_000_000")


def _previous_word(text: str, pos: int) -> tuple[int, str | None]:
    """The token-ish text just before pos: a word or an operator."""
    i = pos
    while i > 0 and text[i - 1] in " \t\n":
        i -= 1
    if i == 0:
        return 0, None
    j = i
    if text[i - 1].isalnum() or text[i - 1] == "_":
        while j > 0 and (text[j - 1].isalnum() or text[j - 1] == "_"):
            j -= 1
    else:
        while j > 0 and i - j < 3 and text[j - 1] in "=+-*/%<>!?|&.,:([{":
            j -= 1
            if text[j] in "([{,":
                break
    return j, text[j:i]


def _at_statement_start(text: str, pos: int) -> bool:
    line_start = text.rfind("\n", 0, pos) + 1
    before = text[line_start:pos].strip()
    return before in ("", "{", "}", ";") or before.endswith(("{", ";"))


def _describe(tok_type: str | None, tok_text: str) -> str:
    if tok_type == "NAME":
        return f"name '{tok_text}'"
    if tok_type in ("STRING", "LONG_STRING"):
        return "text " + (tok_text if len(tok_text) <= 30 else tok_text[:27] + "…")
    if tok_type == "NUMBER":
        return f"number {tok_text}"
    if tok_type == "_NL":
        return "end of line" if tok_text == "\n" else "';'"
    if tok_type == "$END":
        return "end of file"
    return f"'{tok_text}'"


def _expected_words(expected: set[str], builder) -> str:
    words: list[str] = []
    if "NUMBER" in expected:
        words.append("a value" if "NAME" in expected else "a text, a number, true, false or null")
        expected = expected - _VALUE_STARTS
    if "_NL" in expected:
        expected = expected - {"$END"}  # "a new line" says it
    closers = expected & {"COMMA", "RPAR", "RSQB", "RBRACE", "COLON"}
    if closers:  # inside brackets, the closer is what the reader needs to hear about
        if "RBRACE" in closers and "_NL" in expected and "COMMA" not in closers:
            closers.add("_NL")  # in a block, a new line ends the statement too
        expected = closers
    elif len(expected & _OPERATORS) > 1:
        expected = (expected - _OPERATORS - {"LSQB", "LPAR", "DOT"})
        words.append("an operator")
    for name in sorted(expected):
        if name in _WORDS:
            w = _WORDS[name]
        else:
            w = _pattern_text(name)
        if w and w not in words:
            words.append(w)
    if len(words) > 5:
        words = words[:4] + ["…"]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


_PUNCT = {"LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "LBRACE": "{", "RBRACE": "}", "COMMA": ",",
          "DOT": ".", "COLON": ":", "VBAR": "|", "MINUS": "-", "EQUAL": "="}


def _pattern_text(name: str) -> str:
    if name in _PUNCT:
        return f"'{_PUNCT[name]}'"
    if name.isupper() and not name.startswith("__"):
        return f"'{name.lower()}'"
    from .parse import _parser

    try:
        pattern = _parser().lark.get_terminal(name).pattern
        return f"'{pattern.value}'"
    except (KeyError, AttributeError):
        return ""


def _unclosed_hint(postlex, text: str, pos: int) -> str | None:
    stack = postlex.open_brackets
    if not stack:
        return None
    top = stack[-1]
    line = text.count("\n", 0, pos) + 1
    if top.char in "([" and line > top.line:
        return f"'{top.char}' opened at line {top.line}, column {top.col} is not closed"
    return None
