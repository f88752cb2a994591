"""The public API of rulelang.check and rulelang.program, kind inference, and the code table kept in step."""

from __future__ import annotations

import pathlib
import re

import pytest

from rulelang import check as check_module
from rulelang import program as program_module
from rulelang.check import CODES, CheckResult, check, instance_names
from rulelang.codes import WARNINGS, severity_of
from rulelang.errors import ConfigError
from rulelang.parse import parse
from rulelang.program import Checked, load, load_file

ROOT = pathlib.Path(__file__).resolve().parents[2]


def run(source: str, **kw) -> CheckResult:
    return check(parse(source, "t.rules"), **kw)


@pytest.mark.parametrize(("source", "kind"), [
    ("replica.key = issue.key", "outgoing"),
    ("issue.key = replica.key", "incoming"),
    ("Blue.issue.key = Green.issue.key", "connection"),
    ("map Blue.issue.status <-> Green.issue.status { 'a' <-> 'b' }", "connection"),
    ("log issue.key", "outgoing"),
    ("log replica.key", "incoming"),
    ("log first_sync", "incoming"),
    ("log Blue.issue.key", "connection"),
])
def test_kind_is_inferred_from_what_the_program_writes(source: str, kind: str) -> None:
    result = run(source)
    assert result.kind == kind and result.kind_inferred


def test_given_kind_is_kept_and_not_inferred() -> None:
    result = run("replica.key = issue.key", kind="incoming")
    assert result.kind == "incoming" and not result.kind_inferred
    assert [d.code for d in result.errors] == ["R103"]


def test_nothing_written_is_a_warning_naming_the_default() -> None:
    result = run("log issue.key")
    assert [(d.code, d.severity, d.message) for d in result.diagnostics] == [
        ("R205", "warning", "this program writes nothing: checked as an outgoing program")]
    assert result.ok and result.warnings and not result.errors


def test_instances_given_inferred_and_validated() -> None:
    source = "Blue.issue.summary = Green.issue.summary"
    assert run(source).instances == ("Blue", "Green")
    assert run(source, instances=["Green", "Blue"]).instances == ("Green", "Blue")
    assert run(source, instances="Blue, Green").instances == ("Blue", "Green")
    result = run(source, instances=["Blue", "Red"])
    assert [(d.code, d.message) for d in result.errors] == [
        ("C301", "instance 'Green' is not declared in this connection")]
    assert instance_names(["A", "A", "B"]) == ("A", "B")
    for bad in (["issue"], ["1x"], ["a b"], ["let"], [""]):
        with pytest.raises(ConfigError):
            instance_names(bad)


def test_bad_kind_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        run("replica.key = issue.key", kind="sideways")


def test_diagnostics_are_sorted_and_split_by_severity() -> None:
    result = run("let b = 1\nreplica.summary = issue.sumary\nlet a = 2\n")
    assert [d.span.line for d in result.diagnostics] == [1, 2, 3]
    assert [d.code for d in result.errors] == ["R102"]
    assert [d.code for d in result.warnings] == ["R201", "R201"]
    assert not result.ok


def test_check_does_not_mutate_or_depend_on_call_order() -> None:
    program = parse("replica.summary = issue.sumary\n", "t.rules")
    first, second = check(program), check(program)
    assert first == second


def test_load_returns_checked_with_the_names_codegen_uses() -> None:
    good = load("replica.key = issue.key\n", "out.rules")
    assert isinstance(good, Checked)
    assert good.ok and good.kind == "outgoing" and good.program is not None and good.diagnostics == []
    assert good.file == "out.rules" and good.source == "replica.key = issue.key\n"
    bad = load("replica.key = = 1\n", "out.rules", kind="outgoing")
    assert not bad.ok and bad.program is None and bad.kind == "outgoing"
    assert [d.code for d in bad.diagnostics] == ["S106"]
    conn = load("Blue.issue.key = Green.issue.key\n", "c.rules", instances=["Blue", "Green"])
    assert conn.ok and conn.kind == "connection" and conn.instances == ("Blue", "Green")


def test_load_file_reads_bytes(tmp_path) -> None:
    path = tmp_path / "in.rules"
    path.write_bytes(b"issue.summary = replica.summary\r\n")
    checked = load_file(path)
    assert checked.ok and checked.kind == "incoming" and checked.file == str(path)
    with pytest.raises(ConfigError):
        load_file(tmp_path)


