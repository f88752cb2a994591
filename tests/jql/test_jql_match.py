"""What trigger queries mean on neutral issues: operators, multi-valued fields, users, dates, custom fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runtime.jql import Query, parse_query

NOW = datetime(2024, 5, 25, 12, 0, tzinfo=UTC)

ISSUE = {
    "key": "SUP-1042", "project": "SUP", "type": "Bug",
    "summary": "Customer portal times out", "description": "Steps: open the *portal*.",
    "status": "In Progress", "priority": "High", "resolution": None,
    "labels": ["customer", "to-dev"], "components": ["Portal"], "fix_versions": [], "affects_versions": ["2.1"],
    "assignee": {"id": "5b10", "email": "ada@acme.example", "name": "Ada Lovelace"}, "reporter": None,
    "due": "2024-06-15", "created": "2024-05-01T08:30:00.000+0200", "updated": "2024-05-20T17:45:12.000Z",
    "parent": "SUP-1001", "links": [],
    "comments": [{"id": "1", "author": None, "body": "Seen again in staging", "created": "2024-05-02T00:00:00Z",
                  "updated": "2024-05-02T00:00:00Z", "internal": False}],
    "attachments": [], "worklogs": [],
    "custom": {"Story Points": 5.0, "Severity": "Sev-2", "Affected Teams": ["Payments", "Identity"],
               "Target Start": "2024-06-01", "Account Manager": {"id": "77", "email": "bo@acme.example",
                                                                "name": "Bo"}, "Flag": True},
}

MATCHING = [
    'issuetype = Bug AND labels = "to-dev"',
    "type = bug",                                   # text compares case-insensitively
    "ISSUETYPE = Bug and Status = 'in progress'",   # keywords and field names too
    "labels = customer",                            # multi-valued: = means contains
    "labels != nope",
    "labels in (x, customer)",
    "labels not in (x, y)",
    "component = portal AND affectedVersion = 2.1",
    "fixVersion is EMPTY AND fix_versions is null",
    "resolution IS EMPTY",
    "reporter is empty",
    "labels != emptyish and labels != nullable",    # a value that starts with a keyword is a value
    "assignee is not empty",
    "assignee = ada@acme.example",
    "assignee = 'ada lovelace'",
    "assignee in (5b10)",
    "assignee ~ LOVELACE",
    "summary ~ portal",
    "summary !~ crash",
    'description ~ "*portal*"',
    "text ~ staging",                               # summary, description and comment bodies
    "comment ~ STAGING",
    "key = sup-1042 and project = SUP and parent = SUP-1001",
    "status not in (Done, Closed)",
    "status = Open OR priority = High",
    "NOT status = Done",
    "not (status = Done or status = Closed)",
    "(status = Done or labels = customer) and not labels = x",
    "created > 2024-04-30 AND created < 2024-05-02",
    'created = "2024-05-01 06:30"',                 # +0200 is 06:30 UTC; no offset means UTC
    "created >= '2024-05-01T08:30+02:00'",
    "updated > -7d",
    'updated > "-1w 2d"',
    "created < -3w",
    "due = 2024-06-15 and due > now() and due <= endOfDay(21d)",
    "updated < startOfDay(-4d)",
    "cf[Story Points] > 3 AND cf[Story Points] <= 5",
    '"Story Points" = 5',
    "cf[story points] = 5.0",                       # custom names fall back to case-insensitive
    'cf["Severity"] in (Sev-1, sev-2)',
    '"Affected Teams" = identity',
    '"Affected Teams" not in (Mobile)',
    "cf[Target Start] > 2024-05-31",
    "cf[Account Manager] = bo@acme.example",
    "cf[Flag] = true",
    "cf[Nope] is EMPTY",
    "",                                             # no condition: every issue
    "ORDER BY created DESC",
]

NOT_MATCHING = [
    "labels = nope",
    "labels != customer",
    "labels not in (customer)",
    "resolution = Fixed",
    "resolution != Fixed",           # as in Jira: a negative test never matches an empty field
    "resolution not in (Fixed)",
    "reporter !~ x",
    "cf[Nope] != x",
    "cf[Nope] > 1",
    "fixVersion != 1.0",
    "assignee = bob@acme.example",
    "summary ~ crash",
    "summary !~ PORTAL",
    "status = Done",
    "status = In",
    "NOT labels = customer",
    "created > -7d",
    'created = "2024-05-01"',
    "due < now()",
    "cf[Story Points] > 5",
    "cf[Severity] > 3",              # text custom value: no order with a number
    "status = Open AND priority = High",
]


@pytest.mark.parametrize("query", MATCHING)
def test_matches(query: str) -> None:
    assert parse_query(query).matches(ISSUE, now=NOW)


@pytest.mark.parametrize("query", NOT_MATCHING)
def test_does_not_match(query: str) -> None:
    assert not parse_query(query).matches(ISSUE, now=NOW)


def test_precedence_and_binds_tighter_than_or_and_not_tighter_than_and() -> None:
    # OR(status = Done, AND(labels = customer, status = Open)) is false; left-to-right would be true
    assert not parse_query("status = Done or labels = customer and status = Open").matches(ISSUE, now=NOW)
    assert parse_query("(status = Done or labels = customer) and priority = High").matches(ISSUE, now=NOW)
    assert not parse_query("NOT labels = customer AND priority = High").matches(ISSUE, now=NOW)


def test_empty_text_and_empty_list_count_as_empty() -> None:
    issue = {"summary": "", "labels": [], "assignee": {"id": None, "email": None, "name": None}}
    assert parse_query("summary is EMPTY and labels is EMPTY and assignee is EMPTY").matches(issue)


def test_project_falls_back_to_the_key_prefix() -> None:
    assert parse_query("project = QA").matches({"key": "QA-7"})


def test_relative_dates_use_the_clock_when_now_is_not_given() -> None:
    fresh = {"updated": datetime.now(UTC).isoformat()}
    assert parse_query("updated > -1h").matches(fresh)


def test_order_by_is_kept_and_fields_are_reported() -> None:
    q = parse_query("labels = x AND cf[Sev] = 1 order by updated desc, key")
    assert isinstance(q, Query)
    assert q.order_by == (("updated", "desc"), ("key", "asc"))
    assert q.fields == {"labels", "custom.Sev"}
    assert str(q) == "labels = x AND cf[Sev] = 1 order by updated desc, key"


def test_keywords_inside_values_are_text_and_quoted_keywords_too() -> None:
    issue = {"labels": ["and", "order", "empty"]}
    assert parse_query("labels = and AND labels = order").matches(issue)
    assert parse_query('labels = "empty"').matches(issue)
    assert not parse_query("labels = empty").matches(issue)     # unquoted EMPTY is the keyword
    assert parse_query("NOT labels = not").matches(issue)


def test_parsed_queries_are_cached_and_immutable() -> None:
    assert parse_query("status = Open") is parse_query("status = Open")
    with pytest.raises(AttributeError):
        parse_query("status = Open").text = "x"  # type: ignore[misc]
