"""The formatter: parse(format(p)) is p (modulo spans), with correct parentheses, escapes and interpolation."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulelang import nodes as n
from rulelang.format import FormatError, format_expr, format_program, same_nodes, strip_spans
from rulelang.parse import parse, parse_expr
from rulelang.span import Span

from .gen_scripts import scripts
from .helpers import SCRIPTS

SP = Span("<t>", 1, 1, 1, 2)
KEYWORDS = {"let", "if", "else", "for", "in", "skip", "fail", "log", "map", "default", "and", "or", "not",
            "true", "false", "null", "keep", "error"}


def roundtrip(text: str) -> str:
    """Parse an expression, format it, and check the formatted text parses to the same tree."""
    e = parse_expr(text)
    out = format_expr(e)
    assert same_nodes(parse_expr(out), e), out
    return out


@pytest.mark.parametrize("text, want", [
    ("a - (b - c)", "a - (b - c)"),
    ("(a - b) - c", "a - b - c"),
    ("a * (b + c)", "a * (b + c)"),
    ("-(a + b)", "-(a + b)"),
    ("(-5)[0]", "(-5)[0]"),
    ("a - -5", "a - -5"),
    ("(a ?? b) ?? c", "(a ?? b) ?? c"),
    ("a ?? b ?? c", "a ?? b ?? c"),
    ("(a if b else c) if d else e", "(a if b else c) if d else e"),
    ("a if b else c if d else e", "a if b else c if d else e"),
    ("not (a and b) or c", "not (a and b) or c"),
    ("not a == b", "not a == b"),
    ("(not a) == b", "(not a) == b"),
    ("a < (b < c)", "a < (b < c)"),
    ("(a or b) and c", "(a or b) and c"),
    ("a | (b | c)", "a | (b | c)"),
    ("(a | b) + c", "(a | b) + c"),
    ("a | b + c", "a | b + c"),
    ("x not in [1, 2.5]", "x not in [1, 2.5]"),
    ("(a ?? b).c", "(a ?? b).c"),
    ("xs.filter(c -> not c.internal).map(c -> c.body)", "xs.filter(c -> not c.internal).map(c -> c.body)"),
    ("{a: 1, 'b c': 2}['a']", '{a: 1, "b c": 2}["a"]'),
])
def test_parentheses_where_precedence_needs_them(text: str, want: str) -> None:
    assert roundtrip(text) == want


@pytest.mark.parametrize("value, spelled", [
    ("tab\there", r'"tab\there"'),
    ('quote " and \\', r'"quote \" and \\"'),
    ("dollar ${x}", r'"dollar \${x}"'),
    ("line\nbreak\r", r'"line\nbreak\r"'),
    ("\x01\u2028", r'"\u0001\u2028"'),
    ("naïve ✓ 𝄞", '"naïve ✓ 𝄞"'),
])
def test_text_escapes(value: str, spelled: str) -> None:
    lit = n.Literal(SP, value)
    assert format_expr(lit) == spelled
    assert parse_expr(spelled).value == value


@pytest.mark.parametrize("value, spelled", [
    (42, "42"), (-7, "-7"), (3.5, "3.5"), (1e20, "100000000000000000000.0"), (1e-7, "0.0000001"),
    (0.1, "0.1"), (True, "true"), (None, "null"),
])
def test_numbers_and_constants(value, spelled: str) -> None:
    assert format_expr(n.Literal(SP, value)) == spelled
    assert strip_spans(parse_expr(spelled)) == strip_spans(n.Literal(SP, value))


def test_what_has_no_spelling() -> None:
    with pytest.raises(FormatError):
        format_expr(n.Literal(SP, math.nan))
    with pytest.raises(FormatError):
        format_expr(n.Neg(SP, n.Literal(SP, 5)))  # would read back as the literal -5
    with pytest.raises(FormatError):
        format_expr(n.Interp(SP, ("a", n.Interp(SP, ("b", n.Name(SP, "x"))))))


def test_interpolation_parts_use_single_quotes() -> None:
    assert roundtrip('"a ${x.custom[\'k\'] ?? \'d\'} and ${ {\'a\': 1}[y] } end"') == \
        "\"a ${x.custom['k'] ?? 'd'} and ${{a: 1}[y]} end\""


def test_long_maps_go_one_entry_a_line() -> None:
    text = 'issue.priority = {"Blocker": "Highest", "Critical": "High", "Minor": "Low", "Trivial": "Lowest"}[x]'
    out = format_program(parse(text))
    assert out == ('issue.priority = {\n    "Blocker": "Highest",\n    "Critical": "High",\n    "Minor": "Low",\n'
                   '    "Trivial": "Lowest",\n}[x]\n')
    assert same_nodes(parse(out), parse(text))


def test_statements_and_comments() -> None:
    source = ('if a {\n    skip\n} else if b {\n    fail "no"\n} else {\n    log 1\n}\n'
              'for x in xs {\n    let y = x\n    y += 1\n}\n'
              'map A.issue.s <-> B.issue.s {\n    "a" <-> "b"\n    "c" -> "d"\n    "e" <- "f"\n    else error\n}\n')
    program = parse(source)
    assert format_program(program) == source
    noted = format_program(program, annotate=lambda node: f"line {node.span.line}")
    lines = noted.splitlines()
    assert [line.split("//")[-1] for line in lines[:3]] == [" line 1", " line 2", " line 3"]
    assert len({line.index("//") for line in lines if "//" in line}) == 1  # one column per file
    assert same_nodes(parse(noted), program)


def test_same_nodes_ignores_spans_but_not_types() -> None:
    assert same_nodes(parse("x = 1", "a.rules"), parse("\n\nx   =   1", "b.rules"))
    assert not same_nodes(parse("x = 1"), parse("x = 1.0"))
    assert not same_nodes(parse("x = 1"), parse("x = true"))


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_corpus_scripts_roundtrip(path) -> None:
    program = parse(path.read_text(encoding="utf-8"), path.name)
    assert same_nodes(parse(format_program(program)), program)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(scripts())
def test_random_scripts_roundtrip(source: str) -> None:
    program = parse(source)
    assert same_nodes(parse(format_program(program)), program)


# ---- arbitrary trees, built without the parser ----------------------------------------------------

_idents = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(lambda s: s not in KEYWORDS)
_texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
_numbers = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=False, allow_infinity=False))
_literals = st.builds(lambda v: n.Literal(SP, v), st.one_of(st.none(), st.booleans(), _numbers, _texts))
_leaves = st.one_of(_literals, st.builds(lambda i: n.Name(SP, i), _idents))


def _grow(children: st.SearchStrategy, in_interp: bool = False) -> st.SearchStrategy:
    binops = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "in", "not in"]
    lam = st.builds(lambda p, b: n.Lambda(SP, p, b, SP), _idents, children)
    options = [
        st.builds(lambda o, a: n.Attr(SP, o, a, SP), children, _idents),
        st.builds(lambda o, i: n.Index(SP, o, i), children, children),
        st.builds(lambda f, a: n.Call(SP, f, tuple(a), SP), _idents, st.lists(children, max_size=2)),
        st.builds(lambda o, m, a: n.MethodCall(SP, o, m, tuple(a), SP), children, _idents,
                  st.lists(st.one_of(children, lam), max_size=2)),
        st.builds(lambda xs: n.ListLit(SP, tuple(xs)), st.lists(children, max_size=3)),
        st.builds(lambda d: n.MapLit(SP, tuple(n.MapEntry(SP, k, v, SP) for k, v in d.items())),
                  st.dictionaries(_texts, children, max_size=3)),
        st.builds(lambda op, a, b: n.BinOp(SP, op, a, b), st.sampled_from(binops), children, children),
        st.builds(lambda op, a, b: n.BoolOp(SP, op, a, b), st.sampled_from(["and", "or"]), children, children),
        st.builds(lambda a: n.Not(SP, a), children),
        st.builds(lambda a: n.Neg(SP, a), children).filter(
            lambda e: not (isinstance(e.operand, n.Literal) and type(e.operand.value) in (int, float))),
        st.builds(lambda a, b: n.Coalesce(SP, a, b), children, children),
        st.builds(lambda a, b: n.Merge(SP, a, b), children, children),
        st.builds(lambda a, c, b: n.Cond(SP, a, c, b), children, children, children),
    ]
    if not in_interp:
        options.append(st.builds(_interp, st.lists(st.one_of(_texts, _exprs(in_interp=True)), min_size=1,
                                                    max_size=4)))
    return st.one_of(*options)


def _interp(parts: list) -> n.Expr:
    merged: list = []
    for p in parts:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        elif not (isinstance(p, str) and not p):
            merged.append(p)
    if all(isinstance(p, str) for p in merged):
        return n.Literal(SP, "".join(merged))
    return n.Interp(SP, tuple(merged))


def _exprs(in_interp: bool = False) -> st.SearchStrategy:
    return st.recursive(_leaves, lambda c: _grow(c, in_interp), max_leaves=8)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(_exprs())
def test_random_trees_roundtrip(e: n.Expr) -> None:
    text = format_expr(e)
    assert same_nodes(parse_expr(text), e), text


@pytest.mark.parametrize("ch", ['"', "'", "$", "{", "}", "\\", "${", '"}', 'a"b"c'])
@pytest.mark.parametrize("before", [(), (n.MapLit(SP, ()),), (n.MapLit(SP, (n.MapEntry(SP, "k", n.Literal(SP, 1), SP),)),)],
                         ids=["alone", "after {}", "after {k: 1}"])
def test_texts_inside_interpolation_survive_a_map_before_them(ch: str, before: tuple) -> None:
    # The lexer reads `${…}` up to its first '}': after a map literal, the rest is read as the outer text's,
    # where a bare '"' (even inside single quotes) would end it. Found by test_random_trees_roundtrip.
    for arg in (n.Literal(SP, ch), n.MapLit(SP, (n.MapEntry(SP, ch, n.Literal(SP, ch), SP),))):
        e = n.Interp(SP, ("x", n.Call(SP, "f", (*before, arg), SP), "y"))
        text = format_expr(e)
        assert same_nodes(parse_expr(text), e), text


def test_a_double_quote_inside_interpolation_is_escaped() -> None:
    e = n.Interp(SP, (n.Call(SP, "f", (n.MapLit(SP, ()), n.Literal(SP, '"')), SP),))
    assert format_expr(e) == "\"${f({}, '\\\"')}\""
