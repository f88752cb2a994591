"""The sharing report's data-flow rules, one at a time (docs/connection-scripts.md, "Sharing report")."""

from __future__ import annotations

import pytest

from rulelang.parse import parse
from rulelang.sharing import field_names, sharing_report


def report(source: str, kind: str = "outgoing") -> tuple[dict[str, str], set[str]]:
    side = sharing_report(parse(source, "out.rules"), kind).sides[0]
    return {f.field: f.how for f in side.sends}, {d.field for d in side.decides}


def test_flow_not_names() -> None:
    sends, _ = report('replica.custom["x"] = issue.description\nreplica.summary = "fixed text"')
    assert sends == {"description": "as is"}


def test_a_filter_sends_the_items_not_what_picked_them() -> None:
    sends, decides = report("replica.custom['c'] = issue.comments.filter(c -> c.author.email == 'a@x')")
    assert "comments.body" in sends and sends["comments.author.email"] == "as is"
    src = "replica.labels = issue.comments.filter(c -> not c.internal).map(c -> c.body)"
    sends, decides = report(src)
    assert sends == {"comments.body": "as is"}
    assert decides == {"comments.internal"}


def test_derived_values() -> None:
    sends, _ = report('replica.custom["a"] = len(issue.description)\n'
                      'replica.custom["b"] = issue.priority == "High"\n'
                      'replica.custom["c"] = {"S1": "Highest"}[issue.custom["Severity"]] ?? "Low"\n'
                      'replica.custom["d"] = "x" if issue.resolution == null else "y"\n'
                      'replica.custom["e"] = issue.labels.contains("bug")')
    assert sends == {"description": "derived", "priority": "derived", 'custom["Severity"]': "derived",
                     "resolution": "derived", "labels": "derived"}


def test_as_is_through_text_lists_and_variables() -> None:
    sends, _ = report('let who = issue.assignee\nlet t = "[${issue.key}] " + issue.summary.lower()\n'
                      'replica.custom["x"] = [t, who.email]\nreplica.custom["y"] = issue.due ?? issue.created')
    assert sends == {"key": "as is", "summary": "as is", "assignee.email": "as is", "due": "as is",
                     "created": "as is"}


def test_as_is_wins_over_derived() -> None:
    sends, _ = report('replica.custom["n"] = len(issue.summary)\nreplica.summary = issue.summary')
    assert sends == {"summary": "as is"}


def test_whole_values_send_every_leaf() -> None:
    sends, _ = report("replica.reporter = issue.reporter\nreplica.custom['all'] = issue.custom")
    assert sends == {"reporter.id": "as is", "reporter.email": "as is", "reporter.name": "as is",
                     "custom[*]": "as is"}
    assert field_names(("attachments",))[0] == "attachments.id"
    assert "attachments.author.email" in field_names(("attachments",))


def test_control_flow_only_decides() -> None:
    src = ('if issue.custom["Public"] == true {\n    replica.description = issue.description\n}\n'
           'let n = 0\nfor w in issue.worklogs {\n    if w.seconds > 60 {\n        n = n + 1\n    }\n}\n'
           'replica.custom["n"] = n\n'
           'if issue.type == "Epic" {\n    skip "epics stay"\n}\n'
           'log issue.custom["Secret"]\n')
    sends, decides = report(src)
    assert sends == {"description": "as is"}
    assert decides == {'custom["Public"]', "worklogs (how many)", "worklogs.seconds", "type"}


def test_lookups_and_computed_keys() -> None:
    sends, _ = report('replica.custom["u"] = user(issue.reporter.email)\nreplica.custom[issue.key] = true\n'
                      'replica.custom["v"] = issue.custom[issue.type]')
    assert sends["reporter.email"] == "derived"
    assert sends["key"] == "as is"  # a computed key travels as a key
    assert sends["custom[*]"] == "as is" and sends["type"] == "derived"
    assert any(name.startswith("user() look-up") for name in sends)


def test_lines_are_the_lines_that_send() -> None:
    side = sharing_report(parse("let s = issue.summary\n\nreplica.summary = s\nreplica.custom['t'] = s",
                                "out.rules")).sides[0]
    assert [(f.field, f.lines) for f in side.sends] == [("summary", (3, 4))]


def test_incoming_rules_send_nothing() -> None:
    rep = sharing_report(parse("issue.summary = replica.summary"))
    assert rep.kind == "incoming" and rep.sides == ()
    assert rep.render() == "<rules>: incoming rules send nothing (they change the local issue only)"


def test_connection_scripts_report_each_side_with_script_lines() -> None:
    src = ("Blue.issue.summary = Green.issue.summary\n"
           "if Green.issue.custom['Secret'] == true {\n    skip\n}\n"
           "Green.issue.labels = Blue.issue.labels.filter(l -> l != 'internal')\n")
    rep = sharing_report(parse(src, "c.rules"))
    assert rep.kind == "connection"
    sides = {s.sender: s for s in rep.sides}
    assert [(f.field, f.how, f.lines) for f in sides["Green"].sends] == [("summary", "as is", (1,))]
    assert [(d.field, d.lines) for d in sides["Green"].decides] == [('custom["Secret"]', (3,))]
    assert [(f.field, f.lines) for f in sides["Blue"].sends] == [("labels", (5,))]
    assert sides["Blue"].receiver == "Green"


@pytest.mark.parametrize("kind", ["outgoing", None])
def test_render_and_json(kind) -> None:
    rep = sharing_report(parse("replica.comments = issue.comments\nreplica.key = issue.key", "o.rules"), kind)
    text = rep.render()
    assert text.splitlines()[0] == "o.rules: what these outgoing rules send"
    assert "comments.{author.email, author.id, author.name, body, created, id, internal, updated}" in text
    doc = rep.to_json()
    assert doc["kind"] == "outgoing"
    assert {"field": "key", "how": "as is", "lines": [2]} in doc["sides"][0]["sends"]
