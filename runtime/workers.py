"""Rule runs for the sync engine, in-process or in a pool of worker processes the parent can kill (sandbox.md wall 6).

A `RuleRunner` takes a list of jobs (one issue each: an outgoing or an incoming
run of a named program) and returns one `Outcome` per job, in order. A job that
fails (a `fail` statement, a budget, a bad payload, a worker killed past its
wall time or out of memory) fails alone; the others go on. `submit` hands the
jobs over and returns at once (`result()` collects), so the engine writes one
batch while the workers run the next one's rules.

`WorkerPool` starts `workers` processes (forkserver, else spawn) with
RLIMIT_AS = `worker_memory_mb` and an RLIMIT_CPU window per batch, sends
`batch` jobs per round trip, and streams results back one by one: the parent
kills a worker that gives no result for `issue_time_ms` (plus a grace) while
it is collecting, fails that job, and hands the rest of the batch to a fresh
worker. Look-ups the rules make (`user()`, `twin()`) travel back to the
parent, which answers them while collecting.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from rulelang.errors import RulelangError

from ._rulejobs import (
    Job,
    Lookup,
    LookupFailed,
    Lookups,
    Outcome,
    Program,
    budgets,
    compile_all,
    run_one,
    worker_main,
)
from .connector import TransientError

__all__ = [
    "Program", "Job", "Outcome", "Pending", "RuleRunner", "InProcessRunner", "WorkerPool", "LookupFailed",
    "RunnerLimits", "make_runner", "start_fork_server",
]

_STARTUP_SECONDS = 60.0  # a cold worker imports and compiles before its first result
_GRACE_SECONDS = 0.5


@dataclass(frozen=True)
class RunnerLimits:
    """What the runner enforces around the rules' own budgets."""

    workers: int = 2
    batch: int = 50
    memory_mb: int = 256
    issue_seconds: float = 1.0
    rule_budgets: Mapping[str, Any] = field(default_factory=dict)  # passed to runtime.Limits


def _start_context() -> Any:
    """The multiprocessing context workers start from: a fork server where there is one, else spawn."""
    if "forkserver" not in mp.get_all_start_methods():  # pragma: no cover - not Linux
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    # The server imports these once; workers fork from it warm (and never from this process,
    # which holds state, connections and secrets).
    ctx.set_forkserver_preload(["runtime._preload"])
    return ctx


def start_fork_server() -> None:
    """Start the workers' fork server without waiting for it: its imports (most of a worker's start-up)
    then overlap the caller's own (compiling the rules, opening connectors) instead of following them."""
    if _start_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


class Pending(ABC):
    """Jobs handed to a runner; `result()` gives their outcomes, in order, once they are all there."""

    @abstractmethod
    def result(self) -> list[Outcome]: ...


class _Done(Pending):
    def __init__(self, outcomes: list[Outcome]) -> None:
        self._outcomes = outcomes

    def result(self) -> list[Outcome]:
        return self._outcomes


class RuleRunner(ABC):
    """Runs jobs and keeps the time spent inside rules (`rule_seconds`) and the time its caller spent
    waiting for them (`wait_seconds`: handing jobs over, waiting, taking outcomes back).

    `submit` may return before the rules have run (workers run them meanwhile), so rule time can
    overlap the caller's own work and exceed its waiting.
    """

    rule_seconds: float = 0.0
    wait_seconds: float = 0.0

    @abstractmethod
    def submit(self, jobs: list[Job], lookup: Lookup | None = None) -> Pending: ...

    def run(self, jobs: list[Job], lookup: Lookup | None = None) -> list[Outcome]:
        return self.submit(jobs, lookup).result()

    @property
    def overhead_seconds(self) -> float:
        """Waiting beyond the rules' own time: handing jobs to workers and back."""
        return max(0.0, self.wait_seconds - self.rule_seconds)

    def warm(self) -> None:
        """Get ready to run (start workers) without waiting for it."""
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> RuleRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_runner(programs: Mapping[str, Program], limits: RunnerLimits, *, isolate: bool) -> RuleRunner:
    return WorkerPool(programs, limits) if isolate else InProcessRunner(programs, limits)


