"""Split-then-run equals running the connection script directly: hand-written scripts and random ones."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import runtime._dates
from rulelang.parse import parse
from rulelang.program import load
from rulelang.split import split

from .gen_scripts import INSTANCES, issues, scripts
from .helpers import SCRIPTS, lookups, sample_issues, split_file, via_runtime, via_split_reference
from .reference import NOW, run_direction


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """now() gives the reference interpreter's time in the runtime too."""
    monkeypatch.setattr(runtime._dates, "now_iso", lambda: NOW)


def test_the_corpus_covers_every_construct() -> None:
    from rulelang import nodes as n

    seen: set[str] = set()
    for path in SCRIPTS:
        program, _ = split_file(path)
        for node in n.walk(program):
            seen.add(type(node).__name__)
            if isinstance(node, n.ValueMap):
                seen.add(f"else {node.otherwise}")
                seen.update(f"arrow {r.arrow}" for r in node.entries)
            if isinstance(node, n.Assign):
                seen.add(f"op {node.op}")
            if isinstance(node, n.Call | n.MethodCall):
                seen.add(getattr(node, "func", None) or node.method)
    wanted = {"Assign", "Let", "If", "For", "Skip", "Fail", "Log", "ValueMap", "Interp", "Lambda", "ListLit",
              "MapLit", "BinOp", "BoolOp", "Not", "Neg", "Coalesce", "Merge", "Cond", "Index", "Call",
              "MethodCall", "else keep", "else error", "else default", "arrow <->", "arrow ->", "arrow <-",
              "op +=", "op -=", "user", "twin", "now", "filter", "map", "any", "first", "sort_by", "unique"}
    assert wanted <= seen, sorted(wanted - seen)
    assert len(SCRIPTS) >= 20


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_corpus_script_splits_to_the_same_result(path) -> None:
    program, result = split_file(path)
    a, b = result.instances
    issues_ = sample_issues()
    statuses = []
    for sender, target in ((a, b), (b, a)):
        for source, twin in itertools.product(issues_, [*issues_, None]):
            want = run_direction(program, sender, target, source, twin, lookups())
            statuses.append(want.status)
            split_ref = via_split_reference(result, sender, target, source, twin, lookups())
            assert split_ref.key() == want.key(), f"{path.name} {sender}→{target} {source['key']}→{twin}"
            real = via_runtime(result, sender, target, source, twin, lookups())
            assert real.key() == want.key(), f"{path.name} {sender}→{target} {source['key']}→{twin} (runtime)"
    # Run-time errors (a null summary + text, say) must agree too, but most runs should get somewhere.
    assert len(statuses) == 2 * 4 * 5 and statuses.count("error") <= len(statuses) // 2, statuses


def test_the_comparison_is_not_vacuous() -> None:
    """A deliberately wrong split (the target ignores one statement) is caught by the same comparison."""
    from dataclasses import replace

    program, result = split_file(SCRIPTS[0])
    side = result.side("BlueJira")
    broken = replace(side, incoming=replace(side.incoming, stmts=side.incoming.stmts[1:]))
    bad = replace(result, sides=(broken, result.sides[1]))
    source, twin = sample_issues()[0], sample_issues()[1]
    want = run_direction(program, "GreenJira", "BlueJira", source, twin)
    assert via_split_reference(result, "GreenJira", "BlueJira", source, twin).key() == want.key()
    assert via_split_reference(bad, "GreenJira", "BlueJira", source, twin).key() != want.key()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(scripts(), issues(), st.one_of(st.none(), issues()))
def test_random_scripts_split_to_the_same_result(source: str, green: dict, blue: dict | None) -> None:
    program = parse(source, "random.rules")
    checked = load(source, "random.rules", kind="connection", instances=INSTANCES)
    assert not checked.errors, checked.render() + "\n" + source
    result = split(program, INSTANCES)
    for sender, target, issue, twin in (("Green", "Blue", green, blue), ("Blue", "Green", blue or green, green)):
        want = run_direction(program, sender, target, issue, twin)
        assert want.status != "error", source
        assert via_split_reference(result, sender, target, issue, twin).key() == want.key(), source
        assert via_runtime(result, sender, target, issue, twin).key() == want.key(), source
