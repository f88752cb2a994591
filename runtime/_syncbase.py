"""What the sync engine's halves share: the pass report, the time split, and the run context."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any

from .config import ConnectionConfig, Direction
from .connector import Connector
from .state import StateStore
from .workers import RuleRunner

__all__ = ["Counts", "PassReport", "Timings", "Context", "Progress", "timed_proxy", "batches"]

Progress = Callable[[str, int, int | None], None]  # (stage, advance, total or None)


@dataclass
class Counts:
    """What happened in one direction during a pass."""

    noticed: int = 0    # issues in scope the sending half looked at
    sent: int = 0       # replicas queued for delivery
    unchanged: int = 0  # replicas equal to the last one sent (repeats and echoes): dropped
    skipped: int = 0    # a rule said `skip`
    applied: int = 0    # messages applied on the receiving side
    created: int = 0    # of which created a new issue
    errors: int = 0     # parked in the error queue during this pass
    retrying: int = 0   # transient failures, to be retried later
    deferred: int = 0   # noticed while a message to the same issue was half-way: noticed again next pass

    def add(self, other: Counts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def to_json(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class PassReport:
    """The outcome of one pass (or push, bulk, retry): counts per direction and what is left."""

    directions: dict[str, Counts] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)  # tracker issues that could not be read
    problems: list[str] = field(default_factory=list)    # whole-direction failures (a search that failed)
    waiting: int = 0        # still queued at the end (paused, or due later)
    in_error: int = 0       # in the error queue at the end (from this pass or earlier)
    paused: bool = False
    interrupted: bool = False
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def counts(self, direction: str) -> Counts:
        return self.directions.setdefault(direction, Counts())

    @property
    def total(self) -> Counts:
        out = Counts()
        for c in self.directions.values():
            out.add(c)
        return out

    @property
    def failed(self) -> bool:
        """True when this pass parked an issue, met an unreadable one, or a direction failed."""
        return bool(self.total.errors or self.unreadable or self.problems)

    def to_json(self) -> dict[str, Any]:
        return {"directions": {k: v.to_json() for k, v in self.directions.items()},
                "total": self.total.to_json(), "unreadable": self.unreadable, "problems": self.problems,
                "waiting": self.waiting, "in_error": self.in_error, "paused": self.paused,
                "interrupted": self.interrupted, "seconds": round(self.seconds, 3),
                "timings": {k: round(v, 3) for k, v in self.timings.items()}}


class Timings:
    """Seconds spent per part (connector, state, …), summed across calls."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()

    @contextmanager
    def timing(self, part: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[part] += time.perf_counter() - start


class _Timed:
    """A proxy that charges the time of every method call (and of iterating what `search` returns) to a part."""

    def __init__(self, target: Any, timings: Timings, part: str) -> None:
        self._target, self._timings, self._part = target, timings, part

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value
        seconds, part, clock = self._timings.seconds, self._part, time.perf_counter

        def call(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                result = value(*args, **kwargs)
            finally:
                seconds[part] += clock() - start
            if name in ("transaction", "batch"):  # the work (a commit) happens on leaving
                return _TimedContext(result, self._timings, part)
            if name == "search":
                return _timed_iter(result, self._timings, part)
            return result

        setattr(self, name, call)  # found directly next time
        return call


class _TimedContext:
    def __init__(self, inner: Any, timings: Timings, part: str) -> None:
        self._inner, self._timings, self._part = inner, timings, part

    def __enter__(self) -> Any:
        with self._timings.timing(self._part):
            return self._inner.__enter__()

    def __exit__(self, *exc: Any) -> Any:
        with self._timings.timing(self._part):
            return self._inner.__exit__(*exc)


def _timed_iter(items: Any, timings: Timings, part: str) -> Iterator[Any]:
    it = iter(items)
    while True:
        with timings.timing(part):
            try:
                item = next(it)
            except StopIteration:
                return
        yield item


def timed_proxy(target: Any, timings: Timings, part: str) -> Any:
    return _Timed(target, timings, part)


def batches(items: Any, size: int) -> Iterator[list[Any]]:
    """Lists of up to `size` items from any iterable, lazily."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class Context:
    """Everything a half needs: config, state, connectors (timed), the rule runner, and the stop flag."""

    config: ConnectionConfig
    store: StateStore
    connectors: Mapping[str, Connector]
    runner: RuleRunner
    programs: Mapping[tuple[str, str], str]  # (instance, "outgoing"/"incoming") -> program name
    timings: Timings
    stop: threading.Event
    progress: Progress | None = None
    chunk: int = 50  # issues per noticing batch and per claim: a batch for every worker, so all of them work
    inflight: Counter[tuple[int, str]] = field(default_factory=Counter)  # open messages per (twin, direction)
    second_chance: list[int] = field(default_factory=list)  # entries whose `fail` is tried once more
    unsettled: set[tuple[int, str]] = field(default_factory=set)  # (twin, direction) with an interrupted attempt
    trusted: bool = True  # the inbox receives from this node's own sending half

    def direction(self, source: str) -> Direction:
        return self.config.direction(source, self.config.other(source))

    def settled(self, twin_id: int, direction: str) -> None:
        """One open message of (twin, direction) is done with: a count that reaches zero loses its key, so a
        long run does not keep one for every twin it has ever seen."""
        key = (twin_id, direction)
        left = self.inflight[key] - 1
        if left > 0:
            self.inflight[key] = left
        else:
            self.inflight.pop(key, None)

    def tick(self, stage: str, advance: int = 1, total: int | None = None) -> None:
        if self.progress is not None:
            self.progress(stage, advance, total)

    def lookup_for(self, local: str) -> Callable[[str, str], Any]:
        """Answers rules' `user()` (a user on `local`) and `twin()` (the key on `local` of a remote issue)."""
        users: dict[str, Any] = {}
        remote = self.config.other(local)

        def lookup(kind: str, arg: str) -> Any:
            if not isinstance(arg, str):
                return None
            if kind == "user":
                if arg not in users:
                    users[arg] = self.connectors[local].lookup_user(arg)
                return users[arg]
            if kind == "twin":
                twin = self.store.twin_for(remote, arg)
                return twin.key_on(local) if twin is not None else None
            return None

        return lookup
