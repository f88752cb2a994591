"""The sending half of one direction: notice changed issues, run the outgoing rules, post replica messages.

Steps 1-3 of the design. For each batch of noticed issues, the replicas, the
`sent` records and the cursor advance commit in one transaction, so after a
crash the batch is simply noticed again: its replicas equal the ones already
sent and are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from rulelang.errors import RulelangError

from ._isotime import canonical
from ._syncbase import Context, Counts, PassReport, batches
from .config import Direction, Trigger
from .connector import ConnectorError, TransientError
from .messages import Outbox, ReplicaMessage, new_message_id, send_failure
from .state import ERROR, PENDING, QueueEntry, replica_hash
from .workers import Job, Outcome, Pending

__all__ = ["SendingHalf"]


@dataclass
class _Ahead:
    """A noticed batch whose outgoing rules are running: what to queue once they are done."""

    issues: list[Mapping[str, Any]]
    pending: Pending
    cursor: str | None
    known: dict[str, Any]  # the twins looked up while choosing it
    size: int  # issues noticed, in scope or not


class _Nothing(Pending):
    def result(self) -> list[Outcome]:
        return []


_NONE = _Nothing()


class SendingHalf:
    """Turns `direction.source`'s issues into replica messages for `direction.target`."""

    def __init__(self, ctx: Context, direction: Direction, outbox: Outbox) -> None:
        self.ctx, self.outbox = ctx, outbox
        self.source, self.target, self.name = direction.source, direction.target, direction.name
        self.program = ctx.programs[(self.source, "outgoing")]
        self.triggers = ctx.config.triggers_of(self.source)
        self.reverse = ctx.config.direction(self.target, self.source).name
        self._known: dict[str, Any] = {}  # twins looked up while choosing a batch, used again when posting it

    # ---- noticing ----

    def poll(self, report: PassReport) -> None:
        """Notice every issue changed since the cursor; queue replicas of those in scope.

        Pipelined: a batch's outgoing rules run in the workers while the batch before it is written (its
        replicas queued, the cursor moved, committed). Batches hold different issues, and what a batch
        writes (its own twins, replicas and messages) is nothing the next one's rules read.
        """
        ctx, counts = self.ctx, report.counts(self.name)
        connector = ctx.connectors[self.source]
        hold: str | None = None  # the cursor stops at the first deferred issue, to notice it again next pass
        ahead: _Ahead | None = None  # the batch whose rules are running
        try:
            found = connector.search(None, updated_since=ctx.store.cursor(self.source))
            for batch in batches(found, ctx.chunk):
                stamps = [s for s in (canonical(i.get("updated") or "") for i in batch) if s]
                chosen, known = [], {}
                for issue in batch:
                    scope = self._scope(issue, known)
                    if scope == "deferred":
                        counts.deferred += 1
                        hold = hold or canonical(issue.get("updated") or "") or min(stamps, default=None)
                    elif scope:
                        chosen.append(issue)
                running = _Ahead(chosen, self.submit(chosen), hold or max(stamps, default=None), known, len(batch))
                if ahead is not None:
                    self._write(ahead, counts)
                ahead = running
                if ctx.stop.is_set():
                    report.interrupted = True
                    break
        except ConnectorError as e:
            report.problems.append(f"{self.source}: searching for changes failed: {e}")
            ctx.store.log("search-failed", str(e), level="error", data={"instance": self.source})
        if ahead is not None:
            self._write(ahead, counts)
        self.collect_unreadable(report)

    def _write(self, ahead: _Ahead, counts: Counts) -> None:
        self._known = ahead.known
        try:
            self.send(ahead.issues, counts, cursor=ahead.cursor, outcomes=ahead.pending.result())
        finally:
            self._known = {}
        self.ctx.tick(f"noticing {self.source}", ahead.size)

    def bulk(self, trigger: Trigger, report: PassReport) -> None:
        """Push every issue the trigger matches, whatever the cursor says."""
        ctx = self.ctx
        try:
            found = ctx.connectors[self.source].search(trigger.query.text or None)
            for batch in batches(found, ctx.chunk):
                self.send(batch, report.counts(self.name))
                ctx.tick(f"pushing {self.source}", len(batch))
                if ctx.stop.is_set():
                    report.interrupted = True
                    break
        except ConnectorError as e:
            report.problems.append(f"{self.source}: trigger {trigger.number} search failed: {e}")
        self.collect_unreadable(report)

    def collect_unreadable(self, report: PassReport) -> None:
        """Issues the connector skipped because their stored data is malformed (the local tracker keeps them)."""
        errors = getattr(self.ctx.connectors[self.source], "errors", None)
        for e in errors or ():
            report.unreadable.append(f"{self.source}: {e}")
            self.ctx.store.log("unreadable", str(e), level="error", data={"instance": self.source})

    def _scope(self, issue: Mapping[str, Any], known: dict[str, Any]) -> bool | str:
        """True for a twin or an issue a trigger matches; "deferred" while a message to this very issue
        is half-way (an attempt was interrupted): it may hold items whose ids are not recorded yet, so
        it is sent once that message is through. The twin is kept in `known` for posting."""
        twin = known[str(issue.get("key"))] = self.ctx.store.twin_for(self.source, issue.get("key"))
        if twin is not None:
            return "deferred" if (twin.id, self.reverse) in self.ctx.unsettled else True
        return any(t.query.matches(issue) for t in self.triggers)

    # ---- sending ----

    def send(self, issues: list[Mapping[str, Any]], counts: Counts, *, cursor: str | None = None,
             outcomes: list[Outcome] | None = None) -> None:
        """Run the outgoing rules on these issues (unless their `outcomes` are known) and queue what changed,
        with the cursor advance, atomically."""
        ctx = self.ctx
        if outcomes is None:
            outcomes = self.run(issues)
        with ctx.store.transaction():
            for issue, outcome in zip(issues, outcomes, strict=True):
                self._post(str(issue["key"]), outcome, counts)
            if cursor is not None:
                ctx.store.set_cursor(self.source, cursor)
        counts.noticed += len(issues)

    def run(self, issues: Iterable[Mapping[str, Any]]) -> list[Outcome]:
        return self.submit(issues).result()

    def submit(self, issues: Iterable[Mapping[str, Any]]) -> Pending:
        """The outgoing rules on these issues, started; `result()` waits for them."""
        jobs = [Job(self.program, issue=issue) for issue in issues]
        return self.ctx.runner.submit(jobs, self.ctx.lookup_for(self.source)) if jobs else _NONE

    def _post(self, key: str, outcome: Outcome, counts: Counts) -> None:
        store = self.ctx.store
        if outcome.skipped and outcome.ok:
            counts.skipped += 1
            return
        twin = self._known.pop(key) if key in self._known else store.twin_for(self.source, key)
        if not outcome.ok:
            if twin is not None and self._failure_parked(twin.id):
                return  # noticed again before anyone retried: parked once is enough
            ack = self.outbox.post(self._message(key, failure=outcome.error))
            if ack.entry_id is not None:
                store.fail(ack.entry_id, outcome.error or "outgoing rules failed")
                self.ctx.inflight[(ack.twin_id, self.name)] += 1
            store.log("send-failed", f"{self.source} {key}: {outcome.error}", level="error", twin_id=ack.twin_id)
            counts.errors += 1
            return
        replica = outcome.replica or {}
        if twin is not None:
            last = store.last_replica(twin.id, self.name, "sent")
            if last is not None and last.hash == replica_hash(replica):
                counts.unchanged += 1
                return
        ack = self.outbox.post(self._message(key, replica=replica))
        if not ack.repeat:
            store.record_replica(ack.twin_id, self.name, "sent", replica)
            self.ctx.inflight[(ack.twin_id, self.name)] += 1
            counts.sent += 1

    def _message(self, key: str, *, replica: Mapping[str, Any] | None = None,
                 failure: str | None = None) -> ReplicaMessage:
        return ReplicaMessage(new_message_id(), self.ctx.config.name, self.name, self.source, key,
                              replica=replica or {}, failure=failure)

    def _failure_parked(self, twin_id: int) -> bool:
        return any(e.direction == self.name and send_failure(e) is not None
                   for state in (ERROR, PENDING) for e in self.ctx.store.entries(state=state, twin_id=twin_id))

    # ---- a parked sending-side failure, retried ----

    def resend(self, entries: list[QueueEntry]) -> list[Outcome]:
        """Build the replica again from each entry's source issue as it is now (after `retry`)."""
        issues: list[Mapping[str, Any] | None] = []
        for entry in entries:
            try:
                issues.append(self.ctx.connectors[self.source].get_issue(entry.source_key))
            except RulelangError as e:  # a tracker error or a malformed issue fails alone
                issues.append({"__error__": e})
        found = [i for i in issues if i is not None and "__error__" not in i]
        outcomes = iter(self.run(found))
        out = []
        for entry, issue in zip(entries, issues, strict=True):
            if issue is None:
                out.append(Outcome(error=f"{self.source} {entry.source_key} no longer exists", code="T804"))
            elif "__error__" in issue:
                e = issue["__error__"]
                out.append(Outcome(error=str(e), transient=isinstance(e, TransientError)))
            else:
                out.append(next(outcomes))
        return out
