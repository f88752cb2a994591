"""The connector interface the sync engine talks to, and the errors connectors raise."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from rulelang.errors import RulelangError

from .changes import ChangeSet

__all__ = ["Connector", "Applied", "ConnectorError", "TransientError", "PermanentError"]


class ConnectorError(RulelangError):
    """A tracker call failed (codes T8xx)."""

    default_code = "T800"


class TransientError(ConnectorError):
    """Worth retrying later: timeout, 5xx, 429 (with the server's Retry-After in seconds, if any)."""

    default_code = "T801"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """Retrying will not help until someone acts: 4xx the tracker means, refused transition, …"""

    default_code = "T802"


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying a change set did: the issue's key and the ids of items it created.

    `created_ids` maps kind ("comments", …) to {remote_id: local_id} for the
    items created by this call, so the engine can extend its id maps.
    """

    key: str
    created: bool = False
    created_ids: dict[str, dict[str, str]] = field(default_factory=dict)


@runtime_checkable
class Connector(Protocol):
    """One tracker instance. Every method speaks the neutral issue model (see docs/language.md)."""

    def search(self, query: str | None = None, updated_since: str | None = None) -> Iterator[dict]:
        """Issues matching a trigger query (None: all in scope) changed at or after `updated_since`
        (ISO-8601), oldest change first, as neutral issues."""
        ...

    def get_issue(self, key: str) -> dict | None:
        """The neutral issue with this key, or None when it does not exist."""
        ...

    def apply(self, key: str | None, changes: ChangeSet, *, marker: str | None = None) -> Applied:
        """Apply a change set. `key` is None when changes.create: the new issue carries `marker`
        (idempotent create: see find_by_marker)."""
        ...

    def find_by_marker(self, marker: str) -> str | None:
        """The key of the issue created with this marker, or None."""
        ...

    def lookup_user(self, email: str) -> dict | None:
        """A local user {id, email, name} by e-mail, or None."""
        ...

    def close(self) -> None: ...
