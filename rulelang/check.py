"""The checker: one pass over a parsed Program that collects every finding, each with a stable code.

`check(program, kind=…, instances=…)` never raises for a bad program: it returns a CheckResult
whose diagnostics (errors and warnings, sorted by position) say everything that is wrong. The
codes and their one-line explanations are in `CODES` (rulelang/codes.py, listed in docs/language.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import model
from . import nodes as n
from ._check_visit import FIXED_ROOTS, KEYWORDS, Checker, unwind
from .codes import CODES, severity_of
from .errors import ERROR, ConfigError, Diagnostic, Findings
from .span import Span

__all__ = ["check", "CheckResult", "CODES", "article", "instance_names"]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_ATOMS = (str, int, float, bool, type(None))  # what a Literal holds: never a node


@dataclass(frozen=True)
class CheckResult(Findings):
    """What the checker found.

    kind: the program's kind, given or inferred ("outgoing", "incoming" or "connection").
    diagnostics: every finding, errors and warnings, sorted by position.
    instances: for a connection script, the instance names (given, or inferred from the roots used).
    kind_inferred: True when `kind` was not given but read from what the program writes.
    """

    kind: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    instances: tuple[str, ...] = ()
    kind_inferred: bool = False

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors


def article(kind: str) -> str:
    """'an outgoing', 'an incoming', 'a connection'."""
    return ("an " if kind[:1] in "aeiou" else "a ") + kind


def check(program: n.Program, *, kind: str | None = None, instances: Sequence[str] | None = None) -> CheckResult:
    """Check a parsed program; every finding is in the result (see CODES), nothing is raised for it.

    kind: "outgoing", "incoming" or "connection"; None infers it from what the program writes
    (`replica` → outgoing, `issue` → incoming, `<Instance>.issue` or a value map → connection).
    instances: the instance names of a connection script; None infers them from the roots used.
    Raises ConfigError only for a bad `kind` or instance name (a caller's mistake, not the program's).
    """
    if kind is not None and kind not in model.KINDS:
        raise ConfigError(f"unknown kind '{kind}': use one of {', '.join(model.KINDS)}")
    declared = instance_names(instances)
    diags: list[Diagnostic] = []
    evidence = _Evidence(program)
    quiet: set[int] = set()
    inferred = kind is None
    if kind is None:
        kind = _infer_kind(program, evidence, diags, quiet)
    names: tuple[str, ...] = ()
    if kind == "connection":
        names = declared if declared is not None else _infer_instances(evidence, diags)
    checker = Checker(program, kind, names, quiet, evidence.lets)
    try:
        checker.block(program.stmts)
    except RecursionError:  # only a program built with limits far above the defaults gets here
        diags.append(Diagnostic("S111", "rule text nested too deeply to check", program.span, ERROR))
    diags.extend(checker.diagnostics)
    diags.sort(key=_position)
    return CheckResult(kind, diags, names, inferred)


def _position(d: Diagnostic) -> tuple:
    s = d.span
    return (0, "", 0, 0, d.code) if s is None else (1, s.file, s.line, s.col, d.code)


def instance_names(instances: Sequence[str] | str | None) -> tuple[str, ...] | None:
    """Validated instance names ("A,B" or a sequence), duplicates dropped; ConfigError for a bad name."""
    if instances is None:
        return None
    if isinstance(instances, str):
        instances = instances.split(",")
    names: list[str] = []
    for raw in instances:
        name = raw.strip()
        if not _NAME.match(name) or name in FIXED_ROOTS or name in KEYWORDS:
            raise ConfigError(f"'{name}' cannot name an instance: use letters, digits and '_', not a keyword "
                              "or a root name")
        if name not in names:
            names.append(name)
    return tuple(names)


class _Evidence:
    """What a program writes and which instance-like roots it reads: the facts kinds are inferred from."""

    def __init__(self, program: n.Program) -> None:
        self.program = program
        self.writes: list[tuple[str, n.Stmt, str]] = []  # (kind, statement, what it does)
        self.instances: dict[str, Span] = {}  # instance-like root (`X.issue`) → first use
        self.other_roots: dict[str, Span] = {}  # unknown roots of targets (`X.f = …`) → first use
        self.reads_incoming = False
        self.lets: dict[str, list[Span]] = {}  # variable → its `let`s, for "used before its let"
        found: list[n.Node] = []  # the nodes the questions below are about, in source order
        local = set()
        # `n.walk` spelled out (the same pre-order): the commonest nodes (names, paths, literals,
        # map entries, assignments: three in four) are handled without building a child list.
        attr, name, node_type = n.Attr, n.Name, n.Node
        literal, entry, assign = n.Literal, n.MapEntry, n.Assign
        stack: list[n.Node] = [program]
        pop, push, extend = stack.pop, stack.append, stack.extend
        while stack:
            x = pop()
            t = type(x)  # exact types: nodes are final dataclasses, and this loop sees every node
            if t is attr:
                obj = x.obj
                if x.name == "issue" and type(obj) is name:
                    found.append(x)
                if isinstance(obj, node_type):  # an Attr's one child
                    push(obj)
                    continue
            if t is name:  # no children
                if x.id in ("replica", "previous", "first_sync"):
                    self.reads_incoming = True
                continue
            if t is literal:
                if x.value.__class__ in _ATOMS:  # no children
                    continue
            elif t is entry:
                if isinstance(x.value, node_type):  # a map entry's one child
                    push(x.value)
                    continue
            elif t is assign:
                target, value = x.target, x.value
                if isinstance(target, node_type) and isinstance(value, node_type):
                    push(value)
                    push(target)
                    found.append(x)
                    continue
            kids = n.child_list(x)
            if kids:
                kids.reverse()
                extend(kids)
            if t is n.Assign or t is n.ValueMap:
                found.append(x)
            elif t is n.Let:
                self.lets.setdefault(x.name, []).append(x.name_span)
                local.add(x.name)
            elif t is n.For:
                local.add(x.var)
            elif t is n.Lambda:
                local.add(x.param)
        for node in found:
            t = type(node)
            if t is n.Assign:
                self._write(node, local)
            elif t is n.ValueMap:
                self.writes.append(("connection", node, "has a value map"))
            else:
                name = node.obj.id
                if name not in FIXED_ROOTS and name not in local:
                    self.instances.setdefault(name, node.obj.span)

    def _write(self, node: n.Assign, local: set[str]) -> None:
        root, chain = unwind(node.target)
        if not isinstance(root, n.Name):
            return
        if root.id == "replica":
            self.writes.append(("outgoing", node, "writes replica"))
        elif root.id == "issue":
            self.writes.append(("incoming", node, "writes issue"))
        elif root.id not in FIXED_ROOTS and root.id not in local and chain:
            if isinstance(chain[0], n.Attr) and chain[0].name == "issue":
                self.writes.append(("connection", node, f"writes {root.id}.issue"))
            else:  # `X.f = …`: an instance written wrongly in a connection script, or a typo
                self.other_roots.setdefault(root.id, root.span)


def _infer_kind(program: n.Program, ev: _Evidence, diags: list[Diagnostic], quiet: set[int]) -> str:
    if not ev.writes:
        kind = "connection" if ev.instances else "incoming" if ev.reads_incoming else "outgoing"
        if ev.other_roots:
            return kind  # it writes, to a root the checker reports (R101, C305)
        diags.append(Diagnostic(
            "R205", f"this program writes nothing: checked as {article(kind)} program",
            Span(program.file, 1, 1, 1, 2, 0, 1), severity_of("R205"),
            hint="pass --kind outgoing, incoming or connection"))
        return kind
    if ev.instances or any(kind == "connection" for kind, _, _ in ev.writes):
        # Instance roots appear only in connection scripts: `issue`/`replica` there are C309 mistakes.
        return "connection"
    first_kind, first, first_what = ev.writes[0]
    reported = {first_kind}
    for kind, stmt, what in ev.writes[1:]:
        if kind in reported:
            continue
        reported.add(kind)
        quiet.add(id(stmt))
        diags.append(Diagnostic(
            "R116", f"this file mixes kinds: line {first.span.line} {first_what} ({first_kind}), "
            f"this line {what} ({kind})", _head(stmt), severity_of("R116"),
            hint=f"a file holds one program; it is checked as {article(first_kind)} program (or pass --kind)"))
    return first_kind


def _head(stmt: n.Stmt) -> Span:
    """The statement's target (or its first line), where a kind mix is pointed out."""
    if isinstance(stmt, n.Assign):
        return stmt.target.span
    s = stmt.span
    return Span(s.file, s.line, s.col, s.line, s.col + 3, s.start, s.start + 3)


def _infer_instances(ev: _Evidence, diags: list[Diagnostic]) -> tuple[str, ...]:
    spans = ev.instances | {k: v for k, v in ev.other_roots.items() if k not in ev.instances}
    spans = dict(sorted(spans.items(), key=lambda kv: kv[1].start))
    names = tuple(spans)
    if len(names) > 2:
        diags.append(Diagnostic(
            "C302", f"a connection joins two instances, but this script names {len(names)}: {', '.join(names)}",
            spans[names[2]], severity_of("C302"),
            hint="pass --instances A,B to say which two are meant"))
    return names
