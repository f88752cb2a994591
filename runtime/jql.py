"""Trigger queries: the JQL subset of grammar/jql.lark, parsed into a Query that matches neutral issues.

    q = parse_query('issuetype = Bug AND labels = "to-dev" ORDER BY created')
    q.matches(issue)          # -> bool

Meaning, where Jira leaves room:

- text compares case-insensitively; `~` / `!~` is "contains" / "does not
  contain" (a substring, not Jira's word search);
- on a multi-valued field (labels, components, versions, a list custom field)
  `=` means "contains" and `!=` "does not contain";
- as in Jira, `!=`, `not in`, `!~`, `>`, `<` … never match an empty field: ask
  `is EMPTY` for those;
- users (assignee, reporter) compare with their e-mail, name or id;
- dates are ISO-8601 text (`2024-05-01`, `"2024-05-01 10:30"`, with or
  without an offset; none means UTC), relative offsets from now (`-7d`,
  `"-1w 2d"`; units y M w d h m) or `now()`, `startOfDay()`, `endOfDay()`,
  each with an optional offset argument (`startOfDay(-1d)`);
- custom fields are written `cf[Story Points]` or `"Story Points"`; an
  unquoted unknown name is an error with a suggestion.

Errors are ConfigError with one diagnostic: K740 syntax, K741 unknown
field, K742 an operator the field does not support, K743 a value the
operator cannot use, K744 unknown function.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

import grammar
from rulelang.errors import ConfigError, Diagnostic, did_you_mean
from rulelang.span import Span

from ._isotime import utc_now
from ._jql_match import (
    CUSTOM,
    DATE,
    FIELD_NAMES,
    FIELDS,
    FUNCTIONS,
    KIND_WORDS,
    SEARCH,
    AllOf,
    AnyOf,
    Clause,
    FieldSpec,
    Moment,
    Negation,
    Node,
    Operand,
    custom_field,
    fields_of,
    relative_offset,
)

__all__ = ["Query", "parse_query"]

SYNTAX, UNKNOWN_FIELD, BAD_OPERATOR, BAD_VALUE, UNKNOWN_FUNCTION = "K740", "K741", "K742", "K743", "K744"
_ORDERING = (">", ">=", "<", "<=")
_OPERATORS_HINT = "operators: =  !=  ~  !~  >  >=  <  <=  in (…)  not in (…)  is EMPTY  is not EMPTY"
_DATE_HINT = 'a date is 2024-05-01, "2024-05-01 10:30", -7d or now()'


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed trigger query. `condition` None matches every issue; `order_by` is kept, never applied."""

    text: str
    condition: Node | None
    order_by: tuple[tuple[str, str], ...] = ()

    def matches(self, issue: Mapping[str, Any], *, now: datetime | None = None) -> bool:
        """Whether the neutral issue satisfies the query (`now` anchors relative dates; default: the clock)."""
        if self.condition is None:
            return True
        return self.condition.test(issue, now or utc_now())

    @property
    def fields(self) -> frozenset[str]:
        """The neutral fields the condition reads (`custom.<name>` for custom fields)."""
        return frozenset(f"custom.{f.path}" if f.kind == CUSTOM else f.path for f in fields_of(self.condition))

    def __str__(self) -> str:
        return self.text


def parse_query(text: str, *, file: str = "<query>") -> Query:
    """Parse a trigger query; raise ConfigError (never a Lark exception) pointing at the mistake."""
    return _parse(text, file)


@functools.cache
def _parser() -> Lark:
    return Lark(grammar.read("jql.lark"), parser="lalr", lexer="contextual", start="start",
                cache=grammar.cache_file("jql.lark"))


@functools.lru_cache(maxsize=256)
def _parse(text: str, file: str) -> Query:
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as e:
        raise _syntax_error(e, text, file) from None
    return _Builder(text, file).query(tree)


# ---- syntax errors, in words ---------------------------------------------

def _span_at(text: str, file: str, pos: int, length: int = 1) -> Span:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return Span(file, line, col, line, col + length, pos, pos + length)


def _token_span(tok: Token, file: str) -> Span:
    return Span(file, tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)