class InProcessRunner(RuleRunner):
    """Runs rules in this process, at once: for tests of engine logic and `[limits] isolate = false`."""

    def __init__(self, programs: Mapping[str, Program], limits: RunnerLimits) -> None:
        self._compiled = compile_all(programs)
        self._budgets = budgets(limits.rule_budgets)

    def submit(self, jobs: list[Job], lookup: Lookup | None = None) -> Pending:
        start = time.perf_counter()
        lookups = Lookups(lookup)
        outcomes = [run_one(self._compiled, job, lookups, self._budgets) for job in jobs]
        self.rule_seconds += sum(o.seconds for o in outcomes)
        self.wait_seconds += time.perf_counter() - start
        return _Done(outcomes)


class _Worker:
    def __init__(self, ctx: Any, programs: Mapping[str, Program], limits: RunnerLimits) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=worker_main, args=(child, programs, limits.memory_mb,
                                                              dict(limits.rule_budgets)), daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.retiring = False
        self.jobs: list[tuple[int, Job]] = []  # (index in the caller's list, job) not yet answered
        self.deadline = 0.0

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def death(self) -> str:
        self.process.join(5)
        code = self.process.exitcode
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            hint = " (CPU time limit)" if name == "SIGXCPU" else " (out of memory?)" if name == "SIGKILL" else ""
            return f"rules worker died with {name}{hint}"
        if code == 3:
            return "rules ran out of memory"
        return f"rules worker exited unexpectedly (exit code {code})"


class _PoolPending(Pending):
    """One submission to a WorkerPool: its jobs not yet sent, the workers running the rest, the outcomes."""

    def __init__(self, pool: WorkerPool, jobs: list[Job], lookup: Lookup | None) -> None:
        self.pool, self.lookup = pool, lookup
        self.results: list[Outcome | None] = [None] * len(jobs)
        self.todo: list[tuple[int, Job]] = list(enumerate(jobs))
        self.busy: dict[Connection, _Worker] = {}
        self.per_issue = pool.limits.issue_seconds + _GRACE_SECONDS
        self.outcomes: list[Outcome] | None = None

    def dispatch(self) -> None:
        """A chunk of the jobs to every worker not busy yet."""
        pool, size = self.pool, max(1, self.pool.limits.batch)
        try:
            while self.todo and len(self.busy) < pool.limits.workers:
                worker = pool._take()
                chunk, self.todo = self.todo[:size], self.todo[size:]
                worker.jobs = chunk
                worker.deadline = time.monotonic() + (self.per_issue if worker.ready else _STARTUP_SECONDS)
                try:
                    worker.conn.send(("run", [j for _, j in chunk], self.per_issue * len(chunk) + 1))
                except OSError:  # it died while idle: nobody's fault, try again with a fresh one
                    worker.kill()
                    self.todo = chunk + self.todo
                    continue
                self.busy[worker.conn] = worker
        except BaseException:
            self.abandon()
            raise

    def abandon(self) -> None:
        """Mid-batch on Ctrl-C or an error: these workers are in an unknown state."""
        for worker in self.busy.values():
            worker.kill()
        self.busy.clear()
        self.todo = []
        if self.pool._pending is self:
            self.pool._pending = None
        if self.outcomes is None:
            self.finish()

    def finish(self) -> None:
        self.outcomes = [r if r is not None else Outcome(error="rules did not run", code="I900") for r in self.results]
        self.pool.rule_seconds += sum(o.seconds for o in self.outcomes)
        # The look-up is often a method of the caller's object holding this one: dropped, no cycle is left
        # for the collector, and each batch is freed as soon as its caller is done with it.
        self.lookup, self.results = None, []

    def result(self) -> list[Outcome]:
        if self.outcomes is None:
            self.pool._collect(self)
        assert self.outcomes is not None
        return self.outcomes


