"""examples/local-jira and examples/jira-jira: they lint clean, load with the config checker, and run as they
are against the Jira test servers (only the site URLs swapped)."""

from __future__ import annotations

import pathlib
import re
import shutil

import pytest
from click.testing import CliRunner

from connectors.jira.model import issue_from_jira
from connectors.local import LocalTracker
from rulelang._cli_serve import webhook_endpoints
from rulelang._connectors import SPECS
from rulelang.cli import main
from runtime.config import load_config
from runtime.engine import compile_programs
from tests.jira_server import JiraServer

from .helpers import bodies, sync

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
ENV = {"local-jira": ["DEV_JIRA_EMAIL", "DEV_JIRA_TOKEN", "DEV_WEBHOOK_SECRET"],
       "jira-jira": ["ACME_JIRA_EMAIL", "ACME_JIRA_TOKEN", "OPS_JIRA_PAT", "ACME_WEBHOOK_SECRET",
                     "OPS_WEBHOOK_SECRET"]}


@pytest.mark.parametrize("name", sorted(ENV))
def test_example_lints_clean_and_loads(name, monkeypatch):
    folder = EXAMPLES / name
    for var in ENV[name]:
        monkeypatch.setenv(var, f"value-of-{var}")
    result = CliRunner().invoke(main, ["lint", "--strict", str(folder)])
    assert result.exit_code == 0 and "no problems" in result.output, result.output
    config = load_config(folder, connectors=SPECS)
    assert {i.connector for i in config.instances.values()} >= {"jira"}
    assert compile_programs(config)
    assert set(webhook_endpoints(config)) == {n for n, i in config.instances.items() if i.connector == "jira"}
    text = (folder / "connection.toml").read_text()
    assert not re.search(r"(?i)(token|secret|password)\s*=", text), "a secret in the file"


def copy_example(name: str, tmp_path: pathlib.Path, urls: dict[str, str]) -> pathlib.Path:
    folder = tmp_path / name
    shutil.copytree(EXAMPLES / name, folder, ignore=shutil.ignore_patterns(".state"))
    toml = folder / "connection.toml"
    text = toml.read_text()
    for old, new in urls.items():
        assert old in text
        text = text.replace(old, new)
    toml.write_text(text)
    return folder


def test_local_jira_example_runs(tmp_path, jira_server_factory, monkeypatch):
    dev: JiraServer = jira_server_factory("cloud", project="DEV")
    for var, value in dev.auth_env("DEV_JIRA").items():
        monkeypatch.setenv(var, value)
    folder = copy_example("local-jira", tmp_path, {"https://your-site.atlassian.net": dev.url})
    story = dev.seed_issue("One-click reorder", type="Story", labels=["needs-qa"])
    report = sync(folder)
    assert report["directions"]["QA -> Dev"]["created"] == 2 and report["directions"]["Dev -> QA"]["created"] == 1
    issues = {issue_from_jira(dev.issue_json(k))["summary"]: k for k in dev.keys()}
    checkout = dev.get(issues["[QA] Checkout fails with a 500 error when the cart holds more than 50 items"])
    assert checkout.fields["priority"] == "Highest" and [a.filename for a in checkout.attachments] == ["response.txt"]
    assert b"cart too large" in dev.attachment_bytes(checkout.attachments[0].id)
    assert len(checkout.comments) == 1  # the internal one stayed in QA
    with LocalTracker(folder / ".state" / "qa") as qa:
        [test] = [i for i in qa.list_issues() if i["type"] == "Test"]
        assert test["summary"] == "Test: One-click reorder" and test["labels"] == ["from-dev"]
    assert story in dev.keys() and sync(folder)["total"]["sent"] == 0


def test_jira_jira_example_runs(tmp_path, jira_server_factory, monkeypatch):
    acme: JiraServer = jira_server_factory("cloud", project="ACME")
    ops: JiraServer = jira_server_factory("dc", project="OPS")
    for server, prefix in ((acme, "ACME_JIRA"), (ops, "OPS_JIRA")):
        for var, value in server.auth_env(prefix).items():
            monkeypatch.setenv(var, value)
    folder = copy_example("jira-jira", tmp_path, {"https://acme.atlassian.net": acme.url,
                                                   "https://jira.ops.example.net": ops.url})
    incident = acme.seed_issue("Payments time out", type="Bug", labels=["ops"], priority="High",
                               comments=["since 09:12", {"body": "agent-only", "internal": True}])
    ops.seed_issue("Database upgrade on Sunday", type="Story", labels=["announce"],
                   description="h3. Window\n02:00-04:00 UTC")
    report = sync(folder)
    assert report["in_error"] == 0
    assert report["directions"]["Acme -> Ops"]["created"] == 1 and report["directions"]["Ops -> Acme"]["created"] == 1
    copies = {issue_from_jira(ops.issue_json(k))["summary"]: k for k in ops.keys()}
    copy = issue_from_jira(ops.issue_json(copies["[Acme] Payments time out"]))
    assert copy["priority"] == "High" and copy["labels"] == ["from-acme"]
    assert bodies(copy) == ["Sync Bot (Acme): since 09:12"]
    announced = [issue_from_jira(acme.issue_json(k)) for k in acme.keys() if k != incident]
    assert [(i["summary"], i["description"]) for i in announced] == [
        ("[Ops] Database upgrade on Sunday", "### Window\n\n02:00-04:00 UTC")]
    assert sync(folder)["total"]["sent"] == 0
