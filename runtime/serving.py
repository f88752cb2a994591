"""`rulelang serve`'s loop, on the engine's thread: notice the issues webhooks name at once, and poll now and then.

The receiver (runtime/webhooks.py) records notices on its own threads; this loop, on the engine's thread,
drains them: for each named issue it reads the issue from its tracker, keeps it when a polling pass would
(it has a twin, or an active trigger matches it, and its instance's direction is automatic) and pushes
the kept keys, so the other side gets the issue as it is now, whatever the order the notices came in.
A notice is marked handled once its push ran (a push that fails on a tracker outage is tried again).
Polling stays on as the safety net (webhooks are best-effort, and a local tracker sends none): one pass
at start-up, catching up what changed while the server was down, then one every `poll_interval`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from rulelang.errors import ConfigError, PayloadError

from ._isotime import format_utc, utc_now
from ._syncbase import PassReport
from .connector import ConnectorError, TransientError
from .engine import Engine
from .state import Delivery, StateStore

__all__ = ["Service", "NoticeResult", "KEEP_DELIVERY_IDS", "describe"]

log = logging.getLogger("rulelang.serve")

KEEP_DELIVERY_IDS = timedelta(days=7)  # Jira resends for a few hours at most; repeats older than this are new
_OUTAGE_WAIT = (1.0, 60.0)  # seconds before draining again after a tracker outage: first, most


@dataclass
class NoticeResult:
    """What draining the pending notices did."""

    handled: int = 0                                     # notices marked handled
    pushed: list[str] = field(default_factory=list)      # keys pushed
    ignored: dict[str, str] = field(default_factory=dict)  # key -> why it was not pushed
    report: PassReport | None = None                     # the push's report
    retry_after: float | None = None                     # a tracker failed: drain again after this long


class Service:
    """Drains webhook notices into `engine` and polls; `run()` until `engine.stop` is set.

    `deliveries` is the store the receiver records into (a connection of its own to the engine's file).
    `on_pass(kind, report)` is called after each push ("webhook") and poll pass ("poll").
    """

    def __init__(self, engine: Engine, deliveries: StateStore, wake: threading.Event, *,
                 poll_interval: float | None, on_pass: Callable[[str, PassReport], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine, self.deliveries, self.wake = engine, deliveries, wake
        self.poll_interval = poll_interval if poll_interval and poll_interval > 0 else None
        self.on_pass = on_pass or (lambda kind, report: None)
        self._clock = clock
        self._outages = 0

    def run(self, *, startup_pass: bool = True) -> None:
        """A start-up pass (unless the caller ran it), then drain notices as they come and poll when due,
        until `engine.stop`."""
        stop, clock = self.engine.stop, self._clock
        if startup_pass:
            self.poll()
        next_poll = clock() + self.poll_interval if self.poll_interval else None
        retry_at: float | None = None  # after a tracker outage: not before this
        while not stop.is_set():
            if retry_at is None or clock() >= retry_at:
                self.wake.clear()  # before draining: a notice recorded meanwhile wakes the next round
                result = self.drain()
                retry_at = clock() + result.retry_after if result.retry_after is not None else None
            if stop.is_set():
                break
            if next_poll is not None and clock() >= next_poll:
                self.poll()
                next_poll = clock() + (self.poll_interval or 0.0)
            deadlines = [t for t in (next_poll, retry_at) if t is not None]
            woke = self.wake.wait(max(0.0, min(deadlines) - clock()) if deadlines else None)
            if woke and retry_at is not None and clock() < retry_at:
                self.wake.clear()  # the notice waits with the others until the outage wait is over

    def poll(self) -> PassReport:
        """One sync pass (notice by polling, deliver), and forget old delivery ids."""
        report = self.engine.sync()
        self.on_pass("poll", report)
        self.deliveries.purge_deliveries(format_utc(utc_now() - KEEP_DELIVERY_IDS))
        return report

    def drain(self, limit: int = 500) -> NoticeResult:
        """Handle the pending notices (at most `limit`): read, keep those in scope, push them."""
        result = NoticeResult()
        pending = self.deliveries.pending_deliveries(limit)
        if not pending:
            return result
        by_instance: dict[str, list[Delivery]] = {}
        for d in pending:
            by_instance.setdefault(d.instance, []).append(d)
        for instance, notices in by_instance.items():
            try:
                keys = self._in_scope(instance, notices, result)
                if keys:
                    self._push(keys, result)
            except TransientError as e:
                # A tracker is down: keep the notices; the next round (or poll) tries again.
                self._outages += 1
                wait = min(_OUTAGE_WAIT[1], _OUTAGE_WAIT[0] * 2 ** (self._outages - 1))
                result.retry_after = max(wait, e.retry_after or 0.0)
                log.warning("webhook notices for %s wait %.0f s: %s", instance, result.retry_after, e)
                continue
            except (ConnectorError, PayloadError) as e:
                # Retrying the same push will not help: the next poll pass notices these issues anyway.
                for d in notices:
                    result.ignored.setdefault(d.key, f"push failed: {e}")
                log.error("webhook notices for %s: push failed: %s; left to the next poll pass", instance, e)
            self._outages = 0
            self.deliveries.finish_deliveries(d.delivery_id for d in notices)
            result.handled += len(notices)
        if len(pending) == limit and result.retry_after is None:
            self.wake.set()  # more are waiting: another round at once
        return result

    def _in_scope(self, instance: str, notices: list[Delivery], result: NoticeResult) -> list[str]:
        config = self.engine.config
        if instance not in config.instances:
            for d in notices:
                result.ignored[d.key] = f"no instance {instance} in this connection"
            return []
        direction = config.direction(instance, config.other(instance))
        if direction.method != "automatic":
            for d in notices:
                result.ignored[d.key] = f"'{direction.name}' is {direction.method}"
            return []
        connector, store = self.engine.connector(instance), self.engine.store
        triggers = config.triggers_of(instance)
        keys: list[str] = []
        for name in dict.fromkeys(d.key for d in notices):  # one read per issue, however many notices
            try:
                issue = connector.get_issue(name)
            except TransientError:
                raise
            except (ConnectorError, PayloadError) as e:
                result.ignored[name] = f"cannot read it: {e}"
                log.error("webhook for %s %s: cannot read the issue: %s", instance, name, e)
                continue
            if issue is None:
                result.ignored[name] = "no such issue in the instance's project"
                log.info("webhook for %s %s: no such issue in the project; dropped", instance, name)
                continue
            key = str(issue.get("key") or name)
            if store.twin_for(instance, key) is None and not any(t.query.matches(issue) for t in triggers):
                result.ignored[key] = "not in scope: no twin and no trigger matches it"
                log.info("webhook for %s %s: not in scope (no twin, no trigger matches); dropped", instance, key)
                continue
            if key not in keys:
                keys.append(key)
        return keys

    def _push(self, keys: list[str], result: NoticeResult) -> None:
        try:
            report = self.engine.push(keys)
            result.pushed += keys
        except ConfigError:
            # One key the engine cannot place (it exists on both instances, or vanished since it was read)
            # must not hold back the others: push them one by one.
            report = PassReport()
            for key in keys:
                try:
                    one = self.engine.push([key])
                except ConfigError as e:
                    result.ignored[key] = e.diagnostic.message
                    log.warning("webhook for %s: not pushed: %s; the next poll pass notices it", key,
                                e.diagnostic.message)
                    continue
                result.pushed.append(key)
                _merge(report, one)
        result.report = report
        self.on_pass("webhook", report)


def _merge(total: PassReport, one: PassReport) -> None:
    for name, counts in one.directions.items():
        total.counts(name).add(counts)
    total.unreadable += one.unreadable
    total.problems += one.problems
    total.waiting, total.in_error, total.paused = one.waiting, one.in_error, one.paused
    total.interrupted = total.interrupted or one.interrupted
    total.seconds += one.seconds


def describe(result: NoticeResult) -> dict[str, Any]:
    """A NoticeResult for `--json` and logs."""
    return {"handled": result.handled, "pushed": result.pushed, "ignored": result.ignored,
            "retry_after": result.retry_after}
