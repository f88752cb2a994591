"""Goldens: `rulelang split` output and sharing reports; split output parses back to the same programs and lints clean."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rulelang.cli import main
from rulelang.format import same_nodes
from rulelang.parse import parse
from rulelang.program import load
from rulelang.sharing import sharing_report
from rulelang.split import KINDS
from tests.conftest import check_golden

from .helpers import CASES, SCRIPTS, instances_of, split_file

SHARING = sorted((CASES / "sharing").glob("*.rules"))


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_split_output_golden(path, update_goldens: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(path.parent)
    args = ["split", path.name]
    inst = instances_of(path.read_text(encoding="utf-8"))
    if inst:
        args += ["--instances", ",".join(inst)]
    got = CliRunner().invoke(main, args)
    assert got.exit_code == 0, got.output
    check_golden(path.with_suffix(".split"), got.stdout, update_goldens)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_split_output_parses_back_to_the_same_programs(path) -> None:
    _, result = split_file(path)
    for instance in result.instances:
        for kind in KINDS:
            text = result.text(instance, kind)
            assert same_nodes(parse(text, f"{instance}-{kind}.rules"), result.program(instance, kind)), text


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_split_output_lints_clean(path) -> None:
    _, result = split_file(path)
    for name, text in result.files().items():
        kind = name.removesuffix(".rules").rsplit("-", 1)[1]
        checked = load(text, name, kind=kind)
        assert checked.ok and not checked.diagnostics, checked.render()


def test_every_generated_line_names_its_script_line() -> None:
    _, result = split_file(SCRIPTS[0])
    text = result.text("GreenJira", "outgoing")
    code = [line for line in text.splitlines() if line and not line.startswith("//")]
    assert code == [
        'replica.summary = issue.summary                                           // 01-design-example.rules:2',
        'replica.labels = issue.labels                                             // 01-design-example.rules:3',
        'replica.custom["status_mapped"] = {"Open": "To Do", "Closed": "Done"}[issue.status]  '
        '// 01-design-example.rules:5',
    ]
    for instance in result.instances:
        for kind in KINDS:
            for stmt in result.program(instance, kind).stmts:
                assert result.origin(stmt).file == "01-design-example.rules"


@pytest.mark.parametrize("path", SHARING, ids=lambda p: p.stem)
def test_sharing_report_golden(path, update_goldens: bool) -> None:
    source = path.read_text(encoding="utf-8")
    report = sharing_report(parse(source, path.name), instances=instances_of(source))
    check_golden(path.with_suffix(".txt"), report.render() + "\n", update_goldens)
    check_golden(path.with_suffix(".json"), json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n",
                 update_goldens)


def test_attachments_never_leave_qa() -> None:
    """The design's QA example: screenshots stay home, in side programs and in a connection script alike."""
    outgoing = sharing_report(parse((CASES / "sharing" / "qa-outgoing.rules").read_text(), "qa-outgoing.rules"))
    assert outgoing.kind == "outgoing"
    sent = {f.field for f in outgoing.sides[0].sends}
    assert "comments.body" in sent and not any(f.startswith("attachments") for f in sent)
    script = (CASES / "sharing" / "qa-dev-connection.rules").read_text()
    report = sharing_report(parse(script, "qa-dev-connection.rules"))
    by_sender = {side.sender: {f.field for f in side.sends} for side in report.sides}
    assert not any(f.startswith("attachments") for f in by_sender["QA"])
    assert "attachments.filename" in by_sender["Dev"]
    assert "comments.internal" in by_sender["QA"]  # kept comments travel whole, their `internal` (false) too
