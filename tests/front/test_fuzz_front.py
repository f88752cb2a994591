"""Hypothesis: programs generated from the grammar always parse, and no mutation of one makes the front end raise.

The generator follows grammar/rules.lark (statements, every expression form, text with `${…}`,
comments, both statement ends); its output must parse without error. Mutations (deleted,
inserted, duplicated or swapped text, hostile characters) must give diagnostics, never an
exception other than a RulelangError from `parse`, and nothing at all from `load`.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulelang import model
from rulelang.check import check
from rulelang.errors import RulelangError, RuleSyntaxError
from rulelang.parse import parse
from rulelang.program import load

FIELDS = sorted(model.ISSUE_FIELDS)
VARS = ["a", "b", "total", "item"]
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _text(draw) -> str:
    body = draw(st.text(alphabet="abc XYZ-_.:/é€\t", max_size=8))
    quote = draw(st.sampled_from(["'", '"']))
    if quote == '"' and draw(st.booleans()):
        inner = draw(st.sampled_from(["issue.summary", "a ?? 'x'", "len(issue.labels)", "issue.custom['K']"]))
        return f'"{body}${{{inner}}}{body}"'
    return f"{quote}{body}{quote}"


@st.composite
def atoms(draw) -> str:
    kind = draw(st.integers(0, 7))
    if kind == 0:
        return draw(st.sampled_from(["0", "42", "3.5", "1_000_000", "true", "false", "null"]))
    if kind == 1:
        return _text(draw)
    if kind == 2:
        return f"issue.{draw(st.sampled_from(FIELDS))}"
    if kind == 3:
        return f"issue.custom[{_text(draw)}]"
    if kind == 4:
        return draw(st.sampled_from(VARS))
    if kind == 5:
        return '"""multi\nline ${issue.key}"""'
    if kind == 6:
        return "issue.assignee.email"
    return draw(st.sampled_from(["replica.summary", "previous.status", "first_sync", "connection.name"]))


def exprs(depth: int = 3) -> st.SearchStrategy[str]:
    if depth <= 0:
        return atoms()
    sub = exprs(depth - 1)

    @st.composite
    def build(draw) -> str:
        form = draw(st.integers(0, 12))
        a, b = draw(sub), draw(sub)
        if form == 0:
            return draw(atoms())
        if form == 1:
            op = draw(st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "in",
                                       "not in", "and", "or", "??", "|"]))
            return f"({a}) {op} ({b})"
        if form == 2:
            return f"{draw(atoms())} {draw(st.sampled_from(['+', '*', 'and', '??']))} {draw(atoms())}"
        if form == 3:
            return f"not ({a})" if draw(st.booleans()) else f"-({a})"
        if form == 4:
            return f"({a}) if ({b}) else ({draw(sub)})"
        if form == 5:
            method = draw(st.sampled_from(["filter", "map", "any", "all", "first", "sort_by"]))
            return f"issue.comments.{method}(c -> c.body == ({a}))"
        if form == 6:
            method = draw(st.sampled_from(["lower()", "upper()", "trim()", "unique()", "split(',')",
                                           "replace('a', 'b')", "contains('x')", "matches('^a')"]))
            return f"({a}).{method}"
        if form == 7:
            fn = draw(st.sampled_from(["len", "str", "int", "float", "date", "user", "twin", "html_to_markdown"]))
            return f"{fn}({a})"
        if form == 8:
            return f"[{a}, {b},]" if draw(st.booleans()) else f"[{a}]"
        if form == 9:
            return f"{{key: {a}, 'other key': {b}}}"
        if form == 10:
            return f"({a})[{b}]"
        if form == 11:
            return f"join([{a}, {b}], ', ')"
        return f"{{'x': {a}}}[({b})] ?? {draw(atoms())}"

    return build()


def statements(depth: int = 2) -> st.SearchStrategy[str]:
    @st.composite
    def build(draw) -> str:
        form = draw(st.integers(0, 9 if depth > 0 else 6))
        e = draw(exprs(draw(st.integers(0, 2))))
        if form == 0:
            return f"replica.{draw(st.sampled_from(FIELDS))} = {e}"
        if form == 1:
            return f"let {draw(st.sampled_from(VARS))} = {e}"
        if form == 2:
            return f"replica.labels {draw(st.sampled_from(['+=', '-=']))} {e}"
        if form == 3:
            return draw(st.sampled_from(["skip", f"skip {e}", f"fail {e}"]))
        if form == 4:
            return f"log {e}"
        if form == 5:
            return f"replica.custom[{_text(draw)}] = {e}"
        if form == 6:
            return f"{draw(st.sampled_from(VARS))} = {e}"
        body = draw(blocks(depth - 1))
        if form == 7:
            tail = draw(st.sampled_from(["", " else {}", f" else if {e} {body}", f"\nelse {body}"]))
            return f"if {e} {body}{tail}"
        if form == 8:
            return f"for {draw(st.sampled_from(VARS))} in {e} {body}"
        return f"map Blue.issue.status <-> Green.issue.status {{\n  'a' <-> 'b'\n  'c' -> 'd'\n  'e' <- 'f'\n" \
               f"  else {draw(st.sampled_from(['keep', 'error', 'default null']))}\n}}"

    return build()


@st.composite
def blocks(draw, depth: int) -> str:
    items = draw(st.lists(statements(depth), max_size=2))
    sep = draw(st.sampled_from(["\n", "; ", "\n// note\n", "\n/* block\ncomment */\n"]))
    return "{" + sep + sep.join(items) + sep + "}" if items else "{}"


@st.composite
def programs(draw) -> str:
    items = draw(st.lists(statements(2), min_size=1, max_size=5))
    sep = draw(st.sampled_from(["\n", ";", "\r\n", "\n\n", "  // c\n"]))
    return sep.join(items) + draw(st.sampled_from(["", "\n"]))


@SETTINGS
@given(programs(), st.sampled_from([None, "outgoing", "incoming", "connection"]))
def test_generated_programs_parse_and_check(source: str, kind: str | None) -> None:
    program = parse(source, "gen.rules")  # text from the grammar always parses
    result = check(program, kind=kind)
    assert result.kind in model.KINDS
    assert all(d.span is not None and d.span.line >= 1 and d.span.col >= 1 for d in result.diagnostics)
    assert result.diagnostics == sorted(result.diagnostics, key=lambda d: (d.span.line, d.span.col, d.code))


HOSTILE = ["{", "}", "(", ")", "[", "]", '"', "'", '"""', "${", "\\", "\0", "é", "\t", "\r", "\n", "&&", "/*",
           "->", "<->", "<-", "else", "map", "let", "if", ".", ",", ";", "=", "==", "??", "|", "#", "\ud800",
           "\u202e", "9" * 30, "_x", "x" * 300]


