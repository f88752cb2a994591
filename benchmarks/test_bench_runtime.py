"""Runtime speed: the standard workload (benchmarks/data, from the shared bench folder) run by compiled rules, each
figure beside a hand-written Python function doing the same work in the same run; and compile times.

Groups (pytest-benchmark puts each group's rows side by side):
- outgoing: hand-written replica builder · the same plus the export the runtime does (the output checked in
  place: exact JSON types, nesting, compact-JSON size cap; no copy) · compiled rules (`run_outgoing`, budgets
  and export included);
- incoming / incoming-first-sync: hand-written field computation + the shared change-set step · compiled rules;
- compile: codegen + verify + RestrictedPython for the workload and a 200-line file (cache cleared every
  round) · CPython's `compile()` of the same generated Python.
Every benchmark first asserts that both sides produce equal output. `test_ratios` prints the ratios
measured interleaved (the numbers in the report); targets: ≤ 1.3× hand-written, compile < 10 ms.
Run: `pytest benchmarks/test_bench_runtime.py` (add `-s` to see the ratio table).
"""

from __future__ import annotations

import json
import os
import pathlib
import time
import timeit

import pytest

from rulelang.codegen import clear_cache, compile_source
from runtime import StaticLookups, compile_rules
from runtime.apply import finish_incoming
from runtime.budget import DEFAULT_LIMITS
from runtime.values import export

DATA = pathlib.Path(__file__).parent / "data"
ISSUE = json.loads((DATA / "issue.json").read_text())
EXPECTED = json.loads((DATA / "expected-replica.json").read_text())
PREVIOUS = dict(EXPECTED, status="Done")
USERS = StaticLookups({"ada.lovelace@acme.example": {"id": "d1", "email": "ada.lovelace@acme.example",
                                                      "name": "Ada Lovelace"}})

OUTGOING = """replica.key         = issue.key
replica.summary     = issue.summary
replica.description = issue.description
replica.labels      = issue.labels
replica.components  = issue.components
replica.status      = issue.status
replica.priority    = {"Highest": "P1", "High": "P2", "Medium": "P3", "Low": "P4", "Lowest": "P5"}[issue.priority] ?? "P3"
replica.type        = issue.type
replica.assignee    = {email: issue.assignee.email, name: issue.assignee.name}
replica.reporter    = {email: issue.reporter.email, name: issue.reporter.name}
replica.parent      = issue.parent
replica.created     = issue.created
replica.updated     = issue.updated
replica.comments    = issue.comments.filter(c -> not c.internal).map(c -> {id: c.id, author: {email: c.author.email}, body: c.body, created: c.created})
replica.attachments = issue.attachments.filter(a -> a.size < 10485760).map(a -> {id: a.id, filename: a.filename, size: a.size})
replica.custom["Story Points"]   = issue.custom["Story Points"]
replica.custom["Severity"]       = issue.custom["Severity"]
replica.custom["Affected Teams"] = issue.custom["Affected Teams"]
replica.resolution  = "Fixed" if issue.status == "Done" else null
"""

INCOMING = """if first_sync {
    issue.project = "DEV"
    issue.type = {"Bug": "Bug", "Story": "Story"}[replica.type] ?? "Task"
}
issue.summary     = "[QA] ${replica.summary}"
issue.description = replica.description
issue.labels      = (replica.labels + ["from-qa"]).unique()
issue.components  = replica.components.filter(c -> c in ["Backend", "Frontend", "API"])
issue.priority    = {"P1": "Highest", "P2": "High", "P3": "Medium", "P4": "Low", "P5": "Lowest"}[replica.priority] ?? "Medium"
issue.assignee    = user(replica.assignee.email) ?? issue.assignee
if replica.status != previous.status {
    issue.status = {"Done": "Resolved", "In Progress": "In Work"}[replica.status] ?? issue.status
}
issue.comments    = replica.comments.map(c -> c | {body: "${c.author.email} wrote:\\n${c.body}"})
issue.attachments = replica.attachments
issue.custom["QA Severity"]  = replica.custom["Severity"]
issue.custom["Story Points"] = replica.custom["Story Points"] ?? 0
"""

# ---- the hand-written functions ---------------------------------------------------------------

_PRIORITY = {"Highest": "P1", "High": "P2", "Medium": "P3", "Low": "P4", "Lowest": "P5"}


