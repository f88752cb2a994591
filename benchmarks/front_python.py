"""The Python a person would write for each outgoing example rule file: the baseline of the realistic front-end benchmark.

Line for line where the rule file allows (comments kept), in the style of the dense benchmark's
templates: dicts for issues, comprehensions for filter/map, `or` for `??`, f-strings for `${…}`.
"""

from __future__ import annotations

_PUBLIC_COMMENTS = '''public = [c for c in issue["comments"] if not c["internal"]]
replica["comments"]    = [{**c, "author": {"email": c["author"]["email"], "name": c["author"]["name"]}} for c in public]
'''

PYTHON = {
    "examples/jira-jira/acme-out.rules": '''# Acme (Jira Cloud) -> Ops (Jira Data Center): the incident, its public comments and its files.
replica["key"]         = issue["key"]
replica["type"]        = issue["type"]
replica["summary"]     = issue["summary"]
replica["description"] = issue["description"]
replica["priority"]    = issue["priority"]
replica["status"]      = issue["status"]
''' + _PUBLIC_COMMENTS + '''replica["attachments"] = issue["attachments"]
''',
    "examples/jira-jira/ops-out.rules": '''# Ops (Jira Data Center) -> Acme (Jira Cloud): progress and answers; runbooks and dumps stay in Ops
# (no attachments line).
replica["key"]         = issue["key"]
replica["type"]        = issue["type"]
replica["summary"]     = issue["summary"]
replica["description"] = issue["description"]
replica["status"]      = issue["status"]
''' + _PUBLIC_COMMENTS,
    "examples/local-jira/dev-out.rules": '''# Dev -> QA: what the developers' Jira shares with QA.
replica["key"]         = issue["key"]
replica["type"]        = issue["type"]
replica["summary"]     = issue["summary"]
replica["description"] = issue["description"]
replica["status"]      = issue["status"]
''' + _PUBLIC_COMMENTS + '''replica["attachments"] = issue["attachments"]
''',
    "examples/local-jira/qa-out.rules": '''# QA -> Dev: what the QA team shares with the developers' Jira.
# Internal comments stay home; screenshots and logs go along (Jira gets the files themselves).
replica["key"]         = issue["key"]
replica["type"]        = issue["type"]
replica["summary"]     = issue["summary"]
replica["description"] = issue["description"]
replica["priority"]    = issue["priority"]
replica["status"]      = issue["status"]
''' + _PUBLIC_COMMENTS + '''replica["attachments"] = issue["attachments"]
''',
    "examples/qa-dev/dev-out.rules": '''# Dev -> QA: progress. Dev's attachments (designs, internal logs) never leave: no attachments line.
replica["key"]          = issue["key"]
replica["type"]         = issue["type"]
replica["summary"]      = issue["summary"]
replica["description"]  = issue["description"]
replica["status"]       = issue["status"]
replica["resolution"]   = issue["resolution"]
replica["fix_versions"] = issue["fix_versions"]
''' + _PUBLIC_COMMENTS,
    "examples/qa-dev/qa-out.rules": '''# QA -> Dev: what the QA vendor shares with the development team.
# Internal comments stay home; screenshots and logs go (they help reproduce).
replica["key"]         = issue["key"]
replica["type"]        = issue["type"]
replica["summary"]     = issue["summary"]
replica["description"] = issue["description"]
replica["priority"]    = issue["priority"]
replica["status"]      = issue["status"]
replica["parent"]      = issue["parent"]
''' + _PUBLIC_COMMENTS + '''replica["attachments"] = issue["attachments"]
# Service desk: the customer's identity stays with the desk.
if issue["type"] != "Support Request":
    replica["reporter"] = {"email": issue["reporter"]["email"], "name": issue["reporter"]["name"]}

''',
    "examples/rules/qa-outgoing.rules": '''# QA side, outgoing: what the QA vendor shares with the dev team.
# Internal comments and screenshots stay home: there is no attachments line.

if issue["type"] not in ["Bug", "Defect"]:
    raise Skip("only defects go to Dev")

if "confidential" in issue["labels"]:
    raise Skip("confidential issues never leave QA")


replica["key"]         = issue["key"]
replica["type"]        = "Bug"
replica["summary"]     = issue["summary"].strip()
replica["description"] = issue["description"]
replica["labels"]      = [l for l in issue["labels"] if not l.startswith("qa-internal")]
replica["priority"]    = {"Blocker": "P1", "Critical": "P2", "Major": "P3", "Minor": "P4"}.get(issue["priority"]) or "P3"
replica["status"]      = issue["status"]
replica["reporter"]    = {"email": issue["reporter"]["email"], "name": issue["reporter"]["name"]}
replica["comments"]    = [
    {"id": c["id"], "author": {"email": c["author"]["email"]}, "body": c["body"], "created": c["created"]}
    for c in issue["comments"] if not c["internal"]]
replica["custom"]["Found in build"] = issue["custom"].get("Build") or "unknown"

steps = issue["custom"].get("Steps to reproduce")
if steps is not None:
    replica["description"] = f"""{issue['description'] or ''}

### Steps to reproduce
{steps}"""

''',
    "examples/visual-mode/split/BlueJira-outgoing.rules": '''# BlueJira outgoing rules: what BlueJira sends to GreenJira.
# Split from connection.rules by `rulelang split`; each line names the line of connection.rules it comes from.

replica["comments"] = [c for c in issue["comments"] if not c["internal"]]  # connection.rules:20
replica["key"] = issue["key"]                                               # connection.rules:21
replica["custom"]["fix_versions_join"] = ", ".join(issue["fix_versions"])  # connection.rules:22
replica["custom"]["status_mapped"] = {                                     # connection.rules:24
    "To Do": "Open",
    "In Progress": "In Progress",
    "Done": "Ready for Retest",
    "In Review": "In Progress",
}.get(issue["status"])
replica["custom"]["priority_mapped"] = {                                   # connection.rules:33
    "Highest": "Blocker",
    "High": "Critical",
    "Medium": "Major",
    "Low": "Minor",
}.get(issue["priority"]) or "Medium"
''',
    "examples/visual-mode/split/GreenJira-outgoing.rules": '''# GreenJira outgoing rules: what GreenJira sends to BlueJira.
# Split from connection.rules by `rulelang split`; each line names the line of connection.rules it comes from.

if issue["custom"].get("Confidential") is True:                            # connection.rules:8
    raise Skip("confidential QA issues stay with QA")                      # connection.rules:9

replica["custom"]["summary_text"] = f"[QA] {issue['summary']}"             # connection.rules:13
replica["description"] = issue["description"]                              # connection.rules:14
replica["labels"] = [l for l in issue["labels"] if not l.startswith("qa-")]  # connection.rules:15
replica["comments"] = [c for c in issue["comments"] if not c["internal"]]  # connection.rules:16
replica["custom"]["reporter_email"] = issue["reporter"]["email"]           # connection.rules:17
replica["custom"]["status_mapped"] = {                                     # connection.rules:24
    "Open": "To Do",
    "In Progress": "In Progress",
    "Ready for Retest": "Done",
    "Reopened": "To Do",
}.get(issue["status"])
replica["custom"]["priority_mapped"] = {                                   # connection.rules:33
    "Blocker": "Highest",
    "Critical": "High",
    "Major": "Medium",
    "Minor": "Low",
}.get(issue["priority"]) or "Medium"
''',
}