@st.composite
def mutated(draw) -> str:
    text = draw(programs())
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        i = draw(st.integers(0, len(text) - 1))
        j = draw(st.integers(i, min(len(text), i + 12)))
        op = draw(st.integers(0, 3))
        if op == 0:
            text = text[:i] + text[j:]
        elif op == 1:
            text = text[:i] + draw(st.sampled_from(HOSTILE)) + text[i:]
        elif op == 2:
            text = text[:i] + text[i:j] * 2 + text[j:]
        else:
            text = text[:i] + text[j:] + text[i:j]
    return text


@SETTINGS
@given(mutated())
def test_mutations_give_diagnostics_never_exceptions(source: str) -> None:
    try:
        program = parse(source, "mut.rules")
    except RuleSyntaxError as e:
        assert e.diagnostics and e.diagnostics[0].span is not None
    else:
        check(program)
    checked = load(source, "mut.rules")  # the composition never raises for bad rule text
    assert checked.ok == (checked.program is not None and not checked.errors)
    checked.render()


@SETTINGS
@given(st.binary(max_size=200))
def test_random_bytes_never_raise(data: bytes) -> None:
    checked = load(data, "bytes.rules")
    checked.render()
    try:
        parse(data, "bytes.rules")
    except RulelangError:
        pass
