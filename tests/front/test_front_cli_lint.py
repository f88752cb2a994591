"""`rulelang lint`: every output format, exit codes, folders, unreadable files, escaping, SARIF schema."""

from __future__ import annotations

import json
import pathlib
import re

import jsonschema
import pytest
from click.testing import CliRunner

from rulelang._cli_lint import escape_data, escape_property
from rulelang.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[2]
SARIF_SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "sarif-2.1.0.json").read_text(encoding="utf-8"))

GOOD = "replica.key = issue.key\nreplica.summary = issue.summary\n"
BAD = "replica.key = issue.key\nreplica.summary = issue.sumary\n"
WARN = "replica.key = issue.key\nreplica.labels = 'qa'\n"


def lint(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["lint", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


@pytest.fixture
def files(tmp_path: pathlib.Path) -> dict[str, pathlib.Path]:
    out = {}
    for name, text in (("good", GOOD), ("bad", BAD), ("warn", WARN)):
        out[name] = tmp_path / f"{name}.rules"
        out[name].write_text(text, encoding="utf-8")
    return out


def test_clean_file_exits_0(files) -> None:
    code, out = lint(str(files["good"]))
    assert (code, out) == (0, "1 file checked: no problems\n")


def test_errors_exit_1_with_rendered_diagnostics_and_a_summary(files) -> None:
    code, out = lint(str(files["bad"]), str(files["good"]))
    assert code == 1
    assert out == (
        f"{files['bad']}:2:25: error R102: unknown field 'sumary' on issue (did you mean 'summary'?)\n"
        "    replica.summary = issue.sumary\n"
        "                            ^^^^^^\n"
        "2 files checked: 1 error, 0 warnings\n")


def test_warnings_pass_unless_strict(files) -> None:
    code, out = lint(str(files["warn"]))
    assert code == 0 and out.endswith("1 file checked: 0 errors, 1 warning\n")
    assert "warning R204" in out
    code, _ = lint("--strict", str(files["warn"]))
    assert code == 1


def test_unreadable_file_exits_2_but_the_others_are_still_linted(files, tmp_path) -> None:
    missing = tmp_path / "missing.rules"
    code, out = lint(str(missing), str(files["bad"]))
    assert code == 2
    assert f"{missing}: error K700: cannot read {missing}: No such file or directory" in out
    assert "R102" in out
    assert out.endswith("2 files checked: 1 error, 0 warnings, 1 unreadable\n")


def test_usage_errors_exit_2(files) -> None:
    assert lint()[0] == 2
    assert lint("--format", "xml", str(files["good"]))[0] == 2
    assert lint("--kind", "sideways", str(files["good"]))[0] == 2
    code, out = lint("--instances", "Blue,if", str(files["good"]))
    assert code == 2 and "'if' cannot name an instance" in out


def test_folders_are_searched_recursively_for_rules_files(tmp_path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.rules").write_text(BAD)
    (tmp_path / "a" / "top.rules").write_text(GOOD)
    (tmp_path / "a" / "notes.txt").write_text("not rules &&")
    code, out = lint("--format", "json", str(tmp_path))
    doc = json.loads(out)
    assert code == 1
    assert [f["file"] for f in doc["files"]] == [str(tmp_path / "a" / "b" / "deep.rules"),
                                                 str(tmp_path / "a" / "top.rules")]
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out = lint(str(empty))
    assert code == 2 and "no .rules files under" in out


def test_kind_option_applies_to_every_file(tmp_path) -> None:
    path = tmp_path / "in.rules"
    path.write_text("issue.summary = replica.summary\n")
    assert lint(str(path))[0] == 0
    code, out = lint("--kind", "outgoing", str(path))
    assert code == 1 and "R103" in out and "'issue' is read-only in an outgoing program" in out


def test_instances_option_declares_the_connection(tmp_path) -> None:
    path = tmp_path / "visual.rules"
    path.write_text("Blue.issue.summary = Green.issue.summary\n")
    assert lint(str(path))[0] == 0
    code, out = lint("--instances", "Blue,Red", str(path))
    assert code == 1 and "instance 'Green' is not declared in this connection" in out


def test_json_format(files) -> None:
    code, out = lint("--format", "json", str(files["bad"]), str(files["warn"]))
    doc = json.loads(out)
    assert code == 1
    assert set(doc) == {"version", "files", "diagnostics", "summary"}
    assert doc["version"] == 1
    assert doc["files"][0] == {"file": str(files["bad"]), "readable": True, "kind": "outgoing", "instances": [],
                               "errors": 1, "warnings": 0, "ok": False}
    assert doc["diagnostics"][0] == {
        "file": str(files["bad"]), "code": "R102", "severity": "error",
        "message": "unknown field 'sumary' on issue (did you mean 'summary'?)",
        "line": 2, "col": 25, "end_line": 2, "end_col": 31}
    assert doc["diagnostics"][1]["hint"] == 'write ["…"] to say so'
    assert doc["summary"] == {"files": 2, "errors": 1, "warnings": 1, "unreadable": 0, "strict": False,
                              "exit_code": 1}


def test_sarif_validates_against_the_official_schema(files, tmp_path) -> None:
    missing = tmp_path / "gone dir" / "missing.rules"
    code, out = lint("--format", "sarif", str(files["bad"]), str(files["warn"]), str(missing))
    assert code == 2
    doc = json.loads(out)
    jsonschema.Draft4Validator.check_schema(SARIF_SCHEMA)
    jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0" and run["columnKind"] == "unicodeCodePoints"
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["R102", "R204", "K700"]
    first = results[0]
    assert first["level"] == "error"
    assert first["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 2, "startColumn": 25, "endLine": 2, "endColumn": 31}
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("file://")
    rules = run["tool"]["driver"]["rules"]
    assert rules[first["ruleIndex"]]["id"] == "R102"
    assert results[1]["level"] == "warning"
    assert "region" not in results[2]["locations"][0]["physicalLocation"]
    assert "gone%20dir" in results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]


def test_sarif_of_a_clean_run_validates_too(files) -> None:
    code, out = lint("--format", "sarif", str(files["good"]))
    assert code == 0
    doc = json.loads(out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(doc)
    assert doc["runs"][0]["results"] == []


def test_github_format(files) -> None:
    code, out = lint("--format", "github", str(files["bad"]), str(files["warn"]))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (f"::error file={escape_property(str(files['bad']))},line=2,col=25,endColumn=31,title=R102::"
                        "unknown field 'sumary' on issue (did you mean 'summary'?)")
    assert lines[1].startswith(f"::warning file={escape_property(str(files['warn']))},line=2,col=18,endColumn=22,"
                               "title=R204::'replica.labels' holds a list of text")
    assert lines[1].endswith("%0Ahint: write [\"…\"] to say so")
    assert lines[2] == "2 files checked: 1 error, 1 warning"


def test_github_escaping_follows_the_workflow_command_rules() -> None:
    assert escape_data("50% done\r\nnext: a, b") == "50%25 done%0D%0Anext: a, b"
    assert escape_property("C:\\rules,a%b\nc") == "C%3A\\rules%2Ca%25b%0Ac"


def test_github_format_escapes_file_names(tmp_path) -> None:
    path = tmp_path / "a,b:c%d.rules"
    path.write_text(BAD)
    code, out = lint("--format", "github", str(path))
    line = out.splitlines()[0]
    assert code == 1
    assert "a%2Cb%3Ac%25d.rules,line=2" in line
    assert re.fullmatch(r"::error file=[^,:]+,line=2,col=25,endColumn=31,title=R102::.+", line)


def test_pre_commit_hook_is_declared() -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "- id: rulelang-lint\n" in text
    assert "  entry: rulelang lint\n" in text
    assert "  files: \\.rules$\n" in text
    assert "  language: python\n" in text


def test_examples_lint_clean_and_bad_examples_have_errors() -> None:
    code, out = lint("--format", "json", str(ROOT / "examples"))
    doc = json.loads(out)
    assert code == 1
    by_file = {pathlib.Path(f["file"]).relative_to(ROOT / "examples").as_posix(): f for f in doc["files"]}
    good = {k: v for k, v in by_file.items() if k.startswith("rules/")}
    bad = {k: v for k, v in by_file.items() if k.startswith("bad/")}
    assert set(good) >= {"rules/qa-outgoing.rules", "rules/dev-incoming.rules", "rules/visual.rules"}
    assert all(f["errors"] == 0 and f["warnings"] == 0 for f in good.values()), good
    assert bad and all(f["errors"] > 0 for f in bad.values())
    assert {d["file"] for d in doc["diagnostics"]} <= {f["file"] for f in bad.values()}
    assert by_file["rules/visual.rules"]["kind"] == "connection"
    assert by_file["rules/visual.rules"]["instances"] == ["BlueJira", "GreenJira"]
    assert by_file["rules/qa-outgoing.rules"]["kind"] == "outgoing"
    assert by_file["rules/dev-incoming.rules"]["kind"] == "incoming"
