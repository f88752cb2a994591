"""The recursive-descent parse path (rulelang/_rdparse.py) against the reference Lark pipeline: same trees, same errors."""

from __future__ import annotations

import dataclasses
import pathlib
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rd_cases import FALLS_BACK, HANDLED
from test_fuzz_front import mutated, programs
from test_golden_syntax_check import read_chunks

from rulelang import _rdexpr, _rdparse
from rulelang import nodes as n
from rulelang import parse as parse_module
from rulelang._fastnodes import Fallback, maker
from rulelang.errors import RuleSyntaxError
from rulelang.parse import ParseLimits, _parser, normalize, parse, parse_expr, parse_reference
from rulelang.span import Span

ROOT = pathlib.Path(__file__).resolve().parents[2]
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _sources() -> list[tuple[str, str]]:
    """Every example file, every golden case file, and every chunk of the syntax/check goldens."""
    out = []
    for path in sorted([*ROOT.glob("examples/**/*.rules"), *ROOT.glob("tests/cases/**/*.rules")]):
        text = path.read_text(encoding="utf-8")
        out.append((path.relative_to(ROOT).as_posix(), text))
        if path.parent.name in ("syntax", "check"):
            for chunk in read_chunks(path):
                out.append((f"{path.name}:{chunk.start}", "\n".join(chunk.code) + "\n"))
    return out


SOURCES = _sources()


def _outcome(fn, text: str, **kw: Any) -> Any:
    try:
        return fn(text, "case.rules", **kw)
    except RuleSyntaxError as e:
        return e.diagnostics


def _rd(text: str, start: str = "start", nesting: int = 32, depth: int = 200) -> Any:
    """The recursive-descent parser's own value and height bound, with no fallback to Lark."""
    return _rdparse.parse(normalize(text), "case.rules", start, nesting, depth)


def _height(node: n.Node) -> int:
    stack, most = [(node, 1)], 0
    while stack:
        x, d = stack.pop()
        most = max(most, d)
        stack.extend((c, d + 1) for c in n.children(x))
    return most


def _agrees(text: str) -> None:
    """parse == the reference (nodes with spans, or the one diagnostic); where the reference parses,
    the RD parser takes the text itself, with a true bound on each statement's height."""
    ref = _outcome(parse_reference, text)
    got = _outcome(parse, text)
    assert got == ref and repr(got) == repr(ref)
    if isinstance(ref, list):  # a syntax error: the RD parser never accepts what Lark refuses
        with pytest.raises(Fallback):
            _rd(text)
    else:
        stmts, longest = _rd(text)
        assert tuple(stmts) == ref.stmts
        assert all(_height(s) <= longest for s in stmts)


def test_sources_cover_clean_and_broken_text() -> None:
    parsed = sum(1 for _, text in SOURCES if not isinstance(_outcome(parse_reference, text), list))
    assert parsed >= 150 and len(SOURCES) - parsed >= 60


@pytest.mark.parametrize(("name", "text"), SOURCES, ids=[name for name, _ in SOURCES])
def test_sources_agree(name: str, text: str) -> None:
    _agrees(text)


@pytest.mark.parametrize("text", HANDLED)
def test_hand_picked_cases_agree(text: str) -> None:
    _agrees(text)


@pytest.mark.parametrize("text", FALLS_BACK)
def test_what_the_rd_parser_leaves_to_lark(text: str) -> None:
    """Text Lark's contextual lexer may read otherwise than one regex pass (or rare forms): Lark decides."""
    with pytest.raises(Fallback):
        _rd(text)
    ref = _outcome(parse_reference, text)
    assert _outcome(parse, text) == ref


def test_hand_picked_cases_are_mostly_clean_text() -> None:
    clean = [t for t in HANDLED if not isinstance(_outcome(parse_reference, t), list)]
    assert len(HANDLED) >= 250 and len(clean) >= 200


@SETTINGS
@given(programs())
def test_generated_programs_agree(source: str) -> None:
    ref = parse_reference(source, "case.rules")
    assert parse(source, "case.rules") == ref
    stmts, longest = _rd(source)
    assert tuple(stmts) == ref.stmts and all(_height(s) <= longest for s in stmts)


@SETTINGS
@given(mutated())
def test_mutated_programs_agree(source: str) -> None:
    ref = _outcome(parse_reference, source)
    assert _outcome(parse, source) == ref
    if isinstance(ref, list):
        with pytest.raises(Fallback):
            _rd(source)


@SETTINGS
@given(mutated(), st.integers(1, 12), st.integers(1, 6))
def test_limits_agree(source: str, depth: int, nesting: int) -> None:
    """Tight limits: the RD path's height bound and nesting count must refuse exactly what the reference refuses."""
    limits = ParseLimits(max_tree_depth=depth, max_nesting=nesting)
    assert _outcome(parse, source, limits=limits) == _outcome(parse_reference, source, limits=limits)


