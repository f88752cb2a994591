"""The fast parse path (rulelang/_fastparse.py) against the reference Lark pipeline: same tokens, same trees, same errors."""

from __future__ import annotations

import dataclasses
import pathlib
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz_front import mutated, programs
from test_golden_syntax_check import read_chunks

from rulelang import nodes as n
from rulelang import parse as parse_module
from rulelang._fastnodes import Fallback, maker
from rulelang._fastparse import RULES, rule_key
from rulelang.errors import RuleSyntaxError
from rulelang.parse import ParseLimits, _parser, parse, parse_expr, parse_reference
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


def _fast_only(text: str, start: str = "start") -> Any:
    """The fast loop's own value, with no fallback to Lark."""
    return _parser().fast.parse(text, "case.rules", start, 32, 200)[0]


def test_sources_cover_clean_and_broken_text() -> None:
    parsed = sum(1 for _, text in SOURCES if not isinstance(_outcome(parse_reference, text), list))
    assert parsed >= 150 and len(SOURCES) - parsed >= 60


@pytest.mark.parametrize(("name", "text"), SOURCES, ids=[name for name, _ in SOURCES])
def test_fast_and_reference_agree(name: str, text: str) -> None:
    ref = _outcome(parse_reference, text)
    assert _outcome(parse, text) == ref  # nodes (spans included) or the one diagnostic
    if isinstance(ref, list):  # syntax error: the fast loop must not accept what Lark refuses
        with pytest.raises(Fallback):
            _fast_only(text)
    else:  # and it parses all of it itself, without falling back
        assert tuple(_fast_only(text)) == ref.stmts


@SETTINGS
@given(programs())
def test_generated_programs_agree(source: str) -> None:
    ref = parse_reference(source, "case.rules")
    assert parse(source, "case.rules") == ref
    assert tuple(_fast_only(source.replace("\r\n", "\n"))) == ref.stmts


@SETTINGS
@given(mutated())
def test_mutated_programs_agree(source: str) -> None:
    assert _outcome(parse, source) == _outcome(parse_reference, source)


@SETTINGS
@given(mutated(), st.integers(1, 12), st.integers(1, 6))
def test_limits_agree(source: str, depth: int, nesting: int) -> None:
    """Tight limits: the fast path's height bound and nesting count must refuse exactly what the reference refuses."""
    limits = ParseLimits(max_tree_depth=depth, max_nesting=nesting)
    assert _outcome(parse, source, limits=limits) == _outcome(parse_reference, source, limits=limits)


@pytest.mark.parametrize("text", [
    "replica.x = a" + ".b" * 250,  # a long path: deep tree, no brackets
    "replica.x = " + " + ".join(["1"] * 190),  # long chain, shallow after precedence climbing
    "replica.x = xs.map(" + "x -> " * 150 + "x)",
    "replica.x = " + "1 if c else " * 120 + "2",
    'replica.x = "${' + "a." * 120 + 'b}"',
    "if a {\n" * 20 + "skip\n" + "}\n" * 20,
])
def test_deep_and_long_statements_agree(text: str) -> None:
    assert _outcome(parse, text) == _outcome(parse_reference, text)
    expr = text.split("= ", 1)[-1]
    assert _outcome(parse_expr, expr) == _outcome(_reference_expr, expr)


def _reference_expr(text: str, file: str) -> n.Expr:
    expr = parse_module._run_lark(_parser(), text, file, "expr", parse_module.DEFAULT_LIMITS)
    parse_module._check_depth(expr, parse_module.DEFAULT_LIMITS)
    return expr


def test_parse_expr_uses_the_fast_loop() -> None:
    text = 'issue.comments.filter(c -> not c.internal).map(c -> "${c.author.name ?? \'?\'}: ${c.body}")'
    assert parse_expr(text) == _reference_expr(text, "<expr>") == _parser().fast.parse(text, "<expr>", "expr", 32,
                                                                                         200)[0]


def _lark_tokens(text: str) -> list[tuple]:
    """The tokens Lark's lexer and post-lexer hand to Lark's parser, `${…}` parts included, in order."""
    p = _parser()
    seen: list[tuple] = []
    process = p.postlex.process

    def recording(stream):
        for tok in process(stream):
            seen.append((tok.type, str(tok), tok.start_pos, tok.end_pos, tok.line, tok.column, tok.end_line,
                         tok.end_column))
            yield tok

    p.postlex.process = recording
    try:
        parse_reference(text, "case.rules")
    finally:
        del p.postlex.process
    return seen


