"""The sync engine: one connection's sending and receiving halves, joined in one process through replica messages.

    engine = Engine(config, open_state(state_path(folder)), connector_factory)
    report = engine.sync()          # one pass: notice, queue, deliver
    engine.push(["QA-12"]); engine.bulk(1); engine.retry(); engine.unlink("QA-12")

A pass notices every automatic direction first (each side's changes queued
oldest first, with the cursor advance), then delivers the queue in order,
unless the connection is paused. Only one process works on a connection
folder at a time (a lock file); `status`, `queue`, `pause` and `resume` do not
need it. Ctrl-C (`engine.stop.set()`) ends the pass between issues.
"""

from __future__ import annotations

import fcntl
import importlib
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from rulelang.errors import ConfigError, Diagnostic, RulelangError

from . import _status
from ._isotime import format_utc, parse_datetime, utc_now
from ._receiving import ReceivingHalf, Started
from ._sending import SendingHalf
from ._syncbase import Context, PassReport, Progress, Timings, timed_proxy
from .config import ConnectionConfig, InstanceConfig, SyncLimits
from .connector import Connector
from .messages import DirectOutbox, Inbox
from .state import ERROR, IN_PROGRESS, PENDING, StateStore, Twin
from .workers import Program, RunnerLimits, make_runner, start_fork_server

__all__ = ["Engine", "ConnectorFactory", "compile_programs", "rule_budgets", "LOCK_FILE"]

ConnectorFactory = Callable[[InstanceConfig], Connector]
LOCK_FILE = "lock"
_RETRY_WAIT_SECONDS = 10.0  # a pass waits for transient retries due this soon; later ones wait for the next pass


def rule_budgets(limits: SyncLimits) -> dict[str, Any]:
    """The rules runtime's Limits fields from `[limits]`."""
    return {"max_steps": limits.steps, "wall_time": limits.rule_time_ms / 1000}


def compile_programs(config: ConnectionConfig, compiler: str = "runtime:compile_rules") -> dict[str, Program]:
    """Read and compile every rule file the enabled directions use; one ConfigError lists every problem.

    `compiler` names the compile function as `module:function` (workers import it by that name).
    """
    module, _, function = compiler.partition(":")
    compile_rules = getattr(importlib.import_module(module), function)
    needed: dict[tuple[str, str], Path] = {}
    for d in config.directions:
        if d.method != "disabled":
            needed[(d.source, "outgoing")] = config.instances[d.source].rules.outgoing  # type: ignore[assignment]
            needed[(d.target, "incoming")] = config.instances[d.target].rules.incoming  # type: ignore[assignment]
    programs: dict[str, Program] = {}
    problems: list[Diagnostic] = []
    for (instance, kind), path in needed.items():
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            problems.append(Diagnostic("K724", f"cannot read {path}: {e}", None))
            continue
        try:
            rules = compile_rules(source, str(path), kind=kind)
        except RulelangError as e:
            problems.extend(d for d in e.diagnostics if d.severity == "error")
            continue
        portable = rules.portable() if hasattr(rules, "portable") else None  # workers run it as compiled here
        programs[f"{instance}.{kind}"] = Program(f"{instance}.{kind}", source, str(path), kind, compiler, portable)
    if problems:
        raise ConfigError(problems)
    return programs


