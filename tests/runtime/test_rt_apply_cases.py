"""Apply cases: tests/cases/apply/<name>/ holds `rules`, `issue.json` (the issue, or the replica for incoming
rules), optional `local.json`, `previous.json`, `lookups.json`, and `expected.json` (the dry-run document)
or `expected-error.txt` (the rendered error)."""

from __future__ import annotations

import copy
import json
import pathlib

import pytest
from goldens import CASES, check_golden

from rulelang._cli_run import result_doc
from rulelang.errors import RulelangError
from runtime import StaticLookups, compile_rules

APPLY = CASES / "apply"
NAMES = sorted(p.name for p in APPLY.iterdir() if p.is_dir())


def _load(path: pathlib.Path):
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def run_case(case: pathlib.Path) -> str:
    source = (case / "rules").read_text(encoding="utf-8")
    issue, local, previous = _load(case / "issue.json"), _load(case / "local.json"), _load(case / "previous.json")
    lookups_doc = _load(case / "lookups.json")
    lookups = StaticLookups.from_json(lookups_doc) if lookups_doc is not None else None
    before = copy.deepcopy((issue, local, previous))
    try:
        rules = compile_rules(source, "rules")
        if rules.kind == "outgoing":
            result = rules.run_outgoing(issue, lookups=lookups)
        else:
            result = rules.run_incoming(issue, issue=local, previous=previous, lookups=lookups,
                                        id_maps=lookups.id_maps if lookups else None)
    except RulelangError as e:
        return e.render({"rules": source}) + "\n"
    finally:
        assert (issue, local, previous) == before, "a rule run changed its input"
    return json.dumps(result_doc(rules.kind, result, explain=True), indent=2, ensure_ascii=False) + "\n"


def test_there_are_enough_cases() -> None:
    assert len(NAMES) >= 25


@pytest.mark.parametrize("name", NAMES)
def test_apply_case(name: str, update_goldens: bool) -> None:
    case = APPLY / name
    actual = run_case(case)
    error = case / "expected-error.txt"
    if error.exists() or (update_goldens and not actual.startswith("{")):
        check_golden(error, actual, update_goldens)
    else:
        check_golden(case / "expected.json", actual, update_goldens)
