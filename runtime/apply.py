"""What a run's output means: the exported replica, or the incoming change set with entity lists merged by identity."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from rulelang.errors import Diagnostic, RuleRuntimeError
from rulelang.model import ENTITY_LISTS, ISSUE_FIELDS
from rulelang.span import Span

from .budget import Limits, LogLine
from .changes import AddItem, ChangeSet, DeleteItem, LinkIssue, MoveStatus, Operation, SetField, UpdateItem
from .values import export

__all__ = ["OutgoingResult", "IncomingResult", "Explain", "finish_incoming", "export_all", "path_name"]


class Explain(Mapping[str, Span]):
    """Which rule set each field ("summary", "custom.Story Points") → its Span; built on first use."""

    def __init__(self, raw: dict[tuple, int], spans: tuple[Span, ...]) -> None:
        self._raw, self._spans, self._map = raw, spans, None

    def _built(self) -> dict[str, Span]:
        if self._map is None:
            self._map = {path_name(p): self._spans[sid] for p, sid in self._raw.items()}
        return self._map

    def __getitem__(self, key: str) -> Span:
        return self._built()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._built())

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return repr(self._built())


@dataclass(frozen=True)
class OutgoingResult:
    """The replica to send (None when the rules skipped this issue), why it was skipped, and the log."""

    replica: dict | None
    skipped: str | None = None
    log: list[LogLine] = field(default_factory=list)
    explain: Mapping[str, Span] = field(default_factory=dict)


@dataclass(frozen=True)
class IncomingResult:
    """The local issue as it would be after applying `changes`; `explain` maps each set field to its rule."""

    issue: dict
    changes: ChangeSet
    skipped: str | None = None
    log: list[LogLine] = field(default_factory=list)
    explain: Mapping[str, Span] = field(default_factory=dict)


def path_name(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def export_all(values: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Export several top-level values against one shared output budget."""
    out, used = {}, 0
    for key, value in values.items():
        out[key], size = export(value, limits.max_output - used, limits.max_depth)
        used += size + len(key) + 4
    return out


def _same(a: Any, b: Any) -> bool:
    """JSON equality of exported values (true is not 1; 1 equals 1.0)."""
    ta, tb = type(a), type(b)
    if ta is dict and tb is dict:
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if ta is list and tb is list:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if ta is bool or tb is bool:
        return ta is tb and a is b
    if ta in (int, float) and tb in (int, float):
        return a == b
    return ta is tb and a == b


def finish_incoming(out: dict, local: dict | None, explain: dict[tuple, Span], id_maps: dict[str, dict[str, str]],
                    limits: Limits) -> tuple[dict, ChangeSet]:
    """Turn the run's version of the issue into the resulting issue and the change set that produces it."""
    first_sync = local is None
    local = local or {}
    touched: dict[str, Span] = {}
    for path, span in explain.items():
        touched[path[0]] = span
    new = export_all({f: out.get(f) for f in touched}, limits)
    result = dict(local)
    link: list[Operation] = []
    fields: list[Operation] = []
    status: list[Operation] = []
    entities: list[Operation] = []
    create = first_sync
    for name in sorted(touched, key=lambda f: (list(ISSUE_FIELDS).index(f) if f in ISSUE_FIELDS else 99, f)):
        value = new[name]
        if name == "key":
            if value is None or _same(value, local.get("key")):
                continue
            if not first_sync:
                raise _error("X414", "issue.key can only be set on the first sync (to link an existing issue)",
                             touched[name])
            if type(value) is not str or not value:
                raise _error("X414", "issue.key must be the key (text) of an existing local issue", touched[name])
            link.append(LinkIssue(value))
            create = False
            result["key"] = value
        elif name in ENTITY_LISTS:
            result[name], ops = _merge(name, value, local.get(name), id_maps.get(name) or {}, touched[name])
            entities.extend(ops)
        elif name == "status":
            if value is not None and not _same(value, local.get("status")):
                if type(value) is not str:
                    raise _error("X415", "issue.status must be text (a status name)", touched[name])
                status.append(MoveStatus(value))
            result["status"] = value if value is not None else local.get("status")
        elif name == "custom":
            result["custom"], ops = _custom(value, local.get("custom"), touched[name])
            fields.extend(ops)
        else:
            if not _same(value, local.get(name)) and not (first_sync and value is None):
                fields.append(SetField((name,), value))
            result[name] = value
    return result, ChangeSet(create, tuple(link + fields + status + entities))


def _custom(value: Any, old: Any, span: Span) -> tuple[dict, list[Operation]]:
    if value is None:
        value = {}
    if type(value) is not dict:
        raise _error("X415", "issue.custom must be a map of field name to value", span)
    old = old if isinstance(old, dict) else {}
    ops: list[Operation] = [SetField(("custom", k), v) for k, v in value.items()
                            if not (k in old and _same(v, old[k])) and not (k not in old and v is None)]
    ops += [SetField(("custom", k), None) for k in old if k not in value and old[k] is not None]
    return {**old, **value}, ops


def _merge(kind: str, items: Any, local_items: Any, id_map: dict[str, str], span: Span) -> tuple[list, list]:
    """Entity lists merge by identity: items from the other side carry their remote id in `id`; the id map
    says which local item each became. Local-only items are kept; remote items gone from the list are deleted."""
    if items is None:
        items = []
    if type(items) is not list or not all(type(x) is dict for x in items):
        raise _error("X413", f"issue.{kind} must be a list of maps", span)
    local_items = [x for x in (local_items or []) if isinstance(x, dict)]
    by_local = {str(x.get("id")): x for x in local_items if x.get("id") is not None}
    seen: set[str] = set()
    ops: list[Operation] = []
    updated: dict[str, dict] = {}
    added: list[dict] = []
    for item in items:
        rid = item.get("id")
        if type(rid) not in (str, int) or type(rid) is bool or rid == "":
            raise _error("X413", f"every item assigned to issue.{kind} needs its remote 'id' (text or number)",
                         span, "keep `id` when you map items: `c | {body: …}` keeps it")
        rid = str(rid)
        if rid in seen:
            raise _error("X413", f"two items in issue.{kind} have the same id {rid!r}", span)
        seen.add(rid)
        value = {k: x for k, x in item.items() if k != "id"}
        lid = id_map.get(rid)
        if lid is None:
            ops.append(AddItem(kind, rid, value))
            added.append({"id": None, **value})
        elif lid in by_local:  # mapped and still there; one deleted locally stays deleted
            mine = by_local[lid]
            if any(not _same(mine.get(k), x) for k, x in value.items()):
                ops.append(UpdateItem(kind, rid, lid, value))
            updated[lid] = {**mine, **value, "id": mine.get("id")}
    gone = set()
    for rid, lid in id_map.items():
        if rid not in seen and lid in by_local:
            ops.append(DeleteItem(kind, rid, lid))
            gone.add(lid)
    kept = [updated.get(str(x.get("id")), x) for x in local_items if str(x.get("id")) not in gone]
    return kept + added, ops


def _error(code: str, message: str, span: Span, hint: str | None = None) -> RuleRuntimeError:
    return RuleRuntimeError(Diagnostic(code, message, span, hint=hint))