@pytest.mark.parametrize("nesting", range(1, 8))
@pytest.mark.parametrize("text", [
    "replica.x = [[[[1]]]]\n",
    "if a {\n  if b {\n    replica.x = f((1), [2], {k: {j: 3}})\n  }\n}\n",
    'replica.x = [("${[(a)]}")]\n',
    'replica.x = f("${a}"[0], "${g(h)}")\n',
    'replica.x = """${ {a: [1]}["a"] }"""\n',
])
def test_nesting_limit_agrees(text: str, nesting: int) -> None:
    limits = ParseLimits(max_nesting=nesting)
    assert _outcome(parse, text, limits=limits) == _outcome(parse_reference, text, limits=limits)


@pytest.mark.parametrize("text", [
    "replica.x = a" + ".b" * 250,  # a long path: deep tree, one token here
    "replica.x = a" + " .b" * 250,
    "replica.x = " + " + ".join(["1"] * 190),  # long chain, shallow after precedence climbing
    "replica.x = " + " ?? ".join(["a"] * 199),  # right-associative: as deep as it is long
    "replica.x = " + " ?? ".join(["a"] * 201),
    "replica.x = " + "not " * 199 + "a",
    "replica.x = " + "-" * 210 + "1",
    "replica.x = xs.map(" + "x -> " * 150 + "x)",
    "replica.x = " + "1 if c else " * 120 + "2",
    'replica.x = "${' + "a." * 120 + 'b}"',
    'replica.x = """${"${' + "a." * 100 + 'b}"}"""',
    "if a {\n" * 20 + "skip\n" + "}\n" * 20,
    "replica.x = " + "(" * 31 + "1" + ")" * 31,
    "replica.x = " + "(" * 33 + "1" + ")" * 33,
])
def test_deep_and_long_statements_agree(text: str) -> None:
    assert _outcome(parse, text) == _outcome(parse_reference, text)
    expr = text.split("= ", 1)[-1]
    assert _outcome(parse_expr, expr) == _outcome(_reference_expr, expr)


@pytest.mark.parametrize("depth", [3, 5, 8, 20])
@pytest.mark.parametrize("text", [
    "replica.x = a.b.c.d.e.f.g\n", "replica.x = a ?? b ?? c ?? d ?? e\n", 'replica.x = "${a.b.c.d}"\n',
    "let v = f(g(h(i(j(1)))))\nreplica.x = -(-(-(1)))\n", "if a { if b { if c { skip } } }\n",
])
def test_tree_depth_limit_agrees(text: str, depth: int) -> None:
    limits = ParseLimits(max_tree_depth=depth)
    assert _outcome(parse, text, limits=limits) == _outcome(parse_reference, text, limits=limits)


def _reference_expr(text: str, file: str) -> n.Expr:
    expr = parse_module._run_lark(_parser(), text, file, "expr", parse_module.DEFAULT_LIMITS)
    parse_module._check_depth(expr, parse_module.DEFAULT_LIMITS)
    return expr


@pytest.mark.parametrize("text", [
    'issue.comments.filter(c -> not c.internal).map(c -> "${c.author.name ?? \'?\'}: ${c.body}")',
    "a if b else c", "x -> x + 1", "{a: 1}", "  -1  ", "not a in b", '"""\n${a}\n"""',
])
def test_parse_expr_uses_the_rd_parser(text: str) -> None:
    assert parse_expr(text) == _reference_expr(text, "<expr>")
    assert _rdparse.parse(text, "<expr>", "expr", 32, 200)[0] == parse_expr(text)


@pytest.mark.parametrize("text", ["a\n", "a b", "", "x = 1", "a,"])
def test_parse_expr_falls_back_on_what_is_no_expression(text: str) -> None:
    with pytest.raises(Fallback):
        _rdparse.parse(text, "<expr>", "expr", 32, 200)
    assert _outcome(parse_expr, text) == _outcome(_reference_expr, text)


def test_keyword_sets_are_larks() -> None:
    """Where Lark's contextual lexer reads NAME, the keywords it also reads there are one of the RD parser's sets."""
    contextual = _parser().lark.parser.lexer.lexer
    seen = set()
    for lark_lexer in contextual.lexers.values():
        names = {t.name for t in lark_lexer.scanner.terminals}
        if "NAME" not in names:
            continue
        # A keyword is a whole-word pattern, `in(?![A-Za-z0-9_])` or `(keep|error)(?!…)`.
        words = {w for t in lark_lexer.scanner.terminals if t.name != "NAME"
                 for m in [re.fullmatch(r"\(?([a-z|]+)\)?\(\?!\[A-Za-z0-9_\]\)", t.pattern.value)] if m
                 for w in m.group(1).split("|")}
        seen.add(frozenset(words))
    assert seen == {frozenset(), _rdexpr.OPERAND_KEYWORDS, _rdparse.STATEMENT_KEYWORDS, _rdexpr.POSTFIX_KEYWORDS}


