"""The attack corpus: tests/sandbox/attacks/*.rules, each with `// expect: <outcome> [CODE]` in its header.

Outcomes: `compile CODE` (refused before running), `budget CODE`, `runtime CODE`, `failed CODE`, `ok`;
`budget B501|B507` accepts either code.
Header options: `// kind: incoming` (run as incoming rules against a local issue), `// input: big`.
After every run the invariants hold: the host payload is unchanged, no file was created, builtins and
modules are intact, and the next run (of a canary program and of the attack again) sees nothing of it.
"""

from __future__ import annotations

import builtins
import copy
import pathlib
import sys

import pytest

from rulelang.errors import BudgetError, RuleFailed, RulelangError, RuleRuntimeError
from runtime import Limits, StaticLookups, compile_rules

ATTACKS = pathlib.Path(__file__).parent / "attacks"
FILES = sorted(ATTACKS.glob("*.rules"))

SMALL = {
    "key": "QA-1", "summary": "aaab", "description": "hello", "status": "Open", "labels": ["x", "y", "z"],
    "assignee": {"id": "1", "email": "a@x", "name": "A"}, "custom": {"Severity": "Sev-2", "n": 1},
    "comments": [{"id": "c1", "body": "one", "author": {"email": "a@x"}}, {"id": "c2", "body": "two"}],
}
BIG = dict(SMALL, labels=[f"l{i}" for i in range(5000)], description="a" * 399_999 + "b",
           comments=[{"id": f"c{i}", "body": f"body {i}", "author": {"email": f"u{i}@x"}} for i in range(200)])
LOCAL = {"key": "DEV-9", "summary": "local", "labels": ["keep"], "custom": {"Severity": "Sev-3"},
         "comments": [{"id": "L1", "body": "mine"}]}


def header(path: pathlib.Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("// "):
            break
        key, _, value = line[3:].partition(":")
        out[key.strip()] = value.strip()
    return out


# The clock is the one budget a loaded machine can trip early; attacks that do not expect it
# (B507) run with a generous wall time, so only the limit under test decides their outcome.
CALM = Limits(wall_time=30.0)


def outcome(source: str, file: str, kind: str, issue: dict, local: dict,
            limits: Limits | None = None) -> tuple[str, str | None, object]:
    """('compile'|'budget'|'runtime'|'failed'|'ok', code, result)."""
    try:
        rules = compile_rules(source, file, kind=kind)
    except RulelangError as e:
        return "compile", " ".join(sorted({d.code for d in e.diagnostics if d.severity == "error"})), None
    try:
        if kind == "incoming":
            r = rules.run_incoming(issue, issue=local, previous=issue, lookups=StaticLookups(), limits=limits)
            return "ok", None, (r.issue, r.changes, r.skipped, [x.text for x in r.log if "T" not in x.text])
        r = rules.run_outgoing(issue, lookups=StaticLookups(), limits=limits)
        return "ok", None, (r.replica, r.skipped)
    except RuleFailed as e:
        return "failed", e.diagnostic.code, None
    except BudgetError as e:
        return "budget", e.diagnostic.code, None
    except RuleRuntimeError as e:
        return "runtime", e.diagnostic.code, None


CANARY = 'replica.labels = issue.labels\nreplica.labels += "c"\nreplica.custom["n"] = len(issue.comments)'


def snapshot() -> tuple[dict, dict]:
    return ({k: id(v) for k, v in vars(builtins).items()}, {k: id(v) for k, v in sys.modules.items()})


def test_corpus_is_large_enough() -> None:
    assert len(FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_attack(path: pathlib.Path, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    meta = header(path)
    expected = meta["expect"].split()
    kind = meta.get("kind", "outgoing")
    issue = copy.deepcopy(BIG if meta.get("input") == "big" else SMALL)
    local = copy.deepcopy(LOCAL)
    pristine = copy.deepcopy((issue, local))
    source = path.read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    canary_before = outcome(CANARY, "canary.rules", "outgoing", copy.deepcopy(SMALL), {})
    builtins_before, modules_before = snapshot()

    limits = None if "B507" in meta["expect"] else CALM
    got, code, result = outcome(source, path.name, kind, issue, local, limits)

    # `budget B501|B507`: either limit may stop it first (steps or the clock, depending on the machine)
    assert got == expected[0] and (code in expected[1].split("|") if expected[1:] else code is None), \
        f"{path.name}: got {got} {code}"
    # invariants
    assert (issue, local) == pristine, "the host payload changed"
    assert list(tmp_path.iterdir()) == [], "a file was created"
    builtins_after, modules_after = snapshot()
    assert builtins_after == builtins_before, "builtins changed"
    assert all(modules_after.get(k) == v for k, v in modules_before.items()), "a module was replaced"
    assert outcome(CANARY, "canary.rules", "outgoing", copy.deepcopy(SMALL), {}) == canary_before
    again = outcome(source, path.name, kind, copy.deepcopy(pristine[0]), copy.deepcopy(local), limits)
    assert again[0] == got and (again[1] == code or "|" in meta["expect"])
    if got == "ok":
        assert again[2] == result, "a second run saw something of the first"