def _expected_words(accepts: set[str]) -> str:
    """What the parser would have taken, said the way a person would."""
    words: list[str] = []
    if "NAME" in accepts:
        words.append("a field name")
    elif "WORD" in accepts:
        words.append("a value")
    elif "COMPARE" in accepts:
        words.append("an operator")
    elif "EMPTY" in accepts:
        words.append("EMPTY or NOT EMPTY" if "NOT" in accepts else "EMPTY")
    elif "IN" in accepts:
        words.append("'in'")
    for name, word in (("_AND", "AND"), ("_OR", "OR"), ("_ORDER", "ORDER BY"), ("_BY", "BY"),
                       ("ASC", "ASC"), ("DESC", "DESC"), ("_COMMA", "','"), ("_RPAR", "')'")):
        if name in accepts:
            words.append(word)
    if not words and "_LPAR" in accepts:
        words.append("'('")
    if len(words) <= 1:
        return words[0] if words else "the end of the query"
    return ", ".join(words[:-1]) + " or " + words[-1]


def _syntax_error(e: UnexpectedInput, text: str, file: str) -> ConfigError:
    if isinstance(e, UnexpectedCharacters):
        pos = e.pos_in_stream
        span, found = _span_at(text, file, pos), text[pos]
    else:
        assert isinstance(e, UnexpectedToken)
        at_end = e.token.type == "$END"
        pos = len(text) if at_end else e.token.start_pos
        span = _span_at(text, file, pos) if at_end else _token_span(e.token, file)
        found = "" if at_end else str(e.token)
    # Replay the text before the mistake: Lark's own error state may already hold reductions made
    # for the bad token, which would hide what was really expected and what came just before.
    replay = _parser().parse_interactive(text[:pos])
    replay.exhaust_lexer()
    accepts = set(replay.accepts())
    previous = replay.lexer_thread.state.last_token
    if found in ("'", '"'):
        return _error(SYNTAX, f"unterminated text: the closing {found} is missing", span)
    if found in ("&&", "||", "&", "|"):
        return _error(SYNTAX, f"use {'AND' if '&' in found else 'OR'} instead of '{found}'", span)
    if found == "=" and previous is not None and str(previous) == "=":
        start = previous.start_pos
        return _error(SYNTAX, "use '=' instead of '=='", _span_at(text, file, start, span.end - start))
    message = "expected " + _expected_words(accepts)
    if previous is not None:
        message += f" after '{previous}'"
    hint = None
    if "COMPARE" in accepts:
        hint = _OPERATORS_HINT
    elif found[:1].isalnum() and previous is not None and previous.type in ("WORD", "STRING"):
        hint = 'text with spaces goes in quotes: "In Progress"'
    return _error(SYNTAX, message, span, hint)


def _error(code: str, message: str, span: Span, hint: str | None = None) -> ConfigError:
    return ConfigError(Diagnostic(code, message, span, hint=hint))


