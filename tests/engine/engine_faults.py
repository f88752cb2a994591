"""A connector wrapper that fails on purpose: transient errors at a rate (some after the write happened),
and permanent errors for chosen issues while `broken` is set. Records the applies it let through."""

from __future__ import annotations

import random
from typing import Any

from runtime.changes import ChangeSet, SetField
from runtime.connector import PermanentError, TransientError

__all__ = ["Faulty"]

_TRANSIENT = ("timed out", "503 Service Unavailable", "502 Bad Gateway", "429 Too Many Requests")


class Faulty:
    def __init__(self, inner: Any, *, rate: float = 0.0, seed: int = 1, broken: set[str] | None = None) -> None:
        self.inner, self.rate, self.random = inner, rate, random.Random(seed)
        self.broken = broken or set()  # summaries (as applied) that are refused permanently
        self.applied: list[tuple[str | None, ChangeSet]] = []
        self.faults = 0

    def _maybe(self, what: str) -> None:
        if self.rate and self.random.random() < self.rate:
            self.faults += 1
            kind = self.random.choice(_TRANSIENT)
            raise TransientError(f"{what}: {kind}", retry_after=0.001 if kind.startswith("429") else None)

    def search(self, query=None, updated_since=None):
        self._maybe("search")
        return self.inner.search(query, updated_since)

    def get_issue(self, key):
        self._maybe("get_issue")
        return self.inner.get_issue(key)

    def find_by_marker(self, marker):
        self._maybe("find_by_marker")
        return self.inner.find_by_marker(marker)

    def lookup_user(self, email):
        return self.inner.lookup_user(email)

    def apply(self, key, changes, *, marker=None):
        summaries = {op.value for op in changes.operations if isinstance(op, SetField) and op.path == ("summary",)}
        if summaries & self.broken:
            raise PermanentError(f"400 Bad Request: {sorted(summaries & self.broken)[0]} is refused")
        self._maybe("apply")
        result = self.inner.apply(key, changes, marker=marker)
        self.applied.append((key, changes))
        if self.rate and self.random.random() < self.rate / 2:
            self.faults += 1
            raise TransientError("apply: timed out reading the response")  # the write happened anyway
        return result

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def close(self):
        self.inner.close()
