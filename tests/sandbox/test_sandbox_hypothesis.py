"""Hypothesis: generated programs and hostile payloads never produce anything but a rulelang error or a result."""

from __future__ import annotations

import copy
import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rulelang.errors import RulelangError
from runtime import Limits, StaticLookups, compile_rules, parse_json

FIELDS = ["key", "summary", "description", "status", "priority", "labels", "components", "assignee", "comments",
          "custom", "due", "parent", "attachments"]
METHODS0 = ["lower", "upper", "trim", "unique"]
LAMBDA_METHODS = ["filter", "map", "any", "all", "first", "sort_by"]

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\0"), max_size=12)


def quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("\n", "\\n") + '"'


literals = st.one_of(
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.floats(0, 1e6, allow_nan=False, allow_infinity=False).map(lambda f: f"{f:.3f}"),
    texts.map(quote), st.sampled_from(["true", "false", "null", "[]", "{}"]))


def paths(var: str | None) -> st.SearchStrategy[str]:
    roots = [f"issue.{f}" for f in FIELDS] + ['issue.custom["n"]', "issue.comments[0].body", "issue.assignee.email"]
    if var:
        roots += [var, f"{var}.body", f"{var}.id"]
    return st.sampled_from(roots)


def expressions(var: str | None = None) -> st.SearchStrategy[str]:
    base = st.one_of(literals, paths(var))

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "??", "and", "or",
                                              "in", "|"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda e: f"not {e}"),
            st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
            st.tuples(inner, st.sampled_from(METHODS0)).map(lambda t: f"{t[0]}.{t[1]}()"),
            st.tuples(inner, st.sampled_from(LAMBDA_METHODS)).map(lambda t: f"{t[0]}.{t[1]}(c -> c.body ?? c)"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}.replace({t[1]}, \"x\")"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}.split({t[1]})"),
            paths(var).map(lambda e: f'"<${{{e}}}>"'),  # `${…}` holds no double quotes
            st.tuples(st.sampled_from(["len", "str", "int", "float", "date", "join", "html_to_markdown",
                                       "markdown_to_html"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
            st.lists(inner, max_size=2).map(lambda xs: "{" + ", ".join(f"k{i}: {x}" for i, x in enumerate(xs)) + "}"),
            st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
        )

    return st.recursive(base, extend, max_leaves=6)


statements = st.one_of(
    st.tuples(st.sampled_from(FIELDS + ['custom["x"]']), st.sampled_from(["=", "+=", "-="]), expressions())
    .map(lambda t: f"replica.{t[0]} {t[1]} {t[2]}"),
    expressions().map(lambda e: f"log {e}"),
    st.tuples(expressions(), expressions()).map(lambda t: f"if {t[0]} {{ replica.summary = {t[1]} }}"),
    st.tuples(expressions(), expressions("c")).map(lambda t: f"for c in {t[0]} {{ log {t[1]} }}"),
    expressions().map(lambda e: f"let v = {e}\nreplica.custom[\"v\"] = v"),
    expressions().map(lambda e: f"if {e} {{ skip \"because\" }}"),
)
programs = st.lists(statements, min_size=1, max_size=5).map("\n".join)

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1),
                         st.floats(allow_nan=False, allow_infinity=False), texts)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)), max_leaves=20)
issues = st.fixed_dictionaries({}, optional={f: json_values for f in FIELDS})

ISSUE = {"key": "QA-1", "summary": "Hi", "description": "<b>x</b>", "labels": ["a", "b"], "custom": {"n": 3},
         "assignee": {"email": "a@x"}, "comments": [{"id": "1", "body": "x"}, {"id": "2", "body": None}]}
LIMITS = Limits(max_steps=20_000, max_text=100_000, max_items=1_000, wall_time=2.0)


def assert_exact_json(v: object, depth: int = 0) -> None:
    assert depth < 200
    t = type(v)
    if t is dict:
        for k, x in v.items():
            assert type(k) is str
            assert_exact_json(x, depth + 1)
    elif t is list:
        for x in v:
            assert_exact_json(x, depth + 1)
    else:
        assert v is None or t in (str, int, bool) or (t is float and math.isfinite(v))


def run(source: str, issue: dict) -> None:
    before = copy.deepcopy(issue)
    try:
        rules = compile_rules(source, "gen.rules", kind="outgoing")
        result = rules.run_outgoing(issue, lookups=StaticLookups(), limits=LIMITS)
    except RulelangError as e:
        assert e.diagnostics and all(d.code[0] in "SRCXBPI" for d in e.diagnostics)
        assert not any(d.code == "I900" for d in e.diagnostics), e.render()
        return
    finally:
        assert issue == before
    if result.replica is not None:
        assert_exact_json(result.replica)
        json.dumps(result.replica, allow_nan=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs)
def test_generated_programs(source: str) -> None:
    run(source, copy.deepcopy(ISSUE))


WORKLOAD = """replica.key = issue.key
replica.summary = "${issue.summary}".trim().lower()
replica.labels = issue.labels
replica.priority = {"High": "P2"}[issue.priority] ?? "P3"
replica.assignee = {email: issue.assignee.email, name: issue.assignee.name}
replica.comments = issue.comments.filter(c -> not c.internal).map(c -> {id: c.id, body: c.body})
replica.custom["n"] = issue.custom["n"] + 1
replica.custom["all"] = issue.custom
replica.custom["parts"] = issue.description.split(" ")
replica.resolution = "Fixed" if issue.status == "Done" else null
"""


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(issues)
def test_hostile_payloads(issue: dict) -> None:
    run(WORKLOAD, issue)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps), st.binary(max_size=100)))
def test_payload_parser(data: str | bytes) -> None:
    try:
        doc = parse_json(data, "fuzz.json")
    except RulelangError as e:
        assert e.diagnostic.code.startswith("P6")
        return
    assert_exact_json(doc)
