"""The sharing report: exactly which issue fields an outgoing program, or each side of a connection script, can send."""

# Computed from data flow into `replica` (rulelang/_sharing_flow.py; docs/connection-scripts.md, "Sharing
# report"), never from replica field names: `replica.custom["x"] = issue.description` sends `description`, and
# a condition that only decides whether a field is sent is listed apart.

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from . import model
from . import nodes as n
from ._sharing_flow import DERIVED, LOOKUP_TWIN, LOOKUP_USER, analyse_outgoing

__all__ = ["sharing_report", "SharingReport", "SideSharing", "SharedField", "Decider", "field_names", "lint_sharing",
           "add_to_lint_output"]

AS_IS, DERIVED_ONLY = "as is", "derived"


@dataclass(frozen=True)
class SharedField:
    """One issue field that can leave: `how` is "as is" (its value, or part of it) or "derived" (only a value
    computed from it, such as a comparison, a length or a value-table lookup)."""

    field: str
    how: str
    lines: tuple[int, ...]


@dataclass(frozen=True)
class Decider:
    """A field read only to decide what is sent (a condition, a filter, a loop count): its value stays home."""

    field: str
    lines: tuple[int, ...]


@dataclass(frozen=True)
class SideSharing:
    """What one outgoing program sends. sender/receiver name the instances of a connection script."""

    sender: str | None
    receiver: str | None
    sends: tuple[SharedField, ...]
    decides: tuple[Decider, ...]

    def to_json(self) -> dict:
        return {"sender": self.sender, "receiver": self.receiver,
                "sends": [{"field": f.field, "how": f.how, "lines": list(f.lines)} for f in self.sends],
                "decides": [{"field": d.field, "lines": list(d.lines)} for d in self.decides]}


@dataclass(frozen=True)
class SharingReport:
    """The report for one file: one side for an outgoing program, two for a connection script, none for
    an incoming program (it sends nothing). Line numbers are lines of `file`."""

    file: str
    kind: str
    sides: tuple[SideSharing, ...]

    def to_json(self) -> dict:
        return {"file": self.file, "kind": self.kind, "sides": [s.to_json() for s in self.sides]}

    def render(self) -> str:
        """The report as text for people."""
        if self.kind == "incoming":
            return f"{self.file}: incoming rules send nothing (they change the local issue only)"
        out = [f"{self.file}: what leaves each side" if self.kind == "connection"
               else f"{self.file}: what these outgoing rules send"]
        for side in self.sides:
            indent = "  "
            if side.sender is not None:
                out.append(f"  {side.sender} sends to {side.receiver}:")
                indent = "    "
            if not side.sends:
                out.append(f"{indent}nothing")
            sends = _grouped([(f.field, (f.how, f.lines)) for f in side.sends])
            decides = _grouped([(d.field, ("", d.lines)) for d in side.decides])
            width = max([len(f) for f, _ in sends] + [len(f) + 2 for f, _ in decides] + [10])
            for name, (how, lines) in sends:
                out.append(f"{indent}{name.ljust(width)}  {how.ljust(7)}  {_lines(lines)}")
            if decides:
                out.append(f"{indent}read only to decide what is sent (these values stay home):")
                for name, (_, lines) in decides:
                    out.append(f"{indent}  {name.ljust(width - 2)}  {' ' * 7}  {_lines(lines)}")
        return "\n".join(out)

    def to_text_json(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False)


def _grouped(rows: list[tuple[str, tuple]]) -> list[tuple[str, tuple]]:
    """`comments.id`, `comments.body`, … sent the same way (same lines) shown as `comments.{id, body, …}`."""
    out: list[tuple[str, tuple]] = []
    i = 0
    while i < len(rows):
        name, info = rows[i]
        head, dot, _ = name.partition(".")
        j = i + 1
        while dot and j < len(rows) and rows[j][0].startswith(head + ".") and rows[j][1] == info:
            j += 1
        if j - i > 1:
            out.append((f"{head}.{{{', '.join(r[0][len(head) + 1:] for r in rows[i:j])}}}", info))
        else:
            out.append((name, info))
        i = j
    return out


def _lines(lines: tuple[int, ...]) -> str:
    return ("line " if len(lines) == 1 else "lines ") + ", ".join(map(str, lines))


def sharing_report(program: n.Program, kind: str | None = None,
                   instances: Sequence[str] | None = None) -> SharingReport:
    """The sharing report of a parsed program. kind is inferred as the checker does when not given; a connection
    script is split first (so it raises CheckError when it cannot be split)."""
    if kind is None or (kind == "connection" and instances is None):
        from .check import check

        checked = check(program, kind=kind, instances=instances)
        kind = checked.kind
        if kind == "connection" and instances is None and len(checked.instances) == 2:
            instances = checked.instances
    if kind == "incoming":
        return SharingReport(program.file, kind, ())
    if kind == "outgoing":
        return SharingReport(program.file, kind, (_side(program, None, None),))
    from .split import split

    result = split(program, instances)
    sides = tuple(_side(result.program(i, "outgoing"), i, result.other(i)) for i in result.instances)
    return SharingReport(program.file, "connection", sides)