def test_public_names() -> None:
    assert set(check_module.__all__) >= {"check", "CheckResult", "CODES"}
    assert set(program_module.__all__) == {"Checked", "load", "load_file"}


def test_every_code_used_in_the_front_end_is_in_the_table() -> None:
    used = set()
    for path in (ROOT / "rulelang").glob("*.py"):
        if path.name in ("parse.py", "check.py", "program.py", "_build.py", "_lexing.py", "_syntax_errors.py") \
                or path.name.startswith("_check_"):
            used |= set(re.findall(r'"([SRC][1-3]\d\d)"', path.read_text(encoding="utf-8")))
    assert used <= set(CODES), used - set(CODES)
    assert WARNINGS <= set(CODES)
    assert {severity_of(c) for c in CODES} == {"error", "warning"}
    assert all(text and "\n" not in text for text in CODES.values())


def test_docs_list_every_code_with_its_explanation() -> None:
    doc = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([SRC]\d{3})` \| (?:error|warning) \| (.+?) \|$", doc, flags=re.M))
    assert set(rows) == set(CODES)
    for code, text in CODES.items():
        assert rows[code] == text.replace("|", "\\|"), code


def test_the_evidence_walk_sees_what_walk_sees() -> None:
    """check._Evidence walks the tree itself (the common nodes inline): same facts, same order as over `n.walk`."""
    from rulelang import nodes as n

    root = pathlib.Path(__file__).resolve().parents[2]
    for path in sorted([*root.glob("examples/**/*.rules"), *root.glob("tests/cases/**/*.rules")]):
        try:
            program = parse(path.read_text(encoding="utf-8"), str(path))
        except Exception:
            continue
        ev = check_module._Evidence(program)
        found, lets, local, reads = [], {}, set(), False
        for x in n.walk(program):
            if isinstance(x, n.Attr) and x.name == "issue" and type(x.obj) is n.Name:
                found.append(x)
            elif isinstance(x, n.Name) and x.id in ("replica", "previous", "first_sync"):
                reads = True
            elif isinstance(x, n.Assign | n.ValueMap):
                found.append(x)
            elif isinstance(x, n.Let):
                lets.setdefault(x.name, []).append(x.name_span)
                local.add(x.name)
            elif isinstance(x, n.For | n.Lambda):
                local.add(x.var if isinstance(x, n.For) else x.param)
        assert ev.lets == lets and ev.reads_incoming == reads, path
        writes = [w for w in ev.writes]
        assert [id(stmt) for _, stmt, _ in writes] == [id(x) for x in found if isinstance(x, n.Assign | n.ValueMap)
                                                       and any(s is x for _, s, _ in writes)], path
        instances = {}
        for x in found:
            if isinstance(x, n.Attr) and x.obj.id not in check_module.FIXED_ROOTS and x.obj.id not in local:
                instances.setdefault(x.obj.id, x.obj.span)
        assert ev.instances == instances, path


def test_the_package_names_its_api_and_loads_it_on_first_use() -> None:
    import subprocess
    import sys

    import rulelang
    from rulelang import errors

    for name in rulelang.__all__:
        assert getattr(rulelang, name) is not None, name
    assert rulelang.load is load and rulelang.Checked is Checked
    assert set(rulelang.__all__) <= set(dir(rulelang))
    with pytest.raises(AttributeError, match="module 'rulelang' has no attribute 'nothing'"):
        rulelang.nothing  # noqa: B018
    # The exception tree the package docstring draws.
    tree = {"RuleSyntaxError": "RulelangError", "CheckError": "RulelangError", "RuleRuntimeError": "RulelangError",
            "BudgetError": "RuleRuntimeError", "RuleFailed": "RuleRuntimeError", "PayloadError": "RulelangError",
            "ConfigError": "RulelangError", "InternalError": "RulelangError"}
    for child, parent in tree.items():
        assert getattr(rulelang, child).__base__ is getattr(errors, parent), child
        assert f"{child}" in rulelang.__doc__
    # `import rulelang` alone loads none of the front end (the CLI imports submodules through it).
    code = "import sys, rulelang; print(sorted(m for m in sys.modules if m.startswith(('rulelang.', 'lark'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['rulelang._lazy']"


def test_the_package_load_reports_instead_of_raising() -> None:
    import rulelang

    checked = rulelang.load("replica.summary = issue.sumary\n", "out.rules")
    assert not checked.ok and checked.kind == "outgoing"
    assert checked.render().splitlines()[0] == \
        "out.rules:1:25: error R102: unknown field 'sumary' on issue (did you mean 'summary'?)"