def test_maker_builds_what_the_constructor_builds() -> None:
    sp = Span("f", 1, 2, 3, 4, 5, 6)
    assert maker(Span)("f", 1, 2, 3, 4, 5, 6) == sp
    for cls in [c for c in vars(n).values() if isinstance(c, type) and dataclasses.is_dataclass(c)]:
        args = [f"v{i}" for i, _ in enumerate(dataclasses.fields(cls))]
        made, built = maker(cls)(*args), cls(*args)
        assert made == built and type(made) is cls and hash(made) == hash(built)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(made, dataclasses.fields(cls)[0].name, sp)


def test_twin_maker_builds_spans_like_the_constructor() -> None:
    import pickle

    from rulelang._fastnodes import S, twin_maker

    made, built = S("f", 1, 2, 3, 4, 5, 6), Span("f", 1, 2, 3, 4, 5, 6)
    assert made == built and type(made) is Span and hash(made) == hash(built) and repr(made) == repr(built)
    assert "__class__" in S.__code__.co_names  # the twin, not the fallback
    assert pickle.loads(pickle.dumps(made)) == built and dataclasses.replace(made, line=9) == Span("f", 9, 2, 3, 4,
                                                                                                 5, 6)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.line = 2  # type: ignore[misc]
    name = twin_maker(n.Name)  # a node has a base with slots: the plain maker
    assert "__class__" not in name.__code__.co_names and name(built, "x") == n.Name(built, "x")


def _reference_children(node: n.Node) -> list[n.Node]:
    """`children` as it was: every Node in every non-span field, nested tuples flattened, in order."""
    out: list[n.Node] = []

    def visit(v: Any) -> None:
        if isinstance(v, n.Node):
            out.append(v)
        elif isinstance(v, tuple):
            for item in v:
                visit(item)

    for f in dataclasses.fields(node):
        if f.name not in n._SPAN_FIELDS:
            visit(getattr(node, f.name))
    return out


@pytest.mark.parametrize("name", [name for name, _ in SOURCES if name.startswith("examples/") and "/bad/" not in name])
def test_children_and_walk_are_unchanged(name: str) -> None:
    program = parse(dict(SOURCES)[name], name)
    order: list[n.Node] = []
    stack = [program]
    while stack:
        node = stack.pop()
        order.append(node)
        assert list(n.children(node)) == n.child_list(node) == _reference_children(node)
        stack.extend(reversed(_reference_children(node)))
    assert [id(x) for x in n.walk(program)] == [id(x) for x in order]


def test_syntax_errors_come_from_the_reference_pipeline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Text the RD parser refuses goes through Lark (so diagnostics stay the reference's); clean text never does."""
    calls = []
    real = parse_module._run_lark
    clean = [text for _, text in SOURCES if not isinstance(_outcome(parse_reference, text), list)]

    def counting(*args: Any) -> Any:
        calls.append(args[1])
        return real(*args)

    monkeypatch.setattr(parse_module, "_run_lark", counting)
    for text in [*clean, "replica.key = issue.key\n", 'replica.x = "${issue.key}"\n']:
        parse(text)
    assert calls == []
    with pytest.raises(RuleSyntaxError) as e:
        parse("replica.x = 1 && 2\n")
    assert calls == ["replica.x = 1 && 2\n"] and e.value.diagnostics[0].code == "S101"


def test_long_statement_bound_falls_back_to_the_depth_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    walked = []
    real = parse_module._check_depth
    monkeypatch.setattr(parse_module, "_check_depth", lambda root, limits: (walked.append(root), real(root, limits)))
    parse("replica.key = issue.key\n")
    assert walked == []  # a few tokens: no tree that tall
    parse("replica.x = [" + ", ".join(["1"] * 150) + "]\n")
    assert len(walked) == 1  # 300 tokens in one statement: walked, and fine
    assert "S111" in str(_outcome(parse, "replica.x = a" + ".b" * 250))


def test_parse_pauses_garbage_collection_and_restores_it() -> None:
    import gc

    seen = []
    real = parse_module._parse

    def spying(*args: Any, **kw: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kw)

    assert gc.isenabled()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(parse_module, "_parse", spying)
        parse("replica.key = issue.key\n")
        with pytest.raises(RuleSyntaxError):
            parse("replica.key = = 1\n")
        assert gc.isenabled()  # restored, after a parse and after a syntax error
        gc.disable()
        try:
            parse("replica.key = issue.key\n")
            assert not gc.isenabled()  # a caller's choice is kept
        finally:
            gc.enable()
    assert seen == [False, False, False]


def test_the_reference_parser_builds_without_a_lark_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh machine has no Lark cache: the parser Lark builds itself (its table names are lark Tokens,
    not str) must give the RD parser's trees and the same diagnostics as the one loaded from the cache."""
    import grammar

    monkeypatch.setattr(grammar, "cache_file", lambda name: False)
    fresh = parse_module._Parser()
    monkeypatch.setattr(parse_module, "_parser", lambda: fresh)
    for name, text in SOURCES:
        ref = _outcome(parse_reference, text)
        if isinstance(ref, list):
            assert ref == _outcome(parse, text), name
        else:
            assert tuple(_rd(text)[0]) == ref.stmts, name