def hand_outgoing(issue: dict) -> dict:
    g = issue.get
    assignee, reporter, custom = g("assignee") or {}, g("reporter") or {}, g("custom") or {}
    return {
        "key": g("key"), "summary": g("summary"), "description": g("description"), "labels": g("labels"),
        "components": g("components"), "status": g("status"), "priority": _PRIORITY.get(g("priority"), "P3"),
        "type": g("type"), "assignee": {"email": assignee.get("email"), "name": assignee.get("name")},
        "reporter": {"email": reporter.get("email"), "name": reporter.get("name")}, "parent": g("parent"),
        "created": g("created"), "updated": g("updated"),
        "comments": [{"id": c.get("id"), "author": {"email": (c.get("author") or {}).get("email")},
                      "body": c.get("body"), "created": c.get("created")}
                     for c in g("comments") or [] if not c.get("internal")],
        "attachments": [{"id": a.get("id"), "filename": a.get("filename"), "size": a.get("size")}
                        for a in g("attachments") or [] if a.get("size") < 10485760],
        "custom": {"Story Points": custom.get("Story Points"), "Severity": custom.get("Severity"),
                   "Affected Teams": custom.get("Affected Teams")},
        "resolution": "Fixed" if g("status") == "Done" else None,
    }


def hand_outgoing_exported(issue: dict) -> dict:
    return export(hand_outgoing(issue), DEFAULT_LIMITS.max_output, DEFAULT_LIMITS.max_depth)[0]


_IN_PRIORITY = {"P1": "Highest", "P2": "High", "P3": "Medium", "P4": "Low", "P5": "Lowest"}
_STATUS = {"Done": "Resolved", "In Progress": "In Work"}


def hand_incoming(replica: dict, local: dict | None, previous: dict | None, lookups: StaticLookups):
    """The same field values computed by hand, then the same change-set step the runtime uses."""
    r = replica.get
    out = dict(local or {})
    touched = {}
    if local is None:
        out["project"], out["type"] = "DEV", {"Bug": "Bug", "Story": "Story"}.get(r("type"), "Task")
        touched.update(project=None, type=None)
    out["summary"] = f"[QA] {r('summary')}"
    out["description"] = r("description")
    labels = (r("labels") or []) + ["from-qa"]
    out["labels"] = list(dict.fromkeys(labels))
    out["components"] = [c for c in r("components") or [] if c in ("Backend", "Frontend", "API")]
    out["priority"] = _IN_PRIORITY.get(r("priority"), "Medium")
    out["assignee"] = lookups.user((r("assignee") or {}).get("email")) or out.get("assignee")
    if r("status") != (previous or {}).get("status"):
        out["status"] = _STATUS.get(r("status"), out.get("status"))
        touched["status"] = None
    out["comments"] = [c | {"body": f"{(c.get('author') or {}).get('email')} wrote:\n{c.get('body')}"}
                       for c in r("comments") or []]
    out["attachments"] = r("attachments")
    custom = dict(out.get("custom") or {})
    custom["QA Severity"] = (r("custom") or {}).get("Severity")
    sp = (r("custom") or {}).get("Story Points")
    custom["Story Points"] = sp if sp is not None else 0
    out["custom"] = custom
    for f in ("summary", "description", "labels", "components", "priority", "assignee", "comments",
              "attachments", "custom"):
        touched[f] = None
    return finish_incoming(out, local, {(f,): None for f in touched}, {}, DEFAULT_LIMITS)


RULES_OUT = compile_rules(OUTGOING, "bench-out.rules")
RULES_IN = compile_rules(INCOMING, "bench-in.rules")


def compiled_outgoing(issue: dict) -> dict:
    return RULES_OUT.run_outgoing(issue).replica


def compiled_incoming(replica: dict, local: dict | None, previous: dict | None, lookups: StaticLookups):
    r = RULES_IN.run_incoming(replica, issue=local, previous=previous, lookups=lookups)
    return r.issue, r.changes


# ---- outgoing ----------------------------------------------------------------------------------


def test_outputs_agree() -> None:
    assert hand_outgoing(ISSUE) == EXPECTED == compiled_outgoing(ISSUE) == hand_outgoing_exported(ISSUE)
    for local, previous in ((ISSUE, PREVIOUS), (None, None)):
        assert hand_incoming(EXPECTED, local, previous, USERS) == compiled_incoming(EXPECTED, local, previous, USERS)


@pytest.mark.benchmark(group="outgoing")
@pytest.mark.parametrize("fn", [hand_outgoing, hand_outgoing_exported, compiled_outgoing],
                         ids=["hand", "hand+export", "compiled"])
def test_outgoing(benchmark, fn) -> None:
    assert fn(ISSUE) == EXPECTED
    benchmark(fn, ISSUE)


