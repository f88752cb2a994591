"""Shared pieces of the split tests: the script corpus, sample issues, and the two ways of running a direction."""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

from rulelang.errors import RuleFailed, RulelangError
from rulelang.parse import parse
from rulelang.split import SplitResult, split
from runtime import compile_rules
from runtime.budget import Limits
from runtime.lookups import StaticLookups

from .reference import Outcome, run_incoming, run_outgoing

__all__ = ["CASES", "SCRIPTS", "ROOT", "instances_of", "split_file", "lookups", "sample_issues",
           "via_split_reference", "via_runtime"]

CASES = pathlib.Path(__file__).parent.parent / "cases"
SCRIPTS = sorted((CASES / "split").glob("*.rules"))
ROOT = pathlib.Path(__file__).parent.parent.parent

_INSTANCES = re.compile(r"^//! instances=(\S+)", re.M)


def instances_of(source: str) -> tuple[str, ...] | None:
    """`//! instances=A,B` in a script names its instances (for scripts that name only one)."""
    m = _INSTANCES.search(source)
    return tuple(m.group(1).split(",")) if m else None


def split_file(path: pathlib.Path) -> tuple[Any, SplitResult]:
    source = path.read_text(encoding="utf-8")
    program = parse(source, path.name)
    return program, split(program, instances_of(source))


def lookups() -> StaticLookups:
    return StaticLookups({"a@x": {"id": "L1", "email": "a@x", "name": "Al"}}, {"A-0": "B-100"})


def sample_issues() -> list[dict]:
    """Four issues that between them take every branch of the corpus scripts (and a fifth, None: a first sync)."""
    a = {"key": "A-1", "summary": "Crash on save", "description": "Steps", "status": "Open",
         "labels": ["bug", "ui", "team-core", "draft"], "priority": "High", "type": "Bug", "resolution": "Fixed",
         "components": ["Core", "X"], "fix_versions": ["1.0"],
         "comments": [{"id": "1", "body": "hi A-9", "internal": False, "author": {"email": "a@x"}},
                      {"id": "2", "body": "secret", "internal": True, "author": {"email": "b@x"}}],
         "attachments": [{"id": "9", "filename": "s.png"}],
         "custom": {"Severity": "S1", "Public": True, "Story Points": 5, "Points": "3", "Confidential": False},
         "assignee": {"email": "a@x", "name": "A", "id": "u1"}, "parent": "A-0"}
    b = {"key": "A-9", "summary": "old", "status": "Done", "labels": ["x", "frozen", "A-1"], "priority": None,
         "custom": {}, "comments": [{"id": "c1", "body": "local"}], "attachments": [], "description": "d"}
    c = {"key": "C-3", "summary": None, "status": "Closed", "labels": [], "priority": "Trivial", "type": "Epic",
         "resolution": "Won't Fix", "components": [], "fix_versions": ["2024.1"],
         "custom": {"Confidential": True, "Public": False}, "comments": [], "assignee": None}
    d = {"key": "D-4", "summary": "Hello", "status": "In Progress", "labels": ["defect", "urgent", "obsolete"],
         "priority": "Minor", "type": "Defect", "resolution": "Done", "components": ["Engine"], "fix_versions": ["9"],
         "custom": {"Drop": ["x"], "Severity": "S2"}, "assignee": {"email": "z@x", "name": None, "id": "u9"},
         "comments": [{"id": "7", "body": "hey", "internal": False, "author": {"email": "z@x"}}]}
    return [a, b, c, d]


def via_split_reference(result: SplitResult, sender: str, target: str, source: dict, twin: dict | None,
                        looks: Any = None) -> Outcome:
    """The split programs run by the reference interpreter (replica through JSON)."""
    out = run_outgoing(result.program(sender, "outgoing"), source)
    if out.status != "done":
        return out
    got = run_incoming(result.program(target, "incoming"), json.loads(json.dumps(out.result)), twin, looks)
    got.log = out.log + got.log
    return got


def via_runtime(result: SplitResult, sender: str, target: str, source: dict, twin: dict | None,
                looks: Any = None, limits: Limits | None = None) -> Outcome:
    """The split programs as `rulelang split` prints them, compiled and run by the runtime API."""
    outgoing = compile_rules(result.text(sender, "outgoing"), f"{sender}-outgoing.rules", kind="outgoing")
    incoming = compile_rules(result.text(target, "incoming"), f"{target}-incoming.rules", kind="incoming")
    log: list[str] = []
    try:
        out = outgoing.run_outgoing(source, lookups=looks, limits=limits)
        log = [x.text for x in out.log]
        if out.skipped is not None:
            return Outcome("skipped", None, out.skipped, log)
        replica = json.loads(json.dumps(out.replica))
        inc = incoming.run_incoming(replica, issue=twin, lookups=looks, limits=limits)
        log += [x.text for x in inc.log]
        if inc.skipped is not None:
            return Outcome("skipped", None, inc.skipped, log)
        return Outcome("done", inc.issue, None, log, inc.changes.to_json())
    except RuleFailed as e:
        return Outcome("failed", None, e.diagnostic.message, log)
    except RulelangError as e:
        return Outcome("error", None, e.diagnostic.code, log)
