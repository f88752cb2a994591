"""Jira Cloud -> Jira Data Center over loopback: issues per second and HTTP requests per synced issue, beside a
hand-written httpx loop making the same calls, in the same run.

The source site holds N issues (a summary, an ADF description, two comments each); the rules copy type,
summary, description and the comments one way. The engine runs as `rulelang sync` does (connectors built by
the CLI's factory, rules in worker processes, the SQLite state store). The requests are counted by the two
test servers themselves, per endpoint. The goal is no N+1: the field catalogue fetched once per site, one
search page per 100 issues, one write per new or changed issue plus one per new comment. Three passes are
measured: the first sync (creates), a pass with nothing changed, and a pass after 10 % of the issues got a
new summary and a comment.

N is 1,000 (RULELANG_BENCH_JIRA_ISSUES=N for another size); under --benchmark-disable (CI) it is 50.
Both servers and the engine share this process (the GIL), and so does the baseline loop: the ratio is fair,
the absolute rate is a floor. Run: `pytest benchmarks/test_bench_jira.py -s` (numbers printed and kept in the
benchmark's extra_info).
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from connectors.jira.model import comment_body_to_jira, fields_to_jira, issue_from_jira
from tests.jira_server import JiraServer
from tests.jira_server.fixtures import jira_server_factory

__all__ = ["jira_server_factory"]  # the fixture, found by pytest in this module

COMMENTS = 2
OUTGOING = """\
replica.key         = issue.key
replica.type        = issue.type
replica.summary     = issue.summary
replica.description = issue.description
replica.comments    = issue.comments.map(c -> {id: c.id, body: c.body})
"""
INCOMING = """\
if first_sync {
    issue.type = replica.type
}
if replica.summary != previous.summary {
    issue.summary = replica.summary
}
if replica.description != previous.description {
    issue.description = replica.description
}
issue.comments = replica.comments
"""


def size(request: pytest.FixtureRequest) -> int:
    if request.config.getoption("benchmark_disable", False):
        return 50
    return int(os.environ.get("RULELANG_BENCH_JIRA_ISSUES", "1000"))


def seed(server: JiraServer, n: int) -> None:
    for i in range(n):
        server.seed_issue(f"Issue {i}", type=("Bug", "Task", "Story")[i % 3], labels=["bench"],
                          description=f"Steps to reproduce issue {i}: open the page and wait.",
                          comments=[f"comment {k} on issue {i}" for k in range(COMMENTS)])


def write_folder(folder: pathlib.Path, src: JiraServer, dst: JiraServer) -> None:
    folder.mkdir()
    (folder / "out.rules").write_text(OUTGOING)
    (folder / "in.rules").write_text(INCOMING)
    tables = []
    for name, server, prefix in (("Src", src, "SRC_JIRA"), ("Dst", dst, "DST_JIRA")):
        auth = ", ".join(f'{k} = "{v}"' for k, v in server.auth_config(prefix).items())
        tables.append(f'[instances.{name}]\nconnector = "jira"\nurl = "{server.url}"\nproject = "{server.project}"\n'
                      f'flavor = "{server.flavor}"\nauth = {{ {auth} }}\n'
                      'rules = { outgoing = "out.rules", incoming = "in.rules" }\n')
    (folder / "connection.toml").write_text(
        'name = "bench-jira"\n' + "\n".join(tables)
        + '\n[sync]\n"Src -> Dst" = "automatic"\n\n[[triggers]]\ninstance = "Src"\nquery = \'labels = "bench"\'\n'
        + "\n[limits]\nisolate = true\nworkers = 2\nbatch = 50\n")


def copy_loop(src: JiraServer, dst: JiraServer) -> float:
    """The baseline: the same calls by hand with httpx: catalogues, search pages, one create and one POST per
    comment, with the same ADF -> Markdown -> wiki conversions."""
    start = time.perf_counter()
    cloud = httpx.Client(base_url=f"{src.url}/rest/api/3", auth=(src.bot.email, src.bot.token or ""), timeout=30)
    dc = httpx.Client(base_url=f"{dst.url}/rest/api/2", headers={"Authorization": f"Bearer {dst.bot.token}"},
                      timeout=30)
    with cloud, dc:
        cloud.get("/field").raise_for_status()
        dc.get("/field").raise_for_status()
        token = None
        while True:
            body: dict[str, Any] = {"jql": f'project = {src.project} AND labels = "bench" ORDER BY updated ASC',
                                    "fields": ["summary", "description", "issuetype", "comment", "updated"],
                                    "maxResults": 100}
            if token:
                body["nextPageToken"] = token
            page = cloud.post("/search/jql", json=body).json()
            for raw in page["issues"]:
                issue = issue_from_jira(raw)
                fields = fields_to_jira({"summary": issue["summary"], "description": issue["description"],
                                         "type": issue["type"]}, flavor="dc")
                made = dc.post("/issue", json={"fields": {**fields, "project": {"key": dst.project}}})
                made.raise_for_status()
                for c in issue["comments"]:
                    dc.post(f"/issue/{made.json()['key']}/comment",
                            json={"body": comment_body_to_jira(c["body"], flavor="dc")}).raise_for_status()
            token = page.get("nextPageToken")
            if not token or page.get("isLast"):
                break
    return time.perf_counter() - start


def engine_pass(folder: pathlib.Path) -> tuple[float, Any]:
    from rulelang._connectors import SPECS
    from rulelang._wiring import connection_factory
    from runtime.config import load_config
    from runtime.engine import Engine, compile_programs
    from runtime.state import open_state, state_path

    config = load_config(folder, connectors=SPECS)
    with Engine(config, open_state(state_path(config.folder)), connection_factory(config),
                programs=compile_programs(config)) as engine:
        start = time.perf_counter()
        report = engine.sync()
        seconds = time.perf_counter() - start
    assert not report.failed and report.in_error == 0, report.to_json()
    return seconds, report


def requests(*servers: JiraServer) -> Counter[str]:
    total: Counter[str] = Counter()
    for server in servers:
        total.update({f"{server.flavor} {k}": v for k, v in server.counts().items()})
        server.reset_counts()
    return total


def test_jira_to_jira_throughput_and_requests(benchmark, request, jira_server_factory, tmp_path, monkeypatch):
    n = size(request)
    src = jira_server_factory("cloud", project="SRC")
    dst, loop_dst = jira_server_factory("dc", project="DST"), jira_server_factory("dc", project="DST")
    for server, prefix in ((src, "SRC_JIRA"), (dst, "DST_JIRA")):
        for var, value in server.auth_env(prefix).items():
            monkeypatch.setenv(var, value)
    seed(src, n)
    loop_seconds = copy_loop(src, loop_dst)
    loop_requests = sum(requests(src, loop_dst).values())

    folder = tmp_path / "conn"
    write_folder(folder, src, dst)
    seconds, report = benchmark.pedantic(engine_pass, args=(folder,), rounds=1, iterations=1)
    first = requests(src, dst)
    assert report.total.created == n and len(dst.keys()) == n
    assert sum(len(dst.get(k).comments) for k in dst.keys()) == n * COMMENTS
    engine_titles = sorted(issue_from_jira(dst.issue_json(k))["summary"] for k in dst.keys())
    loop_titles = sorted(issue_from_jira(loop_dst.issue_json(k))["summary"] for k in loop_dst.keys())
    assert engine_titles == loop_titles

    _, idle_report = engine_pass(folder)
    idle = requests(src, dst)
    assert idle_report.total.sent == 0
    changed = src.keys()[:: 10]
    for key in changed:
        src.set_field(key, "summary", f"{key} renamed")
        src.state.add_comment(src.get(key), {"body": src.rich(f"news on {key}")}, src.bot)
        src.state.touch(src.get(key))
    _, update_report = engine_pass(folder)
    update = requests(src, dst)
    assert update_report.total.applied == len(changed)

    pages = math.ceil(n / 100)
    writes = sum(v for k, v in first.items() if k.startswith("dc POST"))
    numbers = {
        "issues": n, "comments_per_issue": COMMENTS,
        "engine_issues_per_s": round(n / seconds, 1), "copy_loop_issues_per_s": round(n / loop_seconds, 1),
        "ratio_engine_to_loop": round(seconds / loop_seconds, 2),
        "first_pass": {"requests_per_issue": round(sum(first.values()) / n, 3),
                       "copy_loop_requests_per_issue": round(loop_requests / n, 3),
                       "writes_per_issue": round(writes / n, 3), "by_endpoint": dict(sorted(first.items()))},
        "idle_pass": {"requests": sum(idle.values()), "by_endpoint": dict(sorted(idle.items()))},
        "update_pass": {"changed": len(changed), "requests_per_changed_issue": round(sum(update.values()) / len(changed), 2),
                        "by_endpoint": dict(sorted(update.items()))},
    }
    benchmark.extra_info.update(numbers)
    print("\n" + json.dumps(numbers, indent=2))
    # No N+1: the budget the module docstring states.
    assert first["cloud GET /field"] == 1 and first["dc GET /field"] == 1
    assert first["cloud POST /search/jql"] == pages
    assert first["dc POST /issue"] == n and first["dc POST /issue/{key}/comment"] == n * COMMENTS
    assert sum(first.values()) <= n * (1 + COMMENTS) + pages + 4
    assert sum(idle.values()) <= pages + 4
    assert update["dc PUT /issue/{key}"] == len(changed) and update["dc POST /issue/{key}/comment"] == len(changed)