def _side(program: n.Program, sender: str | None, receiver: str | None) -> SideSharing:
    flow = analyse_outgoing(program)
    how: dict[str, str] = {}
    where: dict[str, set[int]] = {}
    for src, lines in flow.sends.items():
        for name in field_names(src.path):
            if src.mode != DERIVED or name not in how:
                how[name] = DERIVED_ONLY if src.mode == DERIVED else AS_IS
            where.setdefault(name, set()).update(lines)
    deciders: dict[str, set[int]] = {}
    for path, lines in flow.decides.items():
        for name in field_names(path):
            if name not in how:
                deciders.setdefault(name, set()).update(lines)
    sends = tuple(SharedField(f, how[f], tuple(sorted(where[f]))) for f in sorted(how, key=_order))
    decides = tuple(Decider(f, tuple(sorted(ls))) for f, ls in sorted(deciders.items(), key=lambda x: _order(x[0])))
    return SideSharing(sender, receiver, sends, decides)


def _order(name: str) -> tuple:
    return (name.startswith(("user()", "twin()")), name)


# ---- field paths as people read them -------------------------------------------------------------


def field_names(path: tuple) -> list[str]:
    """A source path as the model's leaf fields: ("assignee",) → assignee.id, assignee.email, assignee.name."""
    if path == LOOKUP_USER:
        return ["user() look-up: id, email, name of a local user"]
    if path == LOOKUP_TWIN:
        return ["twin() look-up: keys of synced issues"]
    if not path:
        return [name for f in model.ISSUE_FIELDS for name in field_names((f,))]
    head, rest = path[0], path[1:]
    kind = model.ISSUE_FIELDS.get(head) if isinstance(head, str) else None
    if kind == "custom":
        if not rest or rest[0] == "*":
            return ["custom[*]" + _tail(rest[1:])]
        return [f"custom[{json.dumps(rest[0], ensure_ascii=False)}]" + _tail(rest[1:])]
    if rest[:1] == ("#",):
        return [f"{head} (how many)"]
    if kind == "user":
        return _sub(head, rest, model.USER_FIELDS, {})
    if kind in ("items", "links"):
        users = {"author": model.USER_FIELDS}
        return _sub(head, rest, model.ITEM_FIELDS[head], users)
    return [str(head) + _tail(rest)]


def _sub(head: str, rest: tuple, leaves: Sequence[str], users: dict) -> list[str]:
    if not rest:
        out = []
        for leaf in leaves:
            out.extend(f"{head}.{leaf}.{u}" for u in users[leaf]) if leaf in users else out.append(f"{head}.{leaf}")
        return out
    leaf = rest[0]
    if leaf in users and len(rest) == 1:
        return [f"{head}.{leaf}.{u}" for u in users[leaf]]
    return [f"{head}.{leaf}" + _tail(rest[1:])]


def _tail(rest: tuple) -> str:
    return "".join("[*]" if s == "*" else " (how many)" if s == "#" else f".{s}" if isinstance(s, str)
                   else f"[{s}]" for s in rest)


# ---- `rulelang lint --sharing` -------------------------------------------------------------------


def lint_sharing(results: Sequence[object]) -> list[dict]:
    """The sharing report of each linted file (rulelang.program.Checked) as JSON; a file that does not check
    clean gets `{"file", "error"}` instead, since what it sends cannot be told for sure."""
    from .errors import RulelangError

    out: list[dict] = []
    for r in results:
        program = getattr(r, "program", None)
        file = getattr(r, "file", "?")
        if program is None or not getattr(r, "ok", False):
            out.append({"file": file, "error": "no sharing report: the file has errors"})
            continue
        instances = getattr(r, "instances", ()) or None
        try:
            out.append(sharing_report(program, getattr(r, "kind", None), instances).to_json())
        except RulelangError as e:
            out.append({"file": file, "error": f"no sharing report: {e.diagnostic.message}"})
    return out


def add_to_lint_output(output: str, fmt: str, results: Sequence[object]) -> str:
    """The lint output with a sharing report added: a "sharing" list in JSON, a section after the text."""
    reports = lint_sharing(results)
    if fmt == "json":
        doc = json.loads(output)
        doc["sharing"] = reports
        return json.dumps(doc, indent=2, ensure_ascii=False)
    if fmt != "text":
        raise ValueError("the sharing report is shown with --format text or json")
    parts = [output, "", "sharing report:"]
    for rep in reports:
        parts.append(f"{rep['file']}: {rep['error']}" if "error" in rep else _from_json(rep).render())
    return "\n".join(parts)


def _from_json(doc: dict) -> SharingReport:
    sides = tuple(SideSharing(s["sender"], s["receiver"],
                              tuple(SharedField(f["field"], f["how"], tuple(f["lines"])) for f in s["sends"]),
                              tuple(Decider(d["field"], tuple(d["lines"])) for d in s["decides"]))
                  for s in doc["sides"])
    return SharingReport(doc["file"], doc["kind"], sides)