@pytest.mark.benchmark(group="incoming")
@pytest.mark.parametrize("fn", [hand_incoming, compiled_incoming], ids=["hand", "compiled"])
def test_incoming(benchmark, fn) -> None:
    assert fn(EXPECTED, ISSUE, PREVIOUS, USERS) == hand_incoming(EXPECTED, ISSUE, PREVIOUS, USERS)
    benchmark(fn, EXPECTED, ISSUE, PREVIOUS, USERS)


@pytest.mark.benchmark(group="incoming-first-sync")
@pytest.mark.parametrize("fn", [hand_incoming, compiled_incoming], ids=["hand", "compiled"])
def test_incoming_first_sync(benchmark, fn) -> None:
    assert fn(EXPECTED, None, None, USERS) == hand_incoming(EXPECTED, None, None, USERS)
    benchmark(fn, EXPECTED, None, None, USERS)


# ---- compile time ------------------------------------------------------------------------------

_LINES = [
    'replica.custom["f{i}"] = issue.custom["g{i}"] ?? "x{i}"',
    'replica.summary = "[${{issue.key}}] " + issue.summary.trim()',
    "replica.comments = issue.comments.filter(c -> not c.internal).map(c -> {{id: c.id, body: c.body}})",
    'replica.priority = {{"Blocker": "P1", "Major": "P2", "Minor": "P3"}}[issue.priority] ?? "P{i}"',
    'if "qa-{i}" in issue.labels and issue.status != "Done" {{ replica.labels += "seen-{i}" }}',
    "let v{i} = len(issue.attachments.filter(a -> a.size < {i}_000)) + {i}",
    'replica.custom["n{i}"] = v{j} if v{j} > 3 else null',
    "replica.assignee = {{email: issue.assignee.email, name: issue.assignee.name}}",
]
FILE_200 = "\n".join(_LINES[i % len(_LINES)].format(i=i, j=i - 1) for i in range(200)) + "\n"


def _compile_fresh(source: str, name: str):
    clear_cache()
    return compile_source(source, name)


def _cpython_compile(python: str):
    return compile(python, "generated.py", "exec")


@pytest.mark.benchmark(group="compile")
@pytest.mark.parametrize("source, name", [(OUTGOING, "workload.rules"), (FILE_200, "200-lines.rules")],
                         ids=["workload", "200-lines"])
def test_compile(benchmark, source: str, name: str) -> None:
    assert _compile_fresh(source, name).kind == "outgoing"
    benchmark(_compile_fresh, source, name)


@pytest.mark.benchmark(group="compile")
@pytest.mark.parametrize("source, name", [(OUTGOING, "workload.rules"), (FILE_200, "200-lines.rules")],
                         ids=["workload-cpython", "200-lines-cpython"])
def test_compile_baseline(benchmark, source: str, name: str) -> None:
    python = compile_source(source, name).python()
    benchmark(_cpython_compile, python)


# ---- the ratios in one interleaved run ----------------------------------------------------------


def _best(fn, *args, number: int = 300, rounds: int = 7) -> float:
    return min(timeit.repeat(lambda: fn(*args), number=number, repeat=rounds)) / number


def test_ratios(capsys) -> None:
    rows = []
    hand = _best(hand_outgoing, ISSUE)
    rows.append(("outgoing: compiled / hand", _best(compiled_outgoing, ISSUE) / hand))
    rows.append(("outgoing: hand+export / hand", _best(hand_outgoing_exported, ISSUE) / hand))
    rows.append(("incoming: compiled / hand", _best(compiled_incoming, EXPECTED, ISSUE, PREVIOUS, USERS)
                 / _best(hand_incoming, EXPECTED, ISSUE, PREVIOUS, USERS)))
    rows.append(("first sync: compiled / hand", _best(compiled_incoming, EXPECTED, None, None, USERS)
                 / _best(hand_incoming, EXPECTED, None, None, USERS)))
    compile_ms = {}
    for name, source in (("workload", OUTGOING), ("200 lines", FILE_200)):
        start = time.perf_counter()
        for _ in range(10):
            _compile_fresh(source, f"{name}.rules")
        compile_ms[name] = (time.perf_counter() - start) / 10 * 1000
    with capsys.disabled():
        print()
        for label, ratio in rows:
            print(f"  {label:32s} {ratio:5.2f}x")
        for name, ms in compile_ms.items():
            print(f"  compile {name:24s} {ms:5.2f} ms")
    # The targets (≤ 1.3×, < 10 ms) are reported; only a quiet machine that asks (RULELANG_BENCH_STRICT=1)
    # asserts them: a timing never fails a test run.
    if os.environ.get("RULELANG_BENCH_STRICT"):
        assert all(ratio <= 1.3 for label, ratio in rows if "export" not in label), rows
        assert compile_ms["workload"] < 10, compile_ms
