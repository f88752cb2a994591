"""The flagship diagnostics, rendered exactly as users see them: position, message, source line, caret, hint."""

from __future__ import annotations

import pytest

from rulelang.program import load

FILE = "dev-incoming.rules"

CASES = {
    "value after '='": (
        "issue.summary = replica.summary\nissue.priority =\nissue.key = replica.key\n",
        "dev-incoming.rules:2:16: error S102: expected a value after '='\n"
        "    issue.priority =\n"
        "                   ^",
    ),
    "unclosed brace": (
        "// Dev incoming\nissue.summary = replica.summary\nif first_sync {\n    issue.project = \"DEV\"\n",
        "dev-incoming.rules:3:15: error S103: unclosed '{' opened at line 3\n"
        "    if first_sync {\n"
        "                  ^\n"
        "    hint: add the matching '}'",
    ),
    "&&": (
        "if replica.priority == \"Blocker\" && first_sync {\n    issue.priority = \"Highest\"\n}\n",
        "dev-incoming.rules:1:34: error S101: use 'and' instead of '&&'\n"
        "    if replica.priority == \"Blocker\" && first_sync {\n"
        "                                     ^^",
    ),
    "||": (
        "issue.summary = replica.summary || \"(none)\"\n",
        "dev-incoming.rules:1:33: error S101: use 'or' instead of '||'\n"
        "    issue.summary = replica.summary || \"(none)\"\n"
        "                                    ^^",
    ),
    "!": (
        "if !first_sync { skip }\n",
        "dev-incoming.rules:1:4: error S101: use 'not' instead of '!'\n"
        "    if !first_sync { skip }\n"
        "       ^",
    ),
    "?:": (
        "issue.priority = replica.priority ?: \"Medium\"\n",
        "dev-incoming.rules:1:35: error S101: use '??' instead of '?:'\n"
        "    issue.priority = replica.priority ?: \"Medium\"\n"
        "                                      ^^",
    ),
    "?.": (
        "issue.assignee = user(replica.assignee?.email)\n",
        "dev-incoming.rules:1:39: error S101: use '.' instead of '?.': paths are already null-safe\n"
        "    issue.assignee = user(replica.assignee?.email)\n"
        "                                          ^^",
    ),
    "== at statement level": (
        "issue.summary == replica.summary\n",
        "dev-incoming.rules:1:15: error S106: '==' compares; use '=' to assign\n"
        "    issue.summary == replica.summary\n"
        "                  ^^",
    ),
    "def": (
        "def label(x) {\n    return x\n}\n",
        "dev-incoming.rules:1:1: error S105: 'def' is not rulelang: there are no user-defined functions\n"
        "    def label(x) {\n"
        "    ^^^",
    ),
    "return": (
        "if first_sync {\n    return\n}\n",
        "dev-incoming.rules:2:5: error S105: 'return' is not rulelang: there is no 'return': assign fields, "
        "or use 'skip' to stop\n"
        "        return\n"
        "        ^^^^^^",
    ),
    "while": (
        "while issue.labels != [] {\n    skip\n}\n",
        "dev-incoming.rules:1:1: error S105: 'while' is not rulelang: there are no 'while' loops: "
        "use 'for x in list { … }'\n"
        "    while issue.labels != [] {\n"
        "    ^^^^^",
    ),
    "import": (
        "import strings\nissue.summary = replica.summary\n",
        "dev-incoming.rules:1:1: error S105: 'import' is not rulelang: there are no imports\n"
        "    import strings\n"
        "    ^^^^^^",
    ),
    "R102 as in language.md": (
        "issue.summary = replica.summary\nissue.description = replica.description\nissue.labels = replica.labels\n"
        "issue.components = replica.components\nissue.type = replica.type\nissue.status = replica.status\n"
        "issue.priority = replica.prority ?? \"Medium\"\n",
        "dev-incoming.rules:7:26: error R102: unknown field 'prority' on issue (did you mean 'priority'?)\n"
        "    issue.priority = replica.prority ?? \"Medium\"\n"
        "                             ^^^^^^^",
    ),
    "camelCase field": (
        "replica.fix_versions = issue.fixVersions\n",
        "dev-incoming.rules:1:30: error R102: unknown field 'fixVersions' on issue (did you mean 'fix_versions'?)\n"
        "    replica.fix_versions = issue.fixVersions\n"
        "                                 ^^^^^^^^^^^",
    ),
    "comment field inside a lambda": (
        "replica.comments = issue.comments.filter(c -> not c.internl)\n",
        "dev-incoming.rules:1:53: error R102: unknown field 'internl' on comment (did you mean 'internal'?)\n"
        "    replica.comments = issue.comments.filter(c -> not c.internl)\n"
        "                                                        ^^^^^^^",
    ),
    "text to a list-of-text field": (
        "replica.labels = 'from Jira synchronization'\n",
        "dev-incoming.rules:1:18: warning R204: 'replica.labels' holds a list of text: this text becomes a "
        "one-element list\n"
        "    replica.labels = 'from Jira synchronization'\n"
        "                     ^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "    hint: write [\"…\"] to say so",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_flagship_message(name: str) -> None:
    source, expected = CASES[name]
    assert load(source, FILE).render() == expected


def test_tabs_keep_the_caret_under_the_word() -> None:
    # A tab is one column; the renderer shows it as one space, so the caret stays aligned.
    checked = load("issue.summary\t=\treplica.sumary\n", FILE)
    assert checked.render() == (
        "dev-incoming.rules:1:25: error R102: unknown field 'sumary' on issue (did you mean 'summary'?)\n"
        "    issue.summary = replica.sumary\n"
        "                            ^^^^^^")


def test_crlf_positions_are_the_same_as_lf() -> None:
    crlf = load("issue.summary = replica.summary\r\nissue.labels = replica.lables\r\n", FILE)
    lf = load("issue.summary = replica.summary\nissue.labels = replica.lables\n", FILE)
    assert crlf.render() == lf.render()
    assert crlf.diagnostics[0].span.line == 2 and crlf.diagnostics[0].span.col == 24


def test_all_findings_of_a_file_come_in_one_run_sorted_by_position() -> None:
    checked = load("replica.key = issue.kee\nlet unused = 1\nreplica.summary = issue.sumary.lowr()\n", "out.rules")
    assert [(d.span.line, d.span.col, d.code, d.severity) for d in checked.diagnostics] == [
        (1, 21, "R102", "error"), (2, 5, "R201", "warning"), (3, 25, "R102", "error"), (3, 32, "R106", "error")]
    assert not checked.ok and len(checked.errors) == 3 and len(checked.warnings) == 1
