"""Scripts that cannot be split: positioned errors with exact texts, from the API and from `rulelang split`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from rulelang.cli import main
from rulelang.errors import CheckError
from rulelang.parse import parse
from rulelang.split import split

UNDECLARED = "Blue.issue.summary = Green.issue.summary\nRed.issue.labels = Green.issue.labels\n"
SAME_INSTANCE = 'map Blue.issue.status <-> Blue.issue.resolution {\n    "Done" <-> "Fixed"\n}\n'
MAP_VARIABLE = 'let s = Green.issue.status\nmap Blue.issue.status <-> s {\n    "Done" <-> "Closed"\n}\n'
MAP_CALL = 'map Blue.issue.status <-> Green.issue.status.lower() {\n    "Done" <-> "closed"\n}\n'
MAP_NULL = 'map Blue.issue.priority <-> Green.issue.priority {\n    "Medium" <-> null\n}\n'
ONE = 'Blue.issue.labels = ["x"]\n'


def _api_error(source: str, instances=("Blue", "Green")) -> str:
    with pytest.raises(CheckError) as e:
        split(parse(source, "c.rules"), instances)
    return e.value.render({"c.rules": source})


def _cli(tmp_path, source: str, *args: str):
    (tmp_path / "c.rules").write_text(source, encoding="utf-8")
    import os

    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        return CliRunner().invoke(main, ["split", "c.rules", *args])
    finally:
        os.chdir(old)


def test_undeclared_instance() -> None:
    assert _api_error(UNDECLARED) == (
        "c.rules:2:1: error C301: instance 'Red' is not declared in this connection\n"
        "    Red.issue.labels = Green.issue.labels\n"
        "    ^^^\n"
        "    hint: the instances are Blue, Green")


def test_three_instances_without_declaring_them() -> None:
    assert _api_error(UNDECLARED, None) == (
        "c.rules:2:1: error C310: cannot split: a connection joins two instances, but this script names 3: "
        "Blue, Green, Red\n"
        "    Red.issue.labels = Green.issue.labels\n"
        "    ^^^^^^^^^\n"
        "    hint: name the two with --instances A,B")


def test_one_instance_without_declaring_the_other() -> None:
    assert _api_error(ONE, None) == (
        "c.rules:1:1: error C310: cannot split: the script names only Blue of the connection's two instances\n"
        '    Blue.issue.labels = ["x"]\n'
        "    ^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "    hint: name them with --instances A,B")
    assert split(parse(ONE, "c.rules"), ("Blue", "Green")).program("Blue", "incoming").stmts


def test_map_with_a_target_on_both_sides() -> None:
    assert _api_error(SAME_INSTANCE) == (
        "c.rules:1:27: error C304: both sides of this map are on Blue: a value map joins the two instances\n"
        "    map Blue.issue.status <-> Blue.issue.resolution {\n"
        "                              ^^^^^^^^^^^^^^^^^^^^^")


@pytest.mark.parametrize("source, where, shown", [
    (MAP_VARIABLE, "2:27", "s"),
    (MAP_CALL, "1:27", "Green.issue.status.lower()"),
])
def test_map_over_a_value_that_is_not_an_issue_field(source: str, where: str, shown: str) -> None:
    got = _api_error(source)
    line = int(where.split(":")[0])
    col = int(where.split(":")[1])
    assert got == (
        f"c.rules:{where}: error C305: a value map maps an issue field of one instance to one of the other; "
        f"'{shown}' is not an issue field\n"
        f"    {source.splitlines()[line - 1]}\n"
        f"    {' ' * (col - 1)}{'^' * len(shown)}")


def test_map_with_null() -> None:
    assert _api_error(MAP_NULL) == (
        "c.rules:2:18: error C307: cannot split a value map with null: value maps hold text\n"
        '        "Medium" <-> null\n'
        "                     ^^^^\n"
        "    hint: test for an empty field with `if X.issue.field == null { … }`")


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(CheckError) as e:
        split(parse(UNDECLARED + SAME_INSTANCE + "x = 1\n", "c.rules"), ("Blue", "Green"))
    assert [(d.code, d.span.line) for d in e.value.diagnostics] == [("C301", 2), ("C304", 3), ("R101", 6)]


def test_cli_renders_the_checker_findings_and_exits_1(tmp_path) -> None:
    got = _cli(tmp_path, UNDECLARED, "--instances", "Blue,Green")
    assert got.exit_code == 1
    assert got.stdout == ""
    assert got.stderr == (
        "c.rules:2:1: error C301: instance 'Red' is not declared in this connection\n"
        "    Red.issue.labels = Green.issue.labels\n"
        "    ^^^\n"
        "    hint: the instances are Blue, Green\n")


def test_cli_same_instance_map(tmp_path) -> None:
    got = _cli(tmp_path, SAME_INSTANCE, "--instances", "Blue,Green")
    assert got.exit_code == 1
    assert got.stderr == (
        "c.rules:1:27: error C304: both sides of this map are on Blue: a value map joins the two instances\n"
        "    map Blue.issue.status <-> Blue.issue.resolution {\n"
        "                              ^^^^^^^^^^^^^^^^^^^^^\n")


def test_cli_map_over_a_variable(tmp_path) -> None:
    got = _cli(tmp_path, MAP_VARIABLE)
    assert got.exit_code == 1
    assert got.stderr == (
        "c.rules:2:27: error C305: each side of a value map is an issue field of an instance\n"
        "    map Blue.issue.status <-> s {\n"
        "                              ^\n"
        "    hint: for example BlueJira.issue.status\n")


def test_cli_null_in_a_value_map_is_refused_by_the_checker(tmp_path) -> None:
    got = _cli(tmp_path, MAP_NULL)
    assert got.exit_code == 1
    assert got.stderr == (
        "c.rules:2:18: error C307: null in a map over Green.issue.priority; value maps hold text\n"
        '        "Medium" <-> null\n'
        "                     ^^^^\n"
        "    hint: leave the value out and use `else keep`\n")


def test_cli_usage_and_io_errors_exit_2(tmp_path) -> None:
    assert _cli(tmp_path, ONE, "--instances", "Blue").exit_code == 2
    assert _cli(tmp_path, ONE, "--instances", "Blue,Blue").exit_code == 2
    missing = CliRunner().invoke(main, ["split", str(tmp_path / "nope.rules")])
    assert missing.exit_code == 2
    assert missing.stderr == f"error: cannot read {tmp_path / 'nope.rules'}: No such file or directory\n"
    (tmp_path / "file").write_text("x")
    blocked = _cli(tmp_path, ONE, "--instances", "Blue,Green", "--out", "file/sub")
    assert blocked.exit_code == 2
    assert blocked.stderr.startswith("error: cannot write to file/sub: ")


def test_cli_syntax_error(tmp_path) -> None:
    got = _cli(tmp_path, "Blue.issue.summary = Green.issue.summary &&\n")
    assert got.exit_code == 1
    assert got.stderr.startswith("c.rules:1:42: error S101: use 'and' instead of '&&'")
