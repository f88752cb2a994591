"""The receiving half of one direction: run the incoming rules on queued replicas and apply the change sets.

Steps 4-6 of the design, a batch of claimed queue entries at a time (at most
one per twin: the queue hands out a twin's messages in order): `start` prepares
a batch and starts its rules, `finish` applies and records it, so the engine
can start the next batch before finishing this one. Tracker writes happen
first, then one transaction records the twin links, id maps, applied replicas
and done entries of the batch. A crash in between is recovered on the
next attempt: a create finds its marker before creating again, and an item
that was added but not recorded is matched instead of added twice.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from rulelang.errors import RulelangError

from ._items import only_ours, reconcile, three_way
from ._rulejobs import Lookup
from ._sending import SendingHalf
from ._syncbase import Context, Counts, PassReport
from .changes import ENTITY_KINDS, ChangeSet, DeleteItem, LinkIssue
from .config import Direction
from .connector import Applied, TransientError
from .messages import check_replica, send_failure
from .state import ACTIVE, QueueEntry, StateError, Twin, replica_hash
from .workers import Job, Outcome, Pending

__all__ = ["ReceivingHalf", "Started", "SECOND_CHANCE_SECONDS"]

SECOND_CHANCE_SECONDS = 60.0  # when the pass ends sooner (it normally does) the engine makes it due at once


@dataclass
class _Delivery:
    """One queue entry on its way through the steps."""

    entry: QueueEntry
    twin: Twin | None = None
    replica: Mapping[str, Any] | None = None
    key: str | None = None              # the target issue, once known
    issue: dict[str, Any] | None = None  # the target issue before applying
    previous: Mapping[str, Any] | None = None
    id_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    changes: ChangeSet | None = None
    marker: str | None = None           # create intent, or the marker an earlier attempt created with
    applied: Applied | None = None
    matched: dict[str, dict[str, str]] = field(default_factory=dict)  # items found instead of added again
    resent: bool = False                # the replica was rebuilt from a parked sending-side failure
    echo: dict[str, Any] | None = None  # what the target would send back now: recorded, so it is not
    unsent: Outcome | None = None       # … unless the target has unsent changes: then it is sent
    post: dict[str, Any] | None = None
    outcome: str | None = None          # None while going on; "done", "skipped", "dropped", "error", "retry"
    reason: str | None = None
    code: str | None = None
    retry_after: float | None = None

    @property
    def live(self) -> bool:
        return self.outcome is None

    def stop(self, outcome: str, reason: str | None = None, retry_after: float | None = None) -> None:
        self.outcome, self.reason, self.retry_after = outcome, reason, retry_after

    def fail(self, error: BaseException | str) -> None:
        if isinstance(error, TransientError):
            self.stop("retry", str(error), error.retry_after)
        else:
            self.stop("error", str(error))

    @property
    def attempted(self) -> bool:
        """An earlier attempt may have written to the tracker (it crashed, or failed after writing)."""
        return self.entry.attempts > 1 or self.entry.reason is not None


class Started:
    """A claimed batch, prepared, its incoming rules running; `finish()` applies and records it.

    `stale` is set when another batch of the direction was written after this one was prepared: only
    twin() look-ups can have read what that batch wrote (batches hold different twins), so rules that
    made one run again.
    """

    def __init__(self, half: ReceivingHalf, report: PassReport, work: list[_Delivery], live: list[_Delivery],
                 jobs: list[Job], lookup: Lookup) -> None:
        self.half, self.report, self.work, self.live, self.jobs, self.lookup = half, report, work, live, jobs, lookup
        self.pending: Pending | None = None
        self.stale = False
        self.looked_up = False

    def watch(self, kind: str, arg: str) -> Any:
        self.looked_up = self.looked_up or kind == "twin"
        return self.lookup(kind, arg)

    def finish(self) -> None:
        self.half._finish(self)


class ReceivingHalf:
    """Applies `direction`'s messages to `direction.target`.

    `sender` is the same direction's sending half (it rebuilds a parked sending-side failure's replica);
    `echo` is the target's own sending half (None when the reverse direction is disabled).
    """

    def __init__(self, ctx: Context, direction: Direction, sender: SendingHalf, echo: SendingHalf | None) -> None:
        self.ctx, self.sender, self.echo = ctx, sender, echo
        self.source, self.target, self.name = direction.source, direction.target, direction.name
        self.program = ctx.programs[(self.target, "incoming")]
        self.connector = ctx.connectors[self.target]

    def deliver(self, entries: list[QueueEntry], report: PassReport) -> None:
        self.start(entries, report).finish()

    def start(self, entries: list[QueueEntry], report: PassReport) -> Started:
        """Steps 4 and 5's first half: prepare the batch and start its incoming rules (in the workers, which
        run them while the caller writes the batch before); `finish()` applies and records it."""
        work = [_Delivery(e) for e in entries]
        self._resend([d for d in work if send_failure(d.entry) is not None])
        for d in work:
            if d.live and not d.resent:
                d.replica = d.entry.replica
            if d.live:
                self._prepare(d)
        live = [d for d in work if d.live]
        jobs = [Job(self.program, issue=d.issue, replica=d.replica, previous=d.previous, id_maps=d.id_maps)
                for d in live]
        started = Started(self, report, work, live, jobs, self.ctx.lookup_for(self.target))
        started.pending = self.ctx.runner.submit(jobs, started.watch) if jobs else None
        return started

    def _finish(self, started: Started) -> None:
        work, report = started.work, started.report
        counts = report.counts(self.name)
        outcomes = started.pending.result() if started.pending is not None else []
        started.pending = None  # it refers back to `started` (its look-up): no cycle outlives the batch
        if started.stale and started.looked_up:
            # A twin() look-up was answered before the batch ahead of this one recorded its twin links:
            # run these rules again on the state as it is now, as if they had run in turn.
            outcomes = self.ctx.runner.run(started.jobs, started.lookup)
        self._take_outcomes(started.live, outcomes)
        self._apply([d for d in work if d.live])
        self._echoes([d for d in work if d.outcome == "done" and d.applied is not None])
        self._record(work, counts)
        unsent = [d for d in work if d.unsent is not None and d.outcome == "done"]
        if unsent and self.echo is not None:
            # The target had changes of its own that were not sent (made while its twin link was not
            # recorded yet, so noticing passed them by): send them now, behind what was just applied.
            self.echo.send([d.post for d in unsent], report.counts(self.echo.name),
                           outcomes=[d.unsent for d in unsent])

    # ---- steps ----

    def _resend(self, work: list[_Delivery]) -> None:
        """Entries holding a parked sending-side failure: build their replica again from the issue as it is."""
        if not work:
            return
        for d, o in zip(work, self.sender.resend([d.entry for d in work]), strict=True):
            if not o.ok:
                d.stop("retry" if o.transient else "error", o.error)
            elif o.skipped:
                d.stop("skipped")
            else:
                d.replica, d.resent = o.replica or {}, True
                last = self.ctx.store.last_replica(d.entry.twin_id, self.name, "sent")
                if last is not None and last.hash == replica_hash(d.replica):
                    d.stop("dropped")  # the other side has this already

    def _prepare(self, d: _Delivery) -> None:
        """The twin, the target issue (found by its marker after an interrupted create), `previous`, id maps."""
        store = self.ctx.store
        twin = d.twin = store.get_twin(d.entry.twin_id)
        if twin is None or twin.status != ACTIVE:
            d.stop("dropped", "the twin was unlinked")
            return
        try:
            if not self.ctx.trusted:
                check_replica(d.replica)
            d.key = twin.key_on(self.target)
            if d.key is None and d.attempted:
                d.marker = store.create_intent(twin.id, self.target)
                d.key = self.connector.find_by_marker(d.marker)
            if d.key is not None:
                d.issue = self.connector.get_issue(d.key)
                if d.issue is None:
                    d.stop("error", f"{self.target} {d.key} (the twin of {self.source} {d.entry.source_key}) "
                                    "no longer exists; `rulelang unlink` it to sync the issue afresh")
                    return
            if d.key is not None:  # a first sync has no previous replica and no items to map
                stored = store.last_replica(twin.id, self.name, "applied")
                d.previous = stored.replica if stored is not None else None
                d.id_maps = {kind: store.id_map(twin.id, kind, self.target) for kind in ENTITY_KINDS}
        except RulelangError as e:
            d.fail(e)

    def _take_outcomes(self, work: list[_Delivery], outcomes: list[Outcome]) -> None:
        """The incoming rules' change sets, less echoes and what an earlier attempt did."""
        for d, o in zip(work, outcomes, strict=True):
            if not o.ok:
                d.stop("retry" if o.transient else "error", o.error)
                d.code = o.code
            elif o.skipped:
                d.stop("skipped")
            elif o.changes is None:
                d.stop("error", "the incoming rules gave no change set")
            else:
                d.changes = three_way(o.changes, d.replica or {}, d.previous)
                if d.attempted and d.issue is not None:
                    d.changes, d.matched = reconcile(d.changes, d.issue, d.id_maps)

    def _apply(self, work: list[_Delivery]) -> None:
        """Create intents first (committed), then each change set through the connector; stops at Ctrl-C."""
        store = self.ctx.store
        creating = [d for d in work if d.changes is not None and d.changes.create]
        if creating:
            with store.transaction():  # intents are on disk before any create call
                for d in creating:
                    d.marker = store.create_intent(d.entry.twin_id, self.target)
        # A connector that can group writes (the local tracker) commits the batch's writes once.
        grouping = getattr(self.connector, "batch", None)
        with grouping() if callable(grouping) else nullcontext():
            for d in work:
                self._apply_one(d)

    def _apply_one(self, d: _Delivery) -> None:
        if self.ctx.stop.is_set():
            d.stop("retry", "interrupted")
            return
        changes = d.changes
        assert changes is not None
        try:
            if changes.create:
                d.applied = self.connector.apply(None, changes, marker=d.marker)
            elif changes.empty:
                d.applied = Applied(d.key or "")
            else:
                link = any(isinstance(op, LinkIssue) for op in changes.operations)
                d.applied = self.connector.apply(None if link and d.key is None else d.key, changes)
            d.stop("done")
            self.ctx.tick(f"applying to {self.target}")
        except RulelangError as e:
            d.fail(e)
            partial = getattr(e, "applied", None)  # what a connector did before failing part-way
            d.applied = partial if isinstance(partial, Applied) else None
        except Exception as e:  # a connector bug fails this issue, not the sync
            d.stop("error", f"internal error in the {self.target} connector: {type(e).__name__}: {e}")

    def _echoes(self, work: list[_Delivery]) -> None:
        """Remember what the target would send back now, so the change just applied does not bounce.

        Only when that is all that changed: the target had sent everything before (its outgoing rules
        give, for the issue as it was, the replica last sent), and nobody edited it while we applied.
        Otherwise the next pass compares as usual and sends what is new.
        """
        if self.echo is None:
            return
        candidates = []
        for d in work:
            if self.ctx.inflight[(d.entry.twin_id, self.echo.name)]:
                continue  # the target changed too: its own message is on the way, let the next pass compare
            try:
                d.post = self.connector.get_issue(d.applied.key)
            except RulelangError:
                continue
            if d.post is not None and only_ours(d.issue, d.post, d.changes, d.applied):
                candidates.append(d)
        before = [d for d in candidates if d.issue is not None]
        outcomes = self.echo.run([d.issue for d in before] + [d.post for d in candidates])
        was = dict(zip((id(d) for d in before), outcomes[:len(before)], strict=True))
        for d, now in zip(candidates, outcomes[len(before):], strict=True):
            if not now.ok or now.skipped:
                continue
            if id(d) in was:
                old, last = was[id(d)], self.ctx.store.last_replica(d.entry.twin_id, self.echo.name, "sent")
                old_hash = replica_hash(old.replica or {}) if old.ok and not old.skipped else None
                if old_hash != (last.hash if last is not None else None):
                    d.unsent = now  # the target had changes of its own, not sent yet
                    continue
            d.echo = now.replica

    def _record(self, work: list[_Delivery], counts: Counts) -> None:
        """The batch's outcome in one transaction (each entry in a savepoint of its own)."""
        store, limits = self.ctx.store, self.ctx.config.limits
        with store.transaction():
            for d in work:
                try:
                    with store.transaction():
                        self._record_links(d)
                        self._record_one(d, counts)
                except StateError as e:
                    d.stop("error", str(e))
                    store.fail(d.entry.id, str(e))
                    counts.errors += 1
                    continue
                if d.outcome == "retry":
                    attempts = d.entry.attempts
                    if attempts >= limits.max_attempts and d.reason != "interrupted":
                        store.fail(d.entry.id, f"gave up after {attempts} attempts: {d.reason}")
                        counts.errors += 1
                    else:
                        store.postpone(d.entry.id, d.reason or "", _backoff(attempts, d.retry_after, limits)
                                       if d.reason != "interrupted" else 0.0)
                        counts.retrying += d.reason != "interrupted"
                elif d.outcome == "error" and d.code == "X490" and d.entry.attempts == 1:
                    # `fail` often waits for another issue of the same pass (a parent, a linked issue):
                    # one more try once the rest of the queue is through, then the error queue.
                    store.postpone(d.entry.id, d.reason or "", SECOND_CHANCE_SECONDS)
                    self.ctx.second_chance.append(d.entry.id)
                elif d.outcome == "error":
                    store.fail(d.entry.id, d.reason or "failed")
                    store.log("delivery-failed", f"{self.name} {d.entry.source_key}: {d.reason}",
                              level="error", twin_id=d.entry.twin_id)
                    counts.errors += 1

    def _record_links(self, d: _Delivery) -> None:
        """The twin link and item ids of what reached the tracker (also of a delivery that failed part-way)."""
        store, twin_id, applied = self.ctx.store, d.entry.twin_id, d.applied
        if applied is None or not applied.key:
            return
        twin = d.twin
        if twin is not None and twin.key_on(self.target) != applied.key:
            store.link_twin(twin_id, self.target, applied.key)
        if d.marker is not None and (applied.created or d.key == applied.key):
            store.resolve_create(d.marker, applied.key)
        for kind, pairs in d.matched.items():
            store.map_ids(twin_id, kind, self.target, pairs)
        for kind, pairs in applied.created_ids.items():
            store.map_ids(twin_id, kind, self.target, pairs)

    def _record_one(self, d: _Delivery, counts: Counts) -> None:
        store, twin_id = self.ctx.store, d.entry.twin_id
        if d.outcome in ("skipped", "dropped"):
            counts.skipped += d.outcome == "skipped"
            store.complete(d.entry.id)
            self.ctx.settled(twin_id, self.name)
            return
        if d.outcome != "done" or d.applied is None or d.changes is None:
            return
        applied, changes = d.applied, d.changes
        deleted: dict[str, list[str]] = {}
        for op in changes.operations:
            if isinstance(op, DeleteItem):
                deleted.setdefault(op.kind, []).append(op.remote_id)
        for kind, remote_ids in deleted.items():
            store.unmap_ids(twin_id, kind, self.target, remote_ids)
        store.record_replica(twin_id, self.name, "applied", d.replica or {})
        if d.resent:
            store.record_replica(twin_id, self.name, "sent", d.replica or {})
        if d.echo is not None and self.echo is not None:
            store.record_replica(twin_id, self.echo.name, "sent", d.echo)
            if store.last_replica(twin_id, self.echo.name, "applied") is None:
                # The other side holds this state already (it is what it just sent): the baseline its
                # incoming rules compare the target's first message with, as `previous`.
                store.record_replica(twin_id, self.echo.name, "applied", d.echo)
        store.complete(d.entry.id)
        self.ctx.settled(twin_id, self.name)
        counts.applied += 1
        counts.created += bool(applied.created)


def _backoff(attempts: int, retry_after: float | None, limits: Any) -> float:
    """Exponential backoff with jitter (0.5x to 1.5x), never sooner than the server's Retry-After."""
    delay = min(limits.backoff_max_seconds, limits.backoff_seconds * 2 ** max(0, attempts - 1))
    delay *= 0.5 + random.random()
    return max(delay, retry_after or 0.0)
