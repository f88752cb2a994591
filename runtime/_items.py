"""Item-level care for change sets: echoes of our own items, items an interrupted attempt already wrote,
and whether an issue changed only as a change set asked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .changes import ENTITY_KINDS, AddItem, ChangeSet, DeleteItem, MoveStatus, SetField, UpdateItem
from .connector import Applied

__all__ = ["three_way", "reconcile", "only_ours"]


def three_way(changes: ChangeSet, replica: Mapping[str, Any], previous: Mapping[str, Any] | None) -> ChangeSet:
    """Item updates and deletes only for what changed on the other side since `previous`.

    Id maps join an item and its copy both ways, so an item of ours comes back in the other side's
    replica (as their copy). Unless the other side changed it since the last replica, an update would
    only echo a difference the rules made (a prefix, a dropped field); and a delete is meant only for an
    item they sent before and no longer send: their replica may well have been made before our item's
    copy reached them (both sides changed between two passes), or their rules may leave copies out.
    """
    kept = []
    for op in changes.operations:
        if isinstance(op, UpdateItem | DeleteItem):
            now, before = _items(replica, op.kind), _items(previous or {}, op.kind)
            if isinstance(op, UpdateItem) and op.remote_id in now and now[op.remote_id] == before.get(op.remote_id):
                continue  # unchanged over there: the difference is the rules', not an edit
            if isinstance(op, UpdateItem) and op.remote_id in now and op.remote_id not in before:
                continue  # our own item, come back as their copy
            if isinstance(op, DeleteItem) and op.remote_id not in before:
                continue  # never received from them: their copy of ours, left out of their replica
        kept.append(op)
    return changes if len(kept) == len(changes.operations) else ChangeSet(changes.create, tuple(kept))


def _items(doc: Mapping[str, Any], kind: str) -> dict[str, Any]:
    items = doc.get(kind)
    if not isinstance(items, list):
        return {}
    return {str(i["id"]): i for i in items if isinstance(i, Mapping) and i.get("id") is not None}


_MATCH_ON = {"comments": ("body",), "attachments": ("filename", "size"), "worklogs": ("seconds", "started")}


def reconcile(changes: ChangeSet, issue: Mapping[str, Any], id_maps: Mapping[str, Mapping[str, str]]
               ) -> tuple[ChangeSet, dict[str, dict[str, str]]]:
    """After an attempt that may have written: drop adds already there (matched by content, each local
    item used once, only items no other remote item maps to) and deletes already done."""
    free: dict[str, list[Mapping[str, Any]]] = {}
    for kind in ENTITY_KINDS:
        mapped = set(id_maps.get(kind, {}).values())
        free[kind] = [i for i in issue.get(kind) or () if isinstance(i, Mapping) and str(i.get("id")) not in mapped]
    present = {kind: {str(i.get("id")) for i in issue.get(kind) or () if isinstance(i, Mapping)}
               for kind in ENTITY_KINDS}
    kept, matched = [], {}
    for op in changes.operations:
        if isinstance(op, AddItem) and op.kind in _MATCH_ON:
            keys = _MATCH_ON[op.kind]
            hit = next((i for i in free[op.kind]
                        if all(i.get(k) == op.value.get(k) for k in keys if k in op.value)), None)
            if hit is not None:
                free[op.kind].remove(hit)
                matched.setdefault(op.kind, {})[op.remote_id] = str(hit.get("id"))
                continue
        if isinstance(op, DeleteItem) and op.local_id not in present.get(op.kind, set()):
            continue
        kept.append(op)
    return ChangeSet(changes.create, tuple(kept)), matched


def only_ours(before: Mapping[str, Any] | None, after: Mapping[str, Any], changes: ChangeSet | None,
               applied: Applied | None) -> bool:
    """Whether the issue changed only as the change set asked (nobody edited it while we applied)."""
    if before is None or changes is None or applied is None:
        return True  # we created it
    touched = {op.path[0] for op in changes.operations if isinstance(op, SetField)}
    if any(isinstance(op, MoveStatus) for op in changes.operations):
        touched |= {"status", "resolution"}
    for name, value in before.items():
        if name != "updated" and name not in touched and name not in ENTITY_KINDS and after.get(name) != value:
            return False
    for kind in ENTITY_KINDS:
        ours = {op.local_id for op in changes.operations if isinstance(op, UpdateItem | DeleteItem) and op.kind == kind}
        gone = {op.local_id for op in changes.operations if isinstance(op, DeleteItem) and op.kind == kind}
        pre, post = _items(before, kind), _items(after, kind)
        if set(post) != (set(pre) - gone) | set(applied.created_ids.get(kind, {}).values()):
            return False
        if any(post.get(i) != item for i, item in pre.items() if i not in ours):
            return False
    return True
