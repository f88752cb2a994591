"""Trigger-query mistakes: exact messages in words, spans on the offending text, never a Lark exception."""

from __future__ import annotations

import pytest

from rulelang.errors import ConfigError
from runtime.jql import parse_query

# (query, code, message, column, end column) — columns are 1-based, the end exclusive.
CASES = [
    ("status =", "K740", "expected a value after '='", 9, 10),
    ("status = (", "K740", "expected a value after '='", 10, 11),
    ("status", "K740", "expected an operator after 'status'", 7, 8),
    ("status ! Open", "K740", "expected an operator after 'status'", 8, 9),
    ("status in Open", "K740", "expected '(' after 'in'", 11, 15),
    ("status not Open", "K740", "expected 'in' after 'not'", 12, 16),
    ("status in (Open Done)", "K740", "expected ',' or ')' after 'Open'", 17, 21),
    ("status in (Open,", "K740", "expected a value after ','", 17, 18),
    ("(status = Open", "K740", "expected AND, OR or ')' after 'Open'", 15, 16),
    ("status = Open)", "K740", "expected AND, OR or ORDER BY after 'Open'", 14, 15),
    ("status = In Progress", "K740", "expected AND, OR or ORDER BY after 'In'", 13, 21),
    ("status is Open", "K740", "expected EMPTY or NOT EMPTY after 'is'", 11, 15),
    ("status is not Open", "K740", "expected EMPTY after 'not'", 15, 19),
    ("status = Open and", "K740", "expected a field name after 'and'", 18, 19),
    ("= Open", "K740", "expected a field name or ORDER BY", 1, 2),
    ("status = Open order key", "K740", "expected BY after 'order'", 21, 24),
    # A keyword is a whole word: these are words where a keyword must stand, not a keyword and the rest.
    ("status = Done ORDERBY created", "K740", "expected AND, OR or ORDER BY after 'Done'", 15, 22),
    ("project = QA ANDlabels = x", "K740", "expected AND, OR or ORDER BY after 'QA'", 14, 23),
    ("status notin (Open)", "K740", "expected an operator after 'status'", 8, 13),
    ("assignee is emptyish", "K740", "expected EMPTY or NOT EMPTY after 'is'", 13, 21),
    ("order by key up", "K740", "expected ASC, DESC or ',' after 'key'", 14, 16),
    ("status == Open", "K740", "use '=' instead of '=='", 8, 10),
    ("status = Open && labels = x", "K740", "use AND instead of '&&'", 15, 17),
    ("status = Open || labels = x", "K740", "use OR instead of '||'", 15, 17),
    ('summary ~ "broken', "K740", 'unterminated text: the closing " is missing', 11, 12),
    ("cf[] = 3", "K740", "expected a custom field name inside cf[ ]", 1, 5),
    ("stauts = Open", "K741", "unknown field 'stauts' (did you mean 'status'?)", 1, 7),
    ("fixVersions = 1.0", "K741", "unknown field 'fixVersions' (did you mean 'fixVersion'?)", 1, 12),
    ("zzz = 1", "K741", "unknown field 'zzz'", 1, 4),
    ("order by stauts", "K741", "unknown field 'stauts' (did you mean 'status'?)", 10, 16),
    ("status > 3", "K742", "'>' compares dates and numbers; 'status' is text", 8, 9),
    ("labels <= 3", "K742", "'<=' compares dates and numbers; 'labels' is a list of text", 8, 10),
    ("created ~ May", "K742", "'~' searches text; 'created' is a date", 9, 10),
    ("text = crash", "K742", "'text' can only be searched with '~' or '!~'", 6, 7),
    ("created > yesterday", "K743", "expected a date after '>', found 'yesterday'", 11, 20),
    ("due in (2024-06-01, soon)", "K743", "expected a date after 'in', found 'soon'", 21, 25),
    ("cf[Story Points] > many", "K743", "expected a date or a number after '>', found 'many'", 20, 24),
    ("summary ~ EMPTY", "K743", "'~' needs a value, not EMPTY; use 'is EMPTY' or 'is not EMPTY'", 11, 16),
    ("status = now()", "K743", "'now()' is a date; 'status' is text", 10, 13),
    ("created > now(soon)", "K743", "'now()' takes at most one offset, like now(-1d)", 11, 14),
    ("created > currentUser()", "K744", "unknown function 'currentUser()'", 11, 22),
    ("created > startofday(-1d) and updated > nwo()", "K744",
     "unknown function 'nwo()' (did you mean 'now()'?)", 41, 44),
]


@pytest.mark.parametrize(("query", "code", "message", "col", "end_col"), CASES, ids=[c[0] for c in CASES])
def test_error_message_and_span(query: str, code: str, message: str, col: int, end_col: int) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_query(query, file="qa.toml")
    d = caught.value.diagnostic
    assert (d.code, d.message) == (code, message)
    assert d.span is not None
    assert (d.span.file, d.span.line, d.span.col, d.span.end_col) == ("qa.toml", 1, col, end_col)


def test_rendered_error_points_with_a_caret() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_query("issuetype = Bug AND stauts = Open")
    assert caught.value.render({"<query>": "issuetype = Bug AND stauts = Open"}) == (
        "<query>:1:21: error K741: unknown field 'stauts' (did you mean 'status'?)\n"
        "    issuetype = Bug AND stauts = Open\n"
        "                        ^^^^^^\n"
        '    hint: custom fields are written cf[Name] or "Field Name"'
    )


def test_hints_list_operators_and_quote_spaces() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_query("status")
    assert caught.value.diagnostic.hint is not None and "not in" in caught.value.diagnostic.hint
    with pytest.raises(ConfigError) as caught:
        parse_query("status = In Progress")
    assert caught.value.diagnostic.hint == 'text with spaces goes in quotes: "In Progress"'


def test_error_on_a_later_line_has_that_line_and_column() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_query("status = Open\n  AND labels =")
    span = caught.value.span
    assert span is not None and (span.line, span.col) == (2, 15)
    assert caught.value.diagnostic.message == "expected a value after '='"


def test_only_rulelang_errors_escape_for_arbitrary_text() -> None:
    # Any text either parses or raises ConfigError: no Lark exception, no crash.
    samples = ["(", ")", ",", "'", '"', "~", "!", "\\", "a = 'x\\", "cf[", "not not", "order", "by", "is",
               "a in ()", "status = 'a' ORDER BY", "((status = a)", "status = a,b", "\x00", "é = 1",
               "status = \"x\" \"y\"", "labels in (a, (b))", "created > now(1d, 2d)"]
    for text in samples:
        try:
            parse_query(text)
        except ConfigError as e:
            assert e.diagnostic.span is not None, text