class WorkerPool(RuleRunner):
    """A small pool of killable worker processes; see the module docstring."""

    def __init__(self, programs: Mapping[str, Program], limits: RunnerLimits) -> None:
        self.programs = dict(programs)
        self.limits = limits
        self._ctx = _start_context()
        self._idle: list[_Worker] = []
        self._pending: _PoolPending | None = None
        self.killed = 0  # workers killed or lost, for tests and stats

    def warm(self) -> None:
        """Start the workers now, so their start-up overlaps the caller's own work (searching, …)."""
        self._idle = [w for w in self._idle if w.process.is_alive()]
        while len(self._idle) < self.limits.workers:
            self._idle.append(_Worker(self._ctx, self.programs, self.limits))

    def _take(self) -> _Worker:
        """An idle live worker, else a new one."""
        while self._idle:
            worker = self._idle.pop()
            if worker.process.is_alive():
                return worker
            worker.kill()
        return _Worker(self._ctx, self.programs, self.limits)

    def submit(self, jobs: list[Job], lookup: Lookup | None = None) -> Pending:
        """Hand the jobs to idle workers and return at once; the workers run them while the caller does
        something else, and `result()` collects. One submission at a time: a new one (or a `run`) first
        collects the one before."""
        if self._pending is not None:
            self._pending.result()
        pending = _PoolPending(self, jobs, lookup)
        self._pending = pending
        start = time.perf_counter()
        try:
            pending.dispatch()
        finally:
            self.wait_seconds += time.perf_counter() - start
        return pending

    def _collect(self, pending: _PoolPending) -> None:
        """Serve the workers of this submission until every job has its outcome (see the module docstring)."""
        start = time.perf_counter()
        now = time.monotonic()
        for worker in pending.busy.values():
            # Results that came while the caller was busy elsewhere wait in the pipe: the clock of a
            # worker's current issue starts when somebody is here to read them.
            worker.deadline = max(worker.deadline, now + self.limits.issue_seconds + _GRACE_SECONDS)
        try:
            while pending.todo or pending.busy:
                pending.dispatch()
                busy = pending.busy
                timeout = max(0.0, min(w.deadline for w in busy.values()) - time.monotonic())
                for conn in wait(list(busy), timeout):
                    worker = busy[conn]
                    if not self._serve(worker, pending.results, pending.lookup):
                        del busy[conn]
                        pending.todo = self._lost(worker, worker.death(), pending.results) + pending.todo
                    elif not worker.jobs:
                        del busy[conn]
                        if worker.retiring:
                            worker.kill()
                        else:
                            self._idle.append(worker)
                    else:
                        worker.deadline = time.monotonic() + pending.per_issue
                now = time.monotonic()
                for conn, worker in list(busy.items()):
                    if worker.deadline <= now:
                        del busy[conn]
                        worker.kill()
                        what = "starting up" if not worker.ready else \
                            f"running rules for more than {self.limits.issue_seconds:g} s on one issue"
                        pending.todo = self._lost(worker, f"rules worker killed: {what}", pending.results) + pending.todo
        except BaseException:
            pending.abandon()
            raise
        finally:
            self.wait_seconds += time.perf_counter() - start
            if self._pending is pending:
                self._pending = None
        pending.finish()

    def _serve(self, worker: _Worker, results: list[Outcome | None], lookup: Lookup | None) -> bool:
        """Handle one message from a worker; False when the worker is gone."""
        try:
            msg = worker.conn.recv()
        except (EOFError, OSError):
            return False
        if msg[0] == "ready":
            worker.ready = True
        elif msg[0] == "result":
            position, _ = worker.jobs[0]  # results come back in the order the jobs went out
            results[position] = msg[2]
            worker.jobs = worker.jobs[1:]
            worker.retiring = msg[2].code == "B590"  # it exits next: the rest of its batch is not to blame
        elif msg[0] == "lookup":
            try:
                answer: tuple = ("answer", lookup(msg[1], msg[2]) if lookup else None)
            except LookupFailed as e:
                answer = ("error", e.transient, str(e))
            except RulelangError as e:
                answer = ("error", isinstance(e, TransientError), str(e))
            worker.conn.send(answer)
        return True

    def _lost(self, worker: _Worker, reason: str, results: list[Outcome | None]) -> list[tuple[int, Job]]:
        """A worker died or was killed: its current job fails with `reason`; the rest go back in the queue."""
        self.killed += 1
        worker.kill()
        if not worker.jobs or worker.retiring:
            return worker.jobs
        (position, _), rest = worker.jobs[0], worker.jobs[1:]
        code = "B592" if "killed" in reason else "B590" if "memory" in reason else "B593"
        results[position] = Outcome(error=reason, code=code)
        return rest

    def close(self) -> None:
        if self._pending is not None:
            self._pending.abandon()
        for worker in self._idle:
            try:
                worker.conn.send(("stop",))
            except OSError:
                pass
            worker.process.join(2)
            worker.kill()
        self._idle.clear()
