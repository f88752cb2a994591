"""Apply cases: tests/cases/apply/<name>/ holds `rules`, `issue.json` (the issue, or the replica for incoming
rules), optional `local.json`, `previous.json`, `lookups.json`, and `expected.json` (the dry-run document)
or `expected-error.txt` (the rendered error)."""

from __future__ import annotations

import copy
import importlib.util
import json
import pathlib
import sys

import pytest

from rulelang._cli_run import result_doc
from rulelang.errors import RulelangError
from runtime import StaticLookups, compile_rules


def _root_conftest():
    """tests/conftest.py by path: `from conftest import …` can resolve to another folder's conftest."""
    name = "rulelang_tests_root_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, pathlib.Path(__file__).resolve().parents[1] / "conftest.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


CASES, check_golden = _root_conftest().CASES, _root_conftest().check_golden

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