def _fast_tokens(text: str) -> list[tuple]:
    fast = _parser().fast
    fast.trace = []
    try:
        _fast_only(text)
        trace = fast.trace
    finally:
        fast.trace = None
    # Line and column of a `${…}` part are placed in the file; Lark's count from the part's start.
    return [(*t[:4], *t[4:8]) if t[8] == 0 else (*t[:4], None, None, None, None) for t in trace]


@pytest.mark.parametrize(("name", "text"), [s for s in SOURCES if not isinstance(_outcome(parse_reference, s[1]),
                                                                                  list)],
                         ids=lambda v: v if isinstance(v, str) and len(v) < 60 else "text")
def test_fast_lexer_tokenizes_like_lark(name: str, text: str) -> None:
    lark_tokens = _lark_tokens(text)
    fast = _fast_tokens(text)
    assert [t[:4] for t in fast] == [t[:4] for t in lark_tokens]
    assert [f for f in fast if f[4] is not None] == [t for t, f in zip(lark_tokens, fast, strict=True)
                                                      if f[4] is not None]


@SETTINGS
@given(programs())
def test_fast_lexer_tokenizes_generated_programs_like_lark(source: str) -> None:
    source = source.replace("\r\n", "\n")
    assert [t[:4] for t in _fast_tokens(source)] == [t[:4] for t in _lark_tokens(source)]


def test_contextual_tokens() -> None:
    """Words and operators whose terminal depends on the parser state, as in Lark's contextual lexer."""
    for text in ["map A.issue.s <-> B.issue.s {\n'a' <- 'b'\n'c' -> 'd'\nelse default 'x'\n}\n",
                 "let keep = 1\nreplica.x = keep\nreplica.y = 1 < -2\nreplica.z = -x - -1\n",
                 "map A.issue.s <-> B.issue.s {\n'a' <-> 'b'\nelse keep\n}\n", "replica.x = a not in b\n",
                 "replica.x = {default: 1, error: 2, keep: 3}\n"]:
        assert _fast_tokens(text)[:40] and _fast_tokens(text) == [
            (*t[:4], *t[4:]) for t in _lark_tokens(text)]
        assert parse(text) == parse_reference(text)


def test_every_grammar_rule_has_a_builder_and_no_builder_is_stale() -> None:
    rules = {rule_key(r) for r in _parser().lark.parser.parser.parser.callbacks}
    assert rules == set(RULES)


def test_state_lexers_match_larks_contextual_lexer() -> None:
    """Per parser state: the same terminals, in the same order, with the same keyword retyping as Lark."""
    p = _parser()
    contextual = p.lark.parser.lexer.lexer
    for state, lark_lexer in contextual.lexers.items():
        ours = p.fast.lex.get(state)
        scanner = lark_lexer.scanner  # builds Lark's regexes and its keyword callbacks
        theirs = [t.name for t in scanner.terminals if t.name != "__IGNORE_2"]  # ours skips blanks first
        assert [nm for nm in ours.names if nm and nm != "$END"] == theirs
        retype = {name: {t.pattern.value: t.name for t in cb.scanner.terminals}
                  for name, cb in lark_lexer.callback.items()}
        assert ours.retype == retype, state


def test_maker_builds_what_the_constructor_builds() -> None:
    sp = Span("f", 1, 2, 3, 4, 5, 6)
    assert maker(Span)("f", 1, 2, 3, 4, 5, 6) == sp
    for cls in [c for c in vars(n).values() if isinstance(c, type) and dataclasses.is_dataclass(c)]:
        args = [f"v{i}" for i, _ in enumerate(dataclasses.fields(cls))]
        made, built = maker(cls)(*args), cls(*args)
        assert made == built and type(made) is cls and hash(made) == hash(built)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(made, dataclasses.fields(cls)[0].name, sp)


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
    """Text the fast loop refuses goes through Lark (so diagnostics stay the reference's); clean text never does."""
    calls = []
    real = parse_module._run_lark

    def counting(*args: Any) -> Any:
        calls.append(args[1])
        return real(*args)

    monkeypatch.setattr(parse_module, "_run_lark", counting)
    for text in ("replica.key = issue.key\n", 'replica.x = "${issue.key}"\n'):
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
    assert walked == []  # 7 tokens: no tree that tall
    parse("replica.x = [" + ", ".join(["1"] * 150) + "]\n")
    assert len(walked) == 1  # 300 tokens in one statement: walked, and fine
    assert re.search(r"S111", str(_outcome(parse, "replica.x = a" + ".b" * 250)))


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


