"""connection.toml: a good folder loads; a bad one is refused with every problem, each naming file, line and key."""

from __future__ import annotations

import pathlib

import pytest
from engine_helpers import write_folder

from rulelang._connectors import SPECS
from rulelang.errors import ConfigError
from runtime.config import load_config


def _problems(folder: pathlib.Path, text: str, environ: dict | None = None) -> list:
    (folder / "connection.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(folder, connectors=SPECS, environ=environ or {})
    return e.value.diagnostics


def test_a_good_folder_loads(tmp_path):
    folder = write_folder(tmp_path / "c", sync={"QA -> Dev": "automatic", "Dev -> QA": "manual"},
                          limits={"batch": 10, "backoff_seconds": 2})
    config = load_config(folder, connectors=SPECS)
    assert config.name == "test" and list(config.instances) == ["QA", "Dev"]
    assert config.instances["QA"].settings["path"] == (folder / "qa").resolve()
    assert config.instances["QA"].rules.outgoing == (folder / "qa-out.rules").resolve()
    assert config.direction("QA", "Dev").method == "automatic" and config.direction("Dev", "QA").method == "manual"
    (trigger,) = config.triggers
    assert (trigger.number, trigger.instance, trigger.query.text) == (1, "QA", 'labels = "sync"')
    assert config.limits.batch == 10 and config.limits.backoff_seconds == 2.0 and config.limits.isolate is False


BAD = """\
name = "x"
nme = "y"

[instances.QA]
connector = "local"
pth = "qa"
rules = { outgoing = "qa-out.rules", incomin = "qa-in.rules" }

[instances.Dev]
connector = "lokal"
path = "dev"
rules = { outgoing = "dev-out.rules", incoming = "missing.rules" }

[sync]
"QA -> Dev" = "automatc"
"Dev -> QX" = "manual"

[[triggers]]
instance = "QA"
query = 'labels = "sync" AND prioritty = High'

[[triggers]]
instance = "Dve"
query = 'labels = ('

[limits]
workers = 0
isolat = true
"""


def test_every_problem_is_reported_with_file_line_and_a_suggestion(tmp_path):
    folder = write_folder(tmp_path / "c")
    found = {(d.code, d.span.line): d for d in _problems(folder, BAD)}
    expect = {
        ("K721", 2): "unknown key 'nme'", ("K722", 4): "needs 'path'", ("K721", 6): "unknown key 'pth'",
        ("K721", 7): "unknown key 'incomin'", ("K729", 10): "unknown connector 'lokal'",
        ("K724", 12): "'missing.rules' does not exist", ("K725", 15): "unknown sync method 'automatc'",
        ("K729", 16): "unknown instance 'QX'", ("K741", 20): "unknown field 'prioritty'",
        ("K726", 23): "unknown instance 'Dve'", ("K740", 24): "trigger query", ("K727", 27): "out of range",
        ("K721", 28): "unknown key 'isolat'",
    }
    for where, text in expect.items():
        assert where in found, f"missing {where}: {text}"
        assert text in found[where].message
        assert found[where].span.file == str(folder.resolve() / "connection.toml")
    hints = {d.hint for d in found.values()}
    assert {"did you mean 'name'?", "did you mean 'path'?", "did you mean 'incoming'?", "did you mean 'local'?",
            "did you mean 'automatic'?", "did you mean 'isolate'?"} <= hints
    assert found[("K741", 20)].span.col == 30  # inside the query, where the bad field starts
    assert len(found) == len(expect)


def test_toml_that_does_not_parse(tmp_path):
    folder = write_folder(tmp_path / "c")
    (d,) = _problems(folder, 'name = "x"\n[instances\n')
    assert d.code == "K720" and d.span.line == 2


def test_a_connection_joins_two_instances_and_enabled_directions_need_rules(tmp_path):
    folder = write_folder(tmp_path / "c")
    one = _problems(folder, '[instances.QA]\nconnector = "local"\npath = "qa"\n')
    assert any("exactly two instances" in d.message for d in one)
    missing = _problems(folder, '[instances.QA]\nconnector = "local"\npath = "qa"\n'
                                '[instances.Dev]\nconnector = "local"\npath = "dev"\n[sync]\n"QA -> Dev" = "manual"\n')
    assert {d.message for d in missing} == {"'QA -> Dev' is manual but 'QA' has no outgoing rules",
                                            "'QA -> Dev' is manual but 'Dev' has no incoming rules"}


def test_secrets_come_from_the_environment_only(tmp_path):
    folder = write_folder(tmp_path / "c")
    text = (folder / "connection.toml").read_text().replace(
        '[instances.Dev]\nconnector = "local"\npath = "dev"\nproject = "DEV"',
        '[instances.Dev]\nconnector = "jira"\nurl = "https://dev.example.net"\nproject = "DEV"\n'
        'auth = { email_env = "DEV_EMAIL", token_env = "DEV_TOKEN" }')
    (d,) = _problems(folder, text, {"DEV_EMAIL": "me@example.net"})
    assert d.code == "K728" and "DEV_TOKEN is not set" in d.message and (d.span.line, d.span.col) == (13, 35)
    config = load_config(folder, connectors=SPECS, environ={"DEV_EMAIL": "me@example.net", "DEV_TOKEN": "s3cret"})
    dev = config.instances["Dev"]
    assert dev.secrets == {"email": "me@example.net", "token": "s3cret"}
    assert "s3cret" not in repr(config) and "s3cret" not in repr(dev)


def test_limits_are_checked_by_type_and_range(tmp_path):
    folder = write_folder(tmp_path / "c")
    text = (folder / "connection.toml").read_text()
    problems = _problems(folder, text[:text.index("[limits]")] + '[limits]\nworkers = "two"\nbatch = 0\nisolate = 1\n')
    assert {d.code for d in problems} == {"K723", "K727"} and len(problems) == 3
