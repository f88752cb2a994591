"""A small JQL interpreter for the test server: the subset the connector and trigger queries send."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

__all__ = ["JqlError", "Query", "parse_jql", "FieldValues"]

# A resolver answers (kind, values) for one field of one issue: kind is "text", "number" or "date";
# values is a list because JQL compares multi-valued fields (labels, components) element-wise.
FieldValues = tuple[str, list[Any]]
Resolver = Callable[[Any, str], FieldValues]


class JqlError(ValueError):
    """The query does not parse or names an unknown field; the server answers 400 with this message."""


_TOKEN = re.compile(r"""\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>!=|!~|>=|<=|=|~|>|<|,|\(|\))
  | (?P<word>[^\s"'=!~<>,()]+)
)""", re.X)

_KEYWORDS = {"and", "or", "not", "in", "is", "empty", "null", "order", "by", "asc", "desc"}


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "str", "op", "word", "kw", "end"
    text: str


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise JqlError(f"Error in the JQL Query: unexpected character at position {pos}.")
        pos = m.end()
        if m.group("str") is not None:
            raw = m.group("str")[1:-1]
            out.append(_Tok("str", re.sub(r"\\(.)", r"\1", raw)))
        elif m.group("op") is not None:
            out.append(_Tok("op", m.group("op")))
        else:
            word = m.group("word")
            out.append(_Tok("kw" if word.lower() in _KEYWORDS else "word", word))
    out.append(_Tok("end", ""))
    return out


Pred = Callable[[Any], bool]


@dataclass
class Query:
    """A parsed query: a predicate over issues and the ORDER BY list."""

    where: Pred | None
    order: list[tuple[str, bool]]  # (field, ascending)

    def matches(self, issue: Any) -> bool:
        return True if self.where is None else self.where(issue)


def parse_jql(text: str, resolve: Resolver, tz: tzinfo, now: Callable[[], datetime]) -> Query:
    """Parse `text`; `resolve(issue, field)` gives field values, `tz` is the searcher's zone for dates."""
    return _Parser(_tokens(text), resolve, tz, now).query()


class _Parser:
    def __init__(self, toks: list[_Tok], resolve: Resolver, tz: tzinfo, now: Callable[[], datetime]):
        self.toks, self.i, self.resolve, self.tz, self.now = toks, 0, resolve, tz, now

    # -- token helpers
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def at_kw(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind == "kw" and tok.text.lower() in words

    def expect_kw(self, word: str) -> None:
        if not self.at_kw(word):
            raise JqlError(f"Error in the JQL Query: expecting '{word.upper()}' but got '{self.peek().text}'.")
        self.take()

    def expect_op(self, op: str) -> None:
        tok = self.take()
        if tok.kind != "op" or tok.text != op:
            raise JqlError(f"Error in the JQL Query: expecting '{op}' but got '{tok.text}'.")

    # -- grammar
    def query(self) -> Query:
        where = None if self.at_kw("order") or self.peek().kind == "end" else self.or_expr()
        order: list[tuple[str, bool]] = []
        if self.at_kw("order"):
            self.take()
            self.expect_kw("by")
            while True:
                name = self.field_name()
                self.resolve(None, name)  # unknown fields fail here, as in Jira
                asc = True
                if self.at_kw("asc", "desc"):
                    asc = self.take().text.lower() == "asc"
                order.append((name, asc))
                if not (self.peek().kind == "op" and self.peek().text == ","):
                    break
                self.take()
        if self.peek().kind != "end":
            raise JqlError(f"Error in the JQL Query: unexpected '{self.peek().text}'.")
        return Query(where, order)

    def or_expr(self) -> Pred:
        preds = [self.and_expr()]
        while self.at_kw("or"):
            self.take()
            preds.append(self.and_expr())
        return preds[0] if len(preds) == 1 else (lambda issue: any(p(issue) for p in preds))

    def and_expr(self) -> Pred:
        preds = [self.not_expr()]
        while self.at_kw("and"):
            self.take()
            preds.append(self.not_expr())
        return preds[0] if len(preds) == 1 else (lambda issue: all(p(issue) for p in preds))

    def not_expr(self) -> Pred:
        if self.at_kw("not"):
            self.take()
            inner = self.not_expr()
            return lambda issue: not inner(issue)
        if self.peek().kind == "op" and self.peek().text == "(":
            self.take()
            inner = self.or_expr()
            self.expect_op(")")
            return inner
        return self.clause()

    def field_name(self) -> str:
        tok = self.take()
        if tok.kind not in ("word", "str"):
            raise JqlError(f"Error in the JQL Query: expecting a field name but got '{tok.text}'.")
        return tok.text

    def clause(self) -> Pred:
        name = self.field_name()
        kind, _ = self.resolve(None, name)
        if self.at_kw("is"):
            self.take()
            negate = False
            if self.at_kw("not"):
                self.take()
                negate = True
            if not self.at_kw("empty", "null"):
                raise JqlError("Error in the JQL Query: expecting EMPTY or NULL after IS.")
            self.take()
            return lambda issue: (not self.values(issue, name)) != negate
        if self.at_kw("not", "in"):
            negate = self.take().text.lower() == "not"
            if negate:
                self.expect_kw("in")
            wanted = [self.literal(kind, t) for t in self.list_literal()]
            return lambda issue: any(_eq(v, w) for v in self.values(issue, name) for w in wanted) != negate
        op = self.take()
        if op.kind != "op" or op.text in ("(", ")", ","):
            raise JqlError(f"Error in the JQL Query: expecting an operator after '{name}' but got '{op.text}'.")
        tok = self.take()
        if tok.kind not in ("word", "str"):
            raise JqlError(f"Error in the JQL Query: expecting a value after '{name} {op.text}'.")
        if op.text in ("~", "!~"):
            needle = tok.text.lower()

            def hit(issue: Any) -> bool:
                return any(needle in str(v).lower() for v in self.values(issue, name))

            return hit if op.text == "~" else (lambda issue: not hit(issue))
        want = self.literal(kind, tok)
        return _compare(op.text, want, lambda issue: self.values(issue, name))

    def list_literal(self) -> list[_Tok]:
        self.expect_op("(")
        items = [self.take()]
        while self.peek().kind == "op" and self.peek().text == ",":
            self.take()
            items.append(self.take())
        self.expect_op(")")
        return items

    def values(self, issue: Any, name: str) -> list[Any]:
        return self.resolve(issue, name)[1]

    def literal(self, kind: str, tok: _Tok) -> Any:
        if kind == "number":
            try:
                return float(tok.text)
            except ValueError as exc:
                raise JqlError(f"Error in the JQL Query: '{tok.text}' is not a number.") from exc
        if kind == "date":
            return self.date_literal(tok.text)
        return tok.text

    def date_literal(self, text: str) -> datetime:
        rel = re.fullmatch(r"([-+]?)(\d+)([wdhm])", text)
        if rel:
            unit = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}[rel.group(3)]
            delta = timedelta(**{unit: int(rel.group(2))})
            return self.now() - delta if rel.group(1) == "-" else self.now() + delta
        for fmt in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, fmt).replace(tzinfo=self.tz)
            except ValueError:
                continue
        raise JqlError(f"Date value '{text}' for field is invalid. Valid formats include: "
                       "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
                       "format e.g. '-5d', '4w 2d'.")


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return _norm(a) == _norm(b)


def _compare(op: str, want: Any, values: Callable[[Any], list[Any]]) -> Pred:
    if op == "=":
        return lambda issue: any(_eq(v, want) for v in values(issue))
    if op == "!=":
        return lambda issue: bool(values(issue)) and not any(_eq(v, want) for v in values(issue))
    cmp = {">": lambda a, b: a > b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b}
    if op not in cmp:
        raise JqlError(f"Error in the JQL Query: the operator '{op}' is not supported here.")
    fn = cmp[op]

    def pred(issue: Any) -> bool:
        for v in values(issue):
            try:
                if fn(v, want):
                    return True
            except TypeError:
                continue
        return False

    return pred
