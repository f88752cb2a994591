"""Jira webhooks over a real socket on 127.0.0.1: the shared secret, repeated and late deliveries, junk, and
`rulelang serve` itself."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner

from connectors.local import LocalTracker
from rulelang._cli_serve import webhook_endpoints
from rulelang._connectors import SPECS
from rulelang._wiring import connection_factory
from rulelang.cli import main
from rulelang.errors import ConfigError
from runtime.config import load_config
from runtime.engine import Engine, compile_programs
from runtime.serving import Service
from runtime.state import open_state, state_path
from runtime.webhooks import WebhookReceiver
from tests.jira_server import JiraServer

from .helpers import (
    JIRA_IN,
    JIRA_OUT,
    LOCAL_IN,
    LOCAL_OUT,
    Person,
    bodies,
    jira_instance,
    local_instance,
    write_folder,
)

SECRET = "s3cret-for-tests"


def make_folder(tmp_path: pathlib.Path, server: JiraServer, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    monkeypatch.setenv("DEV_WEBHOOK_SECRET", SECRET)
    return write_folder(
        tmp_path / "conn",
        {"QA": local_instance("qa", "QA", rules=("qa-out.rules", "qa-in.rules")),
         "Dev": jira_instance(server, "DEV_JIRA", monkeypatch, rules=("dev-out.rules", "dev-in.rules"),
                              webhook_secret_env="DEV_WEBHOOK_SECRET")},
        {"qa-out.rules": LOCAL_OUT, "qa-in.rules": LOCAL_IN, "dev-out.rules": JIRA_OUT, "dev-in.rules": JIRA_IN},
        sync={"QA -> Dev": "automatic", "Dev -> QA": "automatic"},
        triggers=[("QA", 'labels = "to-dev"'), ("Dev", 'labels = "to-qa"')])


class Node:
    """What `rulelang serve` runs, in this process: the engine, the receiver on a free port, the loop."""

    def __init__(self, folder: pathlib.Path, *, max_body: int | None = None) -> None:
        config = load_config(folder, connectors=SPECS)
        self.engine = Engine(config, open_state(state_path(folder)), connection_factory(config),
                             programs=compile_programs(config))
        self.deliveries = open_state(state_path(folder))
        options = {"max_body": max_body} if max_body else {}
        self.receiver = WebhookReceiver(self.deliveries, webhook_endpoints(config), **options).start()
        self.service = Service(self.engine, self.deliveries, self.receiver.wake, poll_interval=None)
        self.http = httpx.Client(base_url=self.receiver.url, timeout=10)

    def post(self, body: bytes | dict, *, how: str = "signature", secret: str = SECRET, ident: str | None = None,
             path: str = "/webhooks/Dev") -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        params = {}
        if ident:
            headers["X-Atlassian-Webhook-Identifier"] = ident
        if how == "signature":
            headers["X-Hub-Signature"] = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        elif how == "bearer":
            headers["Authorization"] = f"Bearer {secret}"
        elif how == "query":
            params["secret"] = secret
        return self.http.post(path, content=raw, headers=headers, params=params)

    def close(self) -> None:
        self.http.close()
        self.receiver.stop()
        self.deliveries.close()
        self.engine.close()


@pytest.fixture
def node(tmp_path, cloud_jira, monkeypatch) -> Iterator[Node]:
    n = Node(make_folder(tmp_path, cloud_jira, monkeypatch))
    yield n
    n.close()


def event(server: JiraServer, name: str, key: str, *, at: int | None = None) -> dict:
    """A webhook body as Jira sends it: the event and the issue as it was then."""
    body = {"timestamp": at or int(time.time() * 1000), "webhookEvent": name, "issue": server.issue_json(key)}
    if name.startswith("comment_"):
        comment = server.issue_json(key)["fields"]["comment"]["comments"][-1]
        body["comment"] = comment
    return body


def test_the_shared_secret_is_checked_every_accepted_way(node, cloud_jira, caplog):
    key = cloud_jira.seed_issue("Anything", labels=["to-qa"])
    body = event(cloud_jira, "jira:issue_updated", key)
    caplog.set_level(logging.DEBUG, logger="rulelang.webhooks")  # the access log too
    assert node.post(body, how="none").status_code == 401
    for how in ("signature", "bearer", "query"):
        assert node.post(body, how=how, secret="wrong").status_code == 401
    raw = json.dumps(body).encode()
    signed_other = "sha256=" + hmac.new(SECRET.encode(), raw + b" ", hashlib.sha256).hexdigest()
    tampered = node.http.post("/webhooks/Dev", content=raw, headers={"X-Hub-Signature": signed_other})
    assert tampered.status_code == 401  # signed with the right secret, but not this body
    assert node.deliveries.pending_deliveries() == []
    for n, how in enumerate(("signature", "bearer", "query")):
        answer = node.post(body, how=how, ident=f"delivery-{n}")
        assert (answer.status_code, answer.json()["accepted"]) == (202, key)
    assert [d.key for d in node.deliveries.pending_deliveries()] == [key] * 3
    assert node.receiver.counts["unauthorized"] == 5
    assert SECRET not in caplog.text and "missing or wrong secret" in caplog.text
    assert "secret=***" in caplog.text  # the request line, with the secret blanked out


def test_junk_is_refused_with_a_log_line_and_the_server_keeps_serving(tmp_path, cloud_jira, monkeypatch, caplog):
    node = Node(make_folder(tmp_path, cloud_jira, monkeypatch), max_body=4096)
    caplog.set_level(logging.INFO, logger="rulelang.webhooks")
    try:
        key = cloud_jira.seed_issue("Anything")
        junk = [b"not json at all", b"\xff\xfe\x00", b"[1, 2]", b"[" * 2000 + b"]" * 2000, b"{}" * 2500,
                {"action": "opened", "repository": {"full_name": "a/b"}, "sender": {}},
                {"webhookEvent": "jira:issue_deleted", "issue": {"key": key}},
                {"webhookEvent": "jira:issue_updated", "issue": {"key": "lower-1"}},
                {"webhookEvent": "comment_created", "comment": {"self": "https://x.example/elsewhere"}},
                {"webhookEvent": "jira:issue_updated", "issue": "DEV-1"}]
        for doc in junk:
            answer = node.post(doc)
            expected = 413 if isinstance(doc, bytes) and len(doc) > 4096 else 400
            assert answer.status_code == expected, (doc if isinstance(doc, dict) else doc[:20], answer.text)
        assert node.post({"webhookEvent": "jira:issue_updated"}, path="/webhooks/QA").status_code == 404
        assert node.http.get("/webhooks/Dev").status_code == 404
        assert node.http.put("/webhooks/Dev", content=b"{}").status_code == 405
        with socket.create_connection(("127.0.0.1", int(node.receiver.url.rsplit(":", 1)[1]))) as raw:
            raw.sendall(b"\x16\x03\x01 this is not HTTP\r\n\r\n")  # a TLS hello, or worse
            raw.recv(1024)
        assert node.http.get("/health").json() == {"ok": True}
        assert node.post(event(cloud_jira, "jira:issue_updated", key)).status_code == 202  # still working
        assert [d.key for d in node.deliveries.pending_deliveries()] == [key]
        assert "jira:issue_deleted' is not handled" in caplog.text and "not a Jira webhook" in caplog.text
        assert "body is not JSON" in caplog.text and "over the 4096 byte limit" in caplog.text
    finally:
        node.close()


def test_repeated_deliveries_are_dropped_even_after_a_restart(tmp_path, cloud_jira, monkeypatch):
    folder = make_folder(tmp_path, cloud_jira, monkeypatch)
    key = cloud_jira.seed_issue("Anything", labels=["to-qa"])
    body = event(cloud_jira, "jira:issue_created", key)
    node = Node(folder)
    try:
        assert node.post(body, ident="a1").status_code == 202
        again = node.post(body, ident="a1")
        assert (again.status_code, again.json()) == (200, {"duplicate": True})
        plain = event(cloud_jira, "jira:issue_updated", key, at=1)  # no identifier: the body's hash is the id
        assert [node.post(plain).status_code for _ in range(2)] == [202, 200]
    finally:
        node.close()
    node = Node(folder)  # a restart: the ids are in the state file
    try:
        assert node.post(body, ident="a1").status_code == 200
        assert node.post(body, ident="a2").status_code == 202
        assert len(node.deliveries.pending_deliveries()) == 3
        result = node.service.drain()
        assert (result.handled, result.pushed) == (3, [key])  # three notices, one issue: read once
        assert cloud_jira.count("GET /issue/{key}") <= 3  # the scope check, the push, the echo record
        assert node.deliveries.pending_deliveries() == []
        assert node.post(body, ident="a2").status_code == 200  # handled ones are still remembered
    finally:
        node.close()


def test_a_webhook_syncs_the_issue_it_names_now_and_only_in_scope(node, cloud_jira):
    key = cloud_jira.seed_issue("Printer on fire", labels=["to-qa"], comments=["smoke seen"])
    other = cloud_jira.seed_issue("Not for QA")
    cloud_jira.reset_counts()
    assert node.post(event(cloud_jira, "jira:issue_created", key), ident="c1").status_code == 202
    assert node.post(event(cloud_jira, "jira:issue_created", other), ident="c2").status_code == 202
    result = node.service.drain()
    assert result.pushed == [key] and "not in scope" in result.ignored[other]
    assert not [e for e in cloud_jira.counts() if "search" in e], "a webhook pass reads the issue, not a search"
    with LocalTracker(node.engine.config.folder / "qa") as qa:
        [copy] = qa.list_issues()
        assert (copy["summary"], bodies(copy)) == ("Printer on fire", ["Sync Bot: smoke seen"])

    jo = Person(cloud_jira, "Jo Dev", "jo@dev.example")
    try:
        jo.comment(key, "extinguished")
    finally:
        jo.close()
    assert node.post(event(cloud_jira, "comment_created", key), ident="c3").status_code == 202
    assert node.service.drain().pushed == [key]
    with LocalTracker(node.engine.config.folder / "qa") as qa:
        assert bodies(qa.list_issues()[0]) == ["Sync Bot: smoke seen", "Jo Dev: extinguished"]


def test_late_and_out_of_order_deliveries_cannot_bring_back_old_content(node, cloud_jira):
    key = cloud_jira.seed_issue("v1", labels=["to-qa"])
    node.post(event(cloud_jira, "jira:issue_created", key), ident="e1")
    node.service.drain()
    cloud_jira.set_field(key, "summary", "v2")
    stale = event(cloud_jira, "jira:issue_updated", key)  # says v2 …
    cloud_jira.set_field(key, "summary", "v3")
    fresh = event(cloud_jira, "jira:issue_updated", key)
    assert node.post(fresh, ident="e3").status_code == 202  # … the newer notice comes first,
    assert node.service.drain().pushed == [key]
    assert node.post(stale, ident="e2").status_code == 202  # the older one late
    result = node.service.drain()
    assert result.pushed == [key] and result.report is not None
    assert result.report.total.sent == 0  # the issue as it is now: nothing new to send
    with LocalTracker(node.engine.config.folder / "qa") as qa:
        assert qa.list_issues()[0]["summary"] == "v3"


def test_a_jira_outage_keeps_the_notice_for_later(node, cloud_jira):
    key = cloud_jira.seed_issue("Later", labels=["to-qa"])
    node.post(event(cloud_jira, "jira:issue_created", key), ident="o1")
    cloud_jira.fail(503, times=None, method="GET", headers={"Retry-After": "0"})
    result = node.service.drain()
    assert result.handled == 0 and result.retry_after is not None
    assert len(node.deliveries.pending_deliveries()) == 1
    cloud_jira.clear_faults()
    assert node.service.drain().pushed == [key]


def test_serve_needs_each_webhook_secret_in_the_environment(tmp_path, cloud_jira, monkeypatch):
    folder = make_folder(tmp_path, cloud_jira, monkeypatch)
    monkeypatch.delenv("DEV_WEBHOOK_SECRET")
    with pytest.raises(ConfigError, match="DEV_WEBHOOK_SECRET is not set"):
        webhook_endpoints(load_config(folder, connectors=SPECS))
    toml = folder / "connection.toml"
    toml.write_text(toml.read_text().replace('webhook_secret_env = "DEV_WEBHOOK_SECRET"\n', ""))
    result = CliRunner().invoke(main, ["serve", str(folder), "--port", "0"])
    assert result.exit_code == 2 and "no instance takes webhooks" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_rulelang_serve_takes_webhooks_until_sigterm(tmp_path, cloud_jira, monkeypatch):
    folder = make_folder(tmp_path, cloud_jira, monkeypatch)
    proc = subprocess.Popen([sys.executable, "-c", "from rulelang.cli import main; main()", "serve", str(folder),
                             "--port", "0", "--poll", "0", "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert proc.stdout is not None
        lines = [json.loads(proc.stdout.readline()) for _ in range(2)]  # the start-up pass, then "listening"
        assert lines[0]["kind"] == "poll" and lines[1]["kind"] == "listening"
        url = lines[1]["endpoints"]["Dev"]
        key = cloud_jira.seed_issue("Via serve", labels=["to-qa"])  # made after the start-up pass
        body = json.dumps(event(cloud_jira, "jira:issue_updated", key)).encode()
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert httpx.post(url, content=body, headers={"X-Hub-Signature": signature}).status_code == 202
        assert httpx.post(url, content=b"junk", headers={"X-Hub-Signature": signature}).status_code == 401
        pushed = json.loads(proc.stdout.readline())
        assert pushed["kind"] == "webhook" and pushed["directions"]["Dev -> QA"]["created"] == 1
        with LocalTracker(folder / "qa") as qa:
            assert [i["summary"] for i in qa.list_issues()] == ["Via serve"]
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "refused: missing or wrong secret" in err and SECRET not in err and "Traceback" not in err
