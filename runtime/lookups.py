"""Look-ups a run may make outside itself: local users by e-mail and twins by remote key (the Lookups protocol)."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

__all__ = ["Lookups", "StaticLookups"]


@runtime_checkable
class Lookups(Protocol):
    """What `user()` and `twin()` ask. The sync engine answers through its connector and state store."""

    def user(self, email: str) -> dict | None:
        """A local user {id, email, name} with this e-mail, or None."""
        ...

    def twin(self, remote_key: str) -> str | None:
        """The local key of the issue already synced with this remote key, or None."""
        ...


class StaticLookups:
    """Answers from fixed tables: a dry-run's `--lookups FILE.json` or a test.

    The file is `{"users": {email: {id, email, name}}, "twins": {remote_key: local_key},
    "id_maps": {kind: {remote_id: local_id}}}`; every part is optional.
    """

    def __init__(self, users: Mapping[str, dict] | None = None, twins: Mapping[str, str] | None = None,
                 id_maps: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.users = {k.lower(): v for k, v in (users or {}).items()}
        self.twins = dict(twins or {})
        self.id_maps = {kind: dict(m) for kind, m in (id_maps or {}).items()}
        # The latest questions, in order (tests look at them); bounded, as one object may serve many runs.
        self.asked: deque[tuple[str, str]] = deque(maxlen=1000)

    @classmethod
    def from_json(cls, doc: Any) -> StaticLookups:
        """From a parsed look-ups file; raises ValueError naming the part that has the wrong shape."""
        if not isinstance(doc, dict):
            raise ValueError("the look-ups file must hold a JSON object")
        unknown = set(doc) - {"users", "twins", "id_maps"}
        if unknown:
            raise ValueError(f"unknown part {sorted(unknown)[0]!r} (expected users, twins, id_maps)")
        users, twins, id_maps = doc.get("users") or {}, doc.get("twins") or {}, doc.get("id_maps") or {}
        if not isinstance(users, dict) or not all(isinstance(u, dict) for u in users.values()):
            raise ValueError("'users' must map e-mail addresses to user objects")
        if not isinstance(twins, dict) or not all(isinstance(t, str) for t in twins.values()):
            raise ValueError("'twins' must map remote keys to local keys (text)")
        if not isinstance(id_maps, dict) or not all(
                isinstance(m, dict) and all(isinstance(x, str) for x in m.values()) for m in id_maps.values()):
            raise ValueError("'id_maps' must map a kind (comments, …) to {remote_id: local_id}")
        return cls(users, twins, id_maps)

    def user(self, email: str) -> dict | None:
        self.asked.append(("user", email))
        return self.users.get(email.lower())

    def twin(self, remote_key: str) -> str | None:
        self.asked.append(("twin", remote_key))
        return self.twins.get(remote_key)