def _unquote(raw: str) -> str:
    body = raw[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            i += 1
            ch = {"n": "\n", "t": "\t"}.get(body[i], body[i])
        out.append(ch)
        i += 1
    return "".join(out)


# ---- from the parse tree to a checked Query ------------------------------

class _Builder:
    def __init__(self, text: str, file: str) -> None:
        self.text = text
        self.file = file

    def span(self, tok: Token) -> Span:
        return _token_span(tok, self.file)

    def query(self, tree: Tree) -> Query:
        condition: Node | None = None
        order: tuple[tuple[str, str], ...] = ()
        for child in tree.children:
            if isinstance(child, Tree) and child.data == "order_by":
                order = tuple(self.sort(s) for s in child.children)
            else:
                condition = self.node(child)
        return Query(self.text, condition, order)

    def sort(self, tree: Tree) -> tuple[str, str]:
        spec, _ = self.field(tree.children[0])
        direction = str(tree.children[1]).lower() if len(tree.children) > 1 else "asc"
        return spec.name, direction

    def node(self, item: Tree) -> Node:
        kind = item.data
        if kind == "or_cond":
            return AnyOf(tuple(self.node(c) for c in item.children))
        if kind == "and_cond":
            return AllOf(tuple(self.node(c) for c in item.children))
        if kind == "negation":
            return Negation(self.node(item.children[1]))
        spec, _ = self.field(item.children[0])
        if kind in ("is_empty", "is_not_empty"):
            return Clause(spec, "is" if kind == "is_empty" else "is not", ())
        op_tok = item.children[1]
        op = str(op_tok) if kind == "compare" else "in" if kind == "in_list" else "not in"
        self.check_operator(spec, op, op_tok)
        values = [item.children[2]] if kind == "compare" else item.children[-1].children
        return Clause(spec, op, tuple(self.operand(v, spec, op) for v in values))

    def field(self, tree: Tree) -> tuple[FieldSpec, Token]:
        tok = tree.children[0]
        raw = str(tok)
        if tok.type == "NAME":
            spec = FIELDS.get(raw.lower())
            if spec is None:
                guess = did_you_mean(raw, FIELD_NAMES)
                message = f"unknown field '{raw}'" + (f" (did you mean '{guess}'?)" if guess else "")
                raise _error(UNKNOWN_FIELD, message, self.span(tok),
                             'custom fields are written cf[Name] or "Field Name"')
            return spec, tok
        if tok.type == "STRING":
            name = _unquote(raw)
            return FIELDS.get(name.lower()) or custom_field(name), tok
        name = raw[3:-1].strip()
        if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
            name = _unquote(name)
        if not name:
            raise _error(SYNTAX, "expected a custom field name inside cf[ ]", self.span(tok))
        return custom_field(name), tok

    def check_operator(self, spec: FieldSpec, op: str, op_tok: Token) -> None:
        where = self.span(op_tok)
        if spec.kind == SEARCH and op not in ("~", "!~"):
            raise _error(BAD_OPERATOR, f"'{spec.name}' can only be searched with '~' or '!~'", where)
        if op in ("~", "!~") and spec.kind == DATE:
            raise _error(BAD_OPERATOR, f"'{op}' searches text; '{spec.name}' is a date", where)
        if op in _ORDERING and spec.kind not in (DATE, CUSTOM):
            raise _error(BAD_OPERATOR, f"'{op}' compares dates and numbers; '{spec.name}' is "
                         f"{KIND_WORDS[spec.kind]}", where)

    def operand(self, item: Tree | Token, spec: FieldSpec, op: str) -> Operand:
        if isinstance(item, Tree):
            return self.function(item, spec, op)
        where = self.span(item)
        if item.type in ("EMPTY", "NULL"):
            if op in _ORDERING or op in ("~", "!~"):
                raise _error(BAD_VALUE, f"'{op}' needs a value, not {item}; use 'is EMPTY' or "
                             "'is not EMPTY'", where)
            return Operand(None)
        operand = Operand.of_text(_unquote(str(item)) if item.type == "STRING" else str(item))
        if spec.kind == DATE and operand.moment is None:
            raise _error(BAD_VALUE, f"expected a date after '{op}', found '{item}'", where, _DATE_HINT)
        if op in _ORDERING and spec.kind == CUSTOM and operand.moment is None and operand.number is None:
            raise _error(BAD_VALUE, f"expected a date or a number after '{op}', found '{item}'", where,
                         _DATE_HINT)
        return operand

    def function(self, tree: Tree, spec: FieldSpec, op: str) -> Operand:
        name_tok, *args = tree.children
        where = self.span(name_tok)
        name = next((f for f in FUNCTIONS if f.lower() == str(name_tok).lower()), None)
        if name is None:
            guess = did_you_mean(str(name_tok), FUNCTIONS)
            raise _error(UNKNOWN_FUNCTION, f"unknown function '{name_tok}()'"
                         + (f" (did you mean '{guess}()'?)" if guess else ""), where,
                         "functions: " + ", ".join(f"{f}()" for f in FUNCTIONS))
        if spec.kind not in (DATE, CUSTOM) or op in ("~", "!~"):
            raise _error(BAD_VALUE, f"'{name}()' is a date; '{spec.name}' is {KIND_WORDS[spec.kind]}", where)
        offset = timedelta()
        args = [a for a in args if a is not None]
        if args:
            arg = args[0]
            given = None
            if len(args) == 1 and isinstance(arg, Token) and arg.type in ("WORD", "STRING"):
                given = relative_offset(_unquote(str(arg)) if arg.type == "STRING" else str(arg))
            if given is None:
                raise _error(BAD_VALUE, f"'{name}()' takes at most one offset, like {name}(-1d)", where)
            offset = given
        return Operand(f"{name}()", None, Moment(anchor=name, offset=offset))
