"""Connection folders joining local trackers and Jira test servers, and people working in Jira over HTTP."""

from __future__ import annotations

import base64
import json
import pathlib
from collections import Counter
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from rulelang.cli import main
from tests.jira_server import JiraServer

__all__ = ["LOCAL_OUT", "LOCAL_IN", "JIRA_OUT", "JIRA_IN", "jira_instance", "local_instance", "write_folder",
           "sync", "Person", "no_duplicates", "bodies"]

# What the local tracker QA shares, and how it takes Jira's issues back: fields, status, public comments,
# attachments. Rule text, as a person would write it.
LOCAL_OUT = """\
replica.key         = issue.key
replica.type        = issue.type
replica.summary     = issue.summary
replica.description = issue.description
replica.status      = issue.status
let public = issue.comments.filter(c -> not c.internal)
replica.comments    = public.map(c -> c | {author: {email: c.author.email, name: c.author.name}})
replica.attachments = issue.attachments
"""
LOCAL_IN = """\
if first_sync {
    issue.type   = replica.type ?? "Task"
    issue.labels = ["from-jira"]
}
if replica.summary != previous.summary {
    issue.summary = replica.summary
}
if replica.description != previous.description {
    issue.description = replica.description
}
if replica.status != previous.status {
    issue.status = {"To Do": "Open", "In Progress": "In Progress", "In Review": "In Progress",
                    "Done": "Closed"}[replica.status] ?? "Open"
}
issue.comments    = replica.comments.map(c -> c | {body: "${c.author.name ?? 'Jira'}: ${c.body}"})
issue.attachments = replica.attachments
"""
JIRA_OUT = LOCAL_OUT
JIRA_IN = """\
if first_sync {
    issue.type   = {"Bug": "Bug", "Story": "Story"}[replica.type] ?? "Task"
    issue.labels = ["synced"]
}
if replica.summary != previous.summary {
    issue.summary = replica.summary
}
if replica.description != previous.description {
    issue.description = replica.description
}
if replica.status != previous.status {
    issue.status = {"Open": "To Do", "To Do": "To Do", "In Progress": "In Progress", "In Review": "In Review",
                    "Closed": "Done", "Done": "Done"}[replica.status] ?? "To Do"
}
issue.comments    = replica.comments.map(c -> c | {body: "${c.author.name ?? 'someone'}: ${c.body}"})
issue.attachments = replica.attachments
"""


def jira_instance(server: JiraServer, prefix: str, monkeypatch: pytest.MonkeyPatch, *,
                  rules: tuple[str, str], **extra: Any) -> dict[str, Any]:
    """An [instances.X] table for `server`; its credentials go into the environment, never the file."""
    for name, value in server.auth_env(prefix).items():
        monkeypatch.setenv(name, value)
    return {"connector": "jira", "url": server.url, "project": server.project, "flavor": server.flavor,
            "auth": server.auth_config(prefix), "marker_settle": 1.0,
            "rules": {"outgoing": rules[0], "incoming": rules[1]}, **extra}


def local_instance(path: str, project: str, *, rules: tuple[str, str]) -> dict[str, Any]:
    return {"connector": "local", "path": path, "project": project,
            "workflow": ["Open", "In Progress", "Closed"], "rules": {"outgoing": rules[0], "incoming": rules[1]}}


def _toml(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def write_folder(folder: pathlib.Path, instances: Mapping[str, Mapping[str, Any]], rules: Mapping[str, str], *,
                 sync: Mapping[str, str], triggers: list[tuple[str, str]], limits: Mapping[str, Any] | None = None
                 ) -> pathlib.Path:
    """connection.toml and the rule files (name -> text) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ['name = "jira-test"', ""]
    for name, table in instances.items():
        lines.append(f"[instances.{name}]")
        lines += [f"{k} = {_toml(v)}" for k, v in table.items()]
        lines.append("")
    lines.append("[sync]")
    lines += [f'"{k}" = "{v}"' for k, v in sync.items()]
    for instance, query in triggers:
        lines += ["", "[[triggers]]", f'instance = "{instance}"', f"query = '{query}'"]
    limits = {"isolate": False, "backoff_seconds": 0.01, "backoff_max_seconds": 0.05, **(limits or {})}
    lines += ["", "[limits]"] + [f"{k} = {_toml(v)}" for k, v in limits.items()]
    (folder / "connection.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, text in rules.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def sync(folder: pathlib.Path, *args: str) -> dict[str, Any]:
    """`rulelang sync FOLDER --json` in this process; the report (the pass must not park anything)."""
    result: Result = CliRunner().invoke(main, ["sync", str(folder), "--json", *args])
    assert result.exit_code == 0, (result.exit_code, result.output, result.stderr)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


class Person:
    """Someone working in a Jira test site through its REST API, with their own token."""

    def __init__(self, server: JiraServer, name: str, email: str) -> None:
        self.server = server
        token = f"token-of-{email}"
        self.user = server.add_user(name, email, name=email.split("@")[0], token=token)
        auth = (email, token) if server.flavor == "cloud" else None
        headers = {} if auth else {"Authorization": f"Bearer {token}"}
        self.http = httpx.Client(base_url=f"{server.url}/rest/api/{3 if server.flavor == 'cloud' else 2}",
                                 auth=auth, headers=headers, timeout=10)

    def _body(self, text: Any) -> Any:
        return self.server.rich(text)  # plain text becomes ADF on Cloud; ADF and wiki markup pass as they are

    def comment(self, key: str, text: str) -> str:
        got = self.http.post(f"/issue/{key}/comment", json={"body": self._body(text)})
        got.raise_for_status()
        return str(got.json()["id"])

    def edit(self, key: str, **fields: Any) -> None:
        body = {k: self._body(v) if k == "description" else v for k, v in fields.items()}
        self.http.put(f"/issue/{key}", json={"fields": body}).raise_for_status()

    def move(self, key: str, status: str) -> None:
        moves = self.http.get(f"/issue/{key}/transitions").json()["transitions"]
        step = next(t for t in moves if t["to"]["name"] == status)
        self.http.post(f"/issue/{key}/transitions", json={"transition": {"id": step["id"]}}).raise_for_status()

    def attach(self, key: str, filename: str, data: bytes) -> str:
        got = self.http.post(f"/issue/{key}/attachments", files={"file": (filename, data, "application/octet-stream")},
                             headers={"X-Atlassian-Token": "no-check"})
        got.raise_for_status()
        return str(got.json()[0]["id"])

    def close(self) -> None:
        self.http.close()


def bodies(issue: Mapping[str, Any]) -> list[str]:
    return [str(c["body"]).strip() for c in issue.get("comments") or []]


def no_duplicates(items: list[str]) -> list[str]:
    """The items that occur more than once (none, if all is well)."""
    return [item for item, n in Counter(items).items() if n > 1]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