def test_a_freshly_built_table_drives_the_fast_loop_like_a_cached_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh machine has no Lark cache: the table Lark builds itself (its names are lark Tokens, not str)
    must give the same trees as the one loaded from the cache (its state numbers may differ)."""
    import grammar

    monkeypatch.setattr(grammar, "cache_file", lambda name: False)
    fresh = parse_module._Parser()
    assert not [v for row in fresh.fast.actions for v in row.values() if isinstance(v, str) and type(v) is not str]
    for name, text in SOURCES:
        ref = _outcome(parse_reference, text)
        if not isinstance(ref, list):
            assert tuple(fresh.fast.parse(text, "case.rules", "start", 32, 200)[0]) == ref.stmts, name


# ---- the one-line shortcut (rulelang/_fastshort.py)

_ASSIGN_LINES = [
    "replica.summary = issue.summary\n",
    "replica.key         = issue.key   // aligned, with a comment\nreplica.x = issue.y\n",
    "replica.a.b.c = issue.d.e.f\nreplica.g = h\n",
    "replica.labels += issue.labels\nreplica.n -= issue.m\n",
    "replica.x\t=\tissue.y\t\n",
    "replica.x = issue.y\n  .trim()\n",  # a method chain goes on: the newline does not end it
    "replica.x = issue.y\nelse\n",  # `else` continues (and is then refused)
    "if a {\n  replica.x = issue.y\n  replica.z = issue.w\n}\n",  # the last one before `}` goes token by token
    "replica.x = null\nreplica.y = true\nreplica.z = not\n",  # keywords are no paths
    "let x = issue.key\nreplica.k = x\n",  # `let … =` is EQUAL: the table refuses the shortcut there
    "replica.x = issue.y;\nreplica.z = issue.w\n",
    "replica.x == issue.y\n", "replica.x = issue.y.\n", "replica.x = = issue.y\n",
    "replica.x = (issue.y\nreplica.z = issue.w)\n",
    "map A.issue.s <-> B.issue.s {\n'a' <-> 'b'\n}\nA.issue.x = B.issue.y\n",
    "replica.custom = {a: issue.b,\nc: issue.d}\nreplica.x = issue.y\n",
    "replica.x = issue.y  /* not a line comment */\n",
    'replica.x = "${issue.y}"\nreplica.z = issue.w\n',
    "replica.x = issue.y",  # no newline at the end
]


@pytest.mark.parametrize("text", _ASSIGN_LINES)
def test_assignment_lines_agree(text: str) -> None:
    assert _outcome(parse, text) == _outcome(parse_reference, text)
    ref = _outcome(parse_reference, text)
    if not isinstance(ref, list):
        assert tuple(_fast_only(text)) == ref.stmts


def test_the_shortcut_reads_assignment_lines_and_only_where_the_table_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from rulelang import _fastparse

    used: list[str] = []
    real = _fastparse.line_builder

    def spying(file: str) -> Any:
        line = real(file)

        def spy(text: str, begin: int, m: Any, *rest: Any) -> Any:
            used.append(text[begin:m.end()])
            return line(text, begin, m, *rest)
        return spy

    monkeypatch.setattr(_fastparse, "line_builder", spying)
    text = "replica.a = issue.b  // c\nlet x = issue.k\nif x {\n  replica.d = issue.e\n  replica.f = x\n}\n"
    assert tuple(_fast_only(text)) == parse_reference(text, "case.rules").stmts
    assert used == ["replica.a = issue.b  // c\n", "replica.d = issue.e\n"]


def test_assign_plan_follows_the_table() -> None:
    from rulelang._fastshort import assign_plan, simulate

    fast = _parser().fast
    start = fast.start_states["start"]
    plan = assign_plan(fast, start, 1, 1)
    assert plan is not None and plan.comment and "null" in plan.value_keywords
    # The plan leaves what the token loop leaves: the statement's state, then the _NL's.
    run = simulate(fast.actions, fast.fn_names, start, ["NAME", "DOT", "NAME", "ASSIGN_OP", "NAME", "DOT", "NAME",
                                                         "_NL"])
    assert run is not None and tuple(state for state, _ in run[2]) == plan.states
    let = fast.actions[start]["LET"]
    assert isinstance(let, int) and assign_plan(fast, let, 0, 1) is None  # `let x = …`: EQUAL, not ASSIGN_OP
    assert simulate(fast.actions, fast.fn_names, start, ["NAME", "ASSIGN_OP", "ASSIGN_OP"]) is None


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
