"""What `rulelang init` writes: connection.toml, the rule files (basic or minimal) and two empty local trackers."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_connection", "BASIC_OUTGOING", "BASIC_INCOMING"]

BASIC_OUTGOING = """\
// What {me} sends to {other}: the basic set (rulelang init --basic).
// A line left out is a field that stays home.
replica.key         = issue.key
replica.type        = issue.type
replica.summary     = issue.summary
replica.description = issue.description
let public = issue.comments.filter(c -> not c.internal)          // internal comments stay home
replica.comments    = public.map(c -> c | {{author: {{email: c.author.email, name: c.author.name}}}})
replica.attachments = issue.attachments
"""

BASIC_INCOMING = """\
// How {me} takes what {other} sends: the basic set (rulelang init --basic).
// A field is set only when it changed on {other}'s side since the last sync (compared
// with `previous`), so edits of different fields on both sides between two syncs all survive.
if first_sync {{
    issue.type = replica.type ?? "Task"
}}
if replica.summary != previous.summary {{
    issue.summary = replica.summary
}}
if replica.description != previous.description {{
    issue.description = replica.description
}}
issue.comments    = replica.comments      // merged by identity: local comments are kept
issue.attachments = replica.attachments
"""

MINIMAL_OUTGOING = """\
// What {me} sends to {other}. Add a line per field to share (see docs/language.md),
// or start again with `rulelang init --basic`.
replica.key     = issue.key
replica.summary = issue.summary
"""

MINIMAL_INCOMING = """\
// How {me} takes what {other} sends.
if replica.summary != previous.summary {{
    issue.summary = replica.summary
}}
"""

CONNECTION = """\
# A connection between two local trackers, made by `rulelang init`. Reference: docs/sync.md.
name = "{name}"

[instances.{a}]
connector = "local"
path = "{a_dir}"          # the tracker's folder, relative to this file
project = "{a_project}"
rules = {{ outgoing = "{a_dir}-out.rules", incoming = "{a_dir}-in.rules" }}

[instances.{b}]
connector = "local"
path = "{b_dir}"
project = "{b_project}"
rules = {{ outgoing = "{b_dir}-out.rules", incoming = "{b_dir}-in.rules" }}

[sync]                   # automatic, manual (only `rulelang push`) or disabled
"{a} -> {b}" = "automatic"
"{b} -> {a}" = "automatic"

# Which issues start syncing; once synced, an issue keeps syncing.
[[triggers]]
instance = "{a}"
query = 'labels = "sync"'

[[triggers]]
instance = "{b}"
query = 'labels = "sync"'

# [limits]
# isolate = true          # rules run in killable worker processes
# worker_memory_mb = 256
"""


def write_connection(folder: Path, a: str, b: str, *, basic: bool) -> list[str]:
    """Write a new connection folder; the names of the files and folders made."""
    from connectors.local import LocalTracker

    folder.mkdir(parents=True, exist_ok=True)
    dirs = {a: a.lower(), b: b.lower()}
    projects = {n: "".join(ch for ch in n.upper() if ch.isalnum() or ch == "_") for n in (a, b)}
    if not projects[a][:1].isalpha() or not projects[b][:1].isalpha() or projects[a] == projects[b]:
        projects = {a: "LEFT", b: "RIGHT"}
    made = ["connection.toml"]
    (folder / "connection.toml").write_text(CONNECTION.format(
        name=folder.resolve().name, a=a, b=b, a_dir=dirs[a], b_dir=dirs[b], a_project=projects[a],
        b_project=projects[b]), encoding="utf-8")
    outgoing, incoming = (BASIC_OUTGOING, BASIC_INCOMING) if basic else (MINIMAL_OUTGOING, MINIMAL_INCOMING)
    for me, other in ((a, b), (b, a)):
        for suffix, template in (("out", outgoing), ("in", incoming)):
            name = f"{dirs[me]}-{suffix}.rules"
            (folder / name).write_text(template.format(me=me, other=other), encoding="utf-8")
            made.append(name)
        LocalTracker(folder / dirs[me], project=projects[me]).close()
        made.append(f"{dirs[me]}/")
    return made
