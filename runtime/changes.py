"""The change set: typed operations an incoming program asks a connector to apply to one local issue."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = [
    "SetField",
    "MoveStatus",
    "LinkIssue",
    "AddItem",
    "UpdateItem",
    "DeleteItem",
    "Operation",
    "ChangeSet",
    "ENTITY_KINDS",
]

# Entity lists merged by identity: items from the other side are matched by their remote id.
ENTITY_KINDS = ("comments", "attachments", "worklogs")


def _pickled_as_values(cls: type) -> type:
    """Pickle as (class, field values): a frozen slots dataclass's own pickling looks its fields up for every
    object, and the rules workers send every change set back to the engine."""
    names = tuple(f.name for f in fields(cls))
    values = operator.attrgetter(*names)
    if len(names) == 1:
        cls.__reduce__ = lambda self: (cls, (values(self),))  # type: ignore[method-assign]
    else:
        cls.__reduce__ = lambda self: (cls, values(self))  # type: ignore[method-assign]
    return cls


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class SetField:
    """Set one field. `path` is ("summary",) or ("custom", "Story Points")."""

    path: tuple[str, ...]
    value: Any

    def to_json(self) -> dict:
        return {"op": "set", "field": ".".join(self.path), "value": self.value}


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class MoveStatus:
    """Move the issue to a status (connectors use the tracker's transitions)."""

    status: str

    def to_json(self) -> dict:
        return {"op": "status", "value": self.status}


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class LinkIssue:
    """First sync only: link the replica to an existing local issue instead of creating one."""

    key: str

    def to_json(self) -> dict:
        return {"op": "link", "key": self.key}


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class AddItem:
    """Create a comment / attachment / worklog that came from the other side."""

    kind: str  # one of ENTITY_KINDS
    remote_id: str
    value: dict

    def to_json(self) -> dict:
        return {"op": "add", "kind": self.kind, "remote_id": self.remote_id, "value": self.value}


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class UpdateItem:
    kind: str
    remote_id: str
    local_id: str
    value: dict

    def to_json(self) -> dict:
        return {"op": "update", "kind": self.kind, "remote_id": self.remote_id,
                "local_id": self.local_id, "value": self.value}


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class DeleteItem:
    kind: str
    remote_id: str
    local_id: str

    def to_json(self) -> dict:
        return {"op": "delete", "kind": self.kind, "remote_id": self.remote_id, "local_id": self.local_id}


Operation = SetField | MoveStatus | LinkIssue | AddItem | UpdateItem | DeleteItem


@_pickled_as_values
@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What one incoming run asks for.

    `create` is true on a first sync that links to no existing issue: the
    connector creates the issue from the SetField operations.  The operations
    are in a stable order: link, fields, status, then entity operations.
    """

    create: bool
    operations: tuple[Operation, ...] = field(default_factory=tuple)

    @property
    def empty(self) -> bool:
        return not self.create and not self.operations

    def to_json(self) -> dict:
        return {"create": self.create, "operations": [op.to_json() for op in self.operations]}