class Engine:
    """One connection folder's sync: see the module docstring."""

    def __init__(self, config: ConnectionConfig, store: StateStore, connector_factory: ConnectorFactory, *,
                 programs: dict[str, Program] | None = None, isolate: bool | None = None,
                 progress: Progress | None = None) -> None:
        self.config = config
        self.stop = threading.Event()
        self.timings = Timings()
        self._raw_store = store
        self._programs = programs  # compiled on first use: status and queue need no rules
        self._isolate = config.limits.isolate if isolate is None else isolate
        self._factory = connector_factory
        self._raw_connectors: dict[str, Connector] = {}
        self._ctx: Context | None = None
        self._progress = progress
        self._lock_fd: int | None = None

    # ---- assembly ----

    @property
    def store(self) -> StateStore:
        return self._raw_store

    def _context(self) -> Context:
        if self._ctx is not None:
            return self._ctx
        limits = self.config.limits
        if self._isolate:
            start_fork_server()
        if self._programs is None:
            self._programs = compile_programs(self.config)
        for name, inst in self.config.instances.items():
            if name not in self._raw_connectors:
                self._raw_connectors[name] = self._factory(inst)
        runner = make_runner(self._programs, RunnerLimits(
            limits.workers, limits.batch, limits.worker_memory_mb, limits.issue_time_ms / 1000,
            rule_budgets(limits)), isolate=self._isolate)
        programs = {(name, kind): f"{name}.{kind}" for name in self.config.instances
                    for kind in ("outgoing", "incoming") if f"{name}.{kind}" in self._programs}
        ctx = Context(self.config, timed_proxy(self._raw_store, self.timings, "state"),
                      {n: timed_proxy(c, self.timings, "connector") for n, c in self._raw_connectors.items()},
                      runner, programs, self.timings, self.stop, self._progress,
                      chunk=limits.batch * (limits.workers if self._isolate else 1))
        outbox = DirectOutbox(Inbox(ctx.store, trusted=True))
        self.senders: dict[str, SendingHalf] = {}
        self.receivers: dict[str, ReceivingHalf] = {}
        enabled = [d for d in self.config.directions if d.method != "disabled"]
        for d in enabled:
            self.senders[d.name] = SendingHalf(ctx, d, outbox)
        for d in enabled:
            reverse = self.senders.get(self.config.direction(d.target, d.source).name)
            self.receivers[d.name] = ReceivingHalf(ctx, d, self.senders[d.name], reverse)
        self._ctx = ctx
        return ctx

    def connector(self, instance: str) -> Connector:
        self._context()
        return self._raw_connectors[instance]

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.runner.close()
        for c in self._raw_connectors.values():
            c.close()
        self._raw_connectors.clear()
        self._ctx = None
        self._unlock()
        self._raw_store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- one worker per folder ----

    def _lock(self) -> None:
        if self._lock_fd is not None:
            return
        path = self.config.folder / ".state" / LOCK_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConfigError(f"another rulelang process is syncing {self.config.folder}; wait for it or stop it",
                              code="K730") from None
        self._lock_fd = fd
        self._raw_store.release_claims()  # claims of a process that died: nobody else works here

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    @contextmanager
    def _working(self) -> Iterator[tuple[Context, PassReport]]:
        self._lock()
        ctx = self._context()
        open_entries = [e for state in (PENDING, IN_PROGRESS, ERROR) for e in ctx.store.entries(state=state)]
        ctx.inflight = Counter((e.twin_id, e.direction) for e in open_entries)
        ctx.unsettled = {(e.twin_id, e.direction) for e in open_entries if e.state != ERROR and e.attempts > 0}
        ctx.second_chance = []
        report = PassReport(paused=ctx.store.is_paused())
        start = time.perf_counter()
        ctx.runner.warm()
        rules0, wait0 = ctx.runner.rule_seconds, ctx.runner.wait_seconds
        self.timings.seconds.clear()
        try:
            yield ctx, report
        finally:
            report.interrupted = report.interrupted or self.stop.is_set()
            counts = self._raw_store.queue_counts()
            report.waiting, report.in_error = counts[PENDING] + counts[IN_PROGRESS], counts[ERROR]
            report.seconds = time.perf_counter() - start
            rules, waited = ctx.runner.rule_seconds - rules0, ctx.runner.wait_seconds - wait0
            # Rules run in workers while this process writes the batch before: only the waiting counts
            # towards the pass's time; "overlapped" is the rule time that waiting did not cover.
            report.timings = {"rules": rules, "isolation": max(0.0, waited - rules),
                              "overlapped": max(0.0, rules - waited),
                              "connector": self.timings.seconds["connector"],
                              "state": self.timings.seconds["state"], "total": report.seconds}

    # ---- commands ----

    def sync(self) -> PassReport:
        """One pass: notice and queue every automatic direction, then deliver (unless paused)."""
        with self._working() as (ctx, report):
            for d in self.config.directions:
                if d.method == "automatic" and not self.stop.is_set():
                    self.senders[d.name].poll(report)
            if not report.paused:
                self._deliver(ctx, report)
        return report

    def push(self, keys: Iterable[str]) -> PassReport:
        """Sync these issues now, in scope or not (automatic and manual directions)."""
        with self._working() as (ctx, report):
            found: dict[str, list[dict]] = {}
            for key in keys:
                source, issue = self._find(ctx, key)
                found.setdefault(source, []).append(issue)
            for source, issues in found.items():
                sender = self.senders[self.config.direction(source, self.config.other(source)).name]
                sender.send(issues, report.counts(sender.name))
            if not report.paused:
                self._deliver(ctx, report)
        return report

    def bulk(self, trigger_number: int) -> PassReport:
        """Push every issue trigger `trigger_number` (1-based) matches."""
        triggers = {t.number: t for t in self.config.triggers}
        if trigger_number not in triggers:
            known = ", ".join(str(n) for n in triggers) or "none"
            raise ConfigError(f"there is no trigger {trigger_number} (triggers: {known})", code="K731")
        trigger = triggers[trigger_number]
        name = self.config.direction(trigger.instance, self.config.other(trigger.instance)).name
        with self._working() as (ctx, report):
            if name not in self.senders:
                raise ConfigError(f"'{name}' is disabled in [sync]: trigger {trigger_number} cannot push",
                                  code="K731")
            self.senders[name].bulk(trigger, report)
            if not report.paused:
                self._deliver(ctx, report)
        return report

    def retry(self, entry_ids: Iterable[int] | None = None, *, deliver: bool = True) -> tuple[int, PassReport]:
        """Entries in error (these, or all) go back to the queue; then a delivery round (unless paused)."""
        count = self._raw_store.retry(None if entry_ids is None else list(entry_ids))
        if not deliver:
            return count, PassReport()
        with self._working() as (ctx, report):
            if not report.paused:
                self._deliver(ctx, report)
        return count, report

    def unlink(self, key: str) -> Twin:
        """Stop syncing the twin holding `key` (on either side); its queued messages are dropped."""
        store = self._raw_store
        twin = self.find_twin(key)
        if twin is None:
            raise ConfigError(f"{key} is not synced (no twin holds it)", code="K732")
        with store.transaction():
            for state in (PENDING, IN_PROGRESS, ERROR):
                for e in store.entries(state=state, twin_id=twin.id):
                    store.complete(e.id)
            store.unlink_twin(twin.id)
            store.log("unlink", f"unlinked {twin.instance_a} {twin.key_a} <-> {twin.instance_b} {twin.key_b}",
                      twin_id=twin.id)
        return twin

    def set_paused(self, paused: bool) -> None:
        self._raw_store.set_paused(paused)
        self._raw_store.log("pause" if paused else "resume", "paused" if paused else "resumed")

    # ---- reading (runtime/_status.py) ----

    def find_twin(self, key: str) -> Twin | None:
        return _status.find_twin(self._raw_store, self.config.instances, key)

    def status(self, key: str | None = None) -> list[dict[str, Any]]:
        """Twins (or the one holding `key`) with their state: synced, waiting, error (why), paused."""
        return _status.status(self._raw_store, self.config.instances, key)

    def queue(self, states: Iterable[str] = (ERROR, PENDING, IN_PROGRESS)) -> list[dict[str, Any]]:
        """Open queue entries, oldest first."""
        return _status.queue(self._raw_store, states)

    # ---- internals ----

    def _find(self, ctx: Context, key: str) -> tuple[str, dict]:
        hits = []
        for instance in self.config.instances:
            issue = ctx.connectors[instance].get_issue(key)
            if issue is not None:
                hits.append((instance, issue))
        if not hits:
            raise ConfigError(f"no issue {key} on {' or '.join(self.config.instances)}", code="K733")
        if len(hits) > 1:
            raise ConfigError(f"{key} exists on both instances; cannot tell which one to push", code="K733")
        source, issue = hits[0]
        name = self.config.direction(source, self.config.other(source)).name
        if name not in self.senders:
            raise ConfigError(f"'{name}' is disabled in [sync]: {key} cannot be pushed", code="K731")
        return source, issue

    def _deliver(self, ctx: Context, report: PassReport) -> None:
        """Deliver due queue entries, direction by direction, batch by batch, until none is due. Pipelined
        within a direction: the next batch is claimed, prepared and its rules started before the one ahead
        is applied and recorded. Directions share twins: the other direction waits until it is written."""
        batch = ctx.chunk
        ahead: Started | None = None
        while not self.stop.is_set():
            progressed = False
            for name, receiver in self.receivers.items():
                if self.stop.is_set():
                    break
                if ahead is not None and ahead.half is not receiver:
                    ahead.finish()
                    ahead = None
                entries = ctx.store.claim(direction=name, limit=batch)
                if entries:
                    progressed = True
                    started = receiver.start(entries, report)
                    if ahead is not None:
                        ahead.finish()
                        started.stale = True
                    ahead = started
            if progressed:
                continue
            if ahead is not None:  # what it writes may make more entries due
                ahead.finish()
                ahead = None
                continue
            if ctx.second_chance:
                with ctx.store.transaction():
                    for entry_id in ctx.second_chance:
                        entry = ctx.store.get_entry(entry_id)
                        if entry is not None and entry.state == PENDING:
                            ctx.store.postpone(entry_id, entry.reason or "", 0.0)
                ctx.second_chance.clear()
                continue
            if not self._wait_for_retries(ctx):
                break
        if ahead is not None:  # stopped: its rules have run; applying it notices the stop and puts it back
            ahead.finish()
        if self.stop.is_set():
            report.interrupted = True

    def _wait_for_retries(self, ctx: Context) -> bool:
        """Sleep until the next transient retry if it is due soon; False when there is none to wait for."""
        horizon = format_utc(utc_now() + timedelta(seconds=_RETRY_WAIT_SECONDS))
        due = [e.next_attempt_at for e in self._raw_store.entries(state=PENDING)
               if e.direction in self.receivers and e.next_attempt_at and e.next_attempt_at <= horizon]
        if not due:
            return False
        moment = parse_datetime(min(due))
        wait = (moment - utc_now()).total_seconds() + 0.001 if moment is not None else 0.0
        return not self.stop.wait(min(max(0.0, wait), _RETRY_WAIT_SECONDS))

