"""Rule runs for the sync engine, in-process or in a pool of worker processes the parent can kill (sandbox.md wall 6).

A `RuleRunner` takes a list of jobs (one issue each: an outgoing or an incoming
run of a named program) and returns one `Outcome` per job, in order. A job that
fails (a `fail` statement, a budget, a bad payload, a worker killed past its
wall time or out of memory) fails alone; the others go on.

`WorkerPool` starts `workers` processes (forkserver, else spawn) with
RLIMIT_AS = `worker_memory_mb` and an RLIMIT_CPU window per batch, sends
`batch` jobs per round trip, and streams results back one by one: the parent
kills a worker that gives no result for `issue_time_ms` (plus a grace), fails
that job, and hands the rest of the batch to a fresh worker. Look-ups the
rules make (`user()`, `twin()`) travel back to the parent, which answers them.
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
    "Program", "Job", "Outcome", "RuleRunner", "InProcessRunner", "WorkerPool", "LookupFailed",
    "RunnerLimits", "make_runner",
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


class RuleRunner(ABC):
    """Runs jobs and keeps the time spent inside rules (`rule_seconds`) and around them (`overhead_seconds`)."""

    rule_seconds: float = 0.0
    overhead_seconds: float = 0.0

    @abstractmethod
    def run(self, jobs: list[Job], lookup: Lookup | None = None) -> list[Outcome]: ...

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
    """Runs rules in this process: for tests of engine logic and `[limits] isolate = false`."""

    def __init__(self, programs: Mapping[str, Program], limits: RunnerLimits) -> None:
        self._compiled = compile_all(programs)
        self._budgets = budgets(limits.rule_budgets)

    def run(self, jobs: list[Job], lookup: Lookup | None = None) -> list[Outcome]:
        start = time.perf_counter()
        lookups = Lookups(lookup)
        outcomes = [run_one(self._compiled, job, lookups, self._budgets) for job in jobs]
        spent = sum(o.seconds for o in outcomes)
        self.rule_seconds += spent
        self.overhead_seconds += max(0.0, time.perf_counter() - start - spent)
        return outcomes


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


class WorkerPool(RuleRunner):
    """A small pool of killable worker processes; see the module docstring."""

    def __init__(self, programs: Mapping[str, Program], limits: RunnerLimits) -> None:
        self.programs = dict(programs)
        self.limits = limits
        if "forkserver" in mp.get_all_start_methods():
            self._ctx = mp.get_context("forkserver")
            # The server imports these once; workers fork from it warm (and never from this process,
            # which holds state, connections and secrets).
            self._ctx.set_forkserver_preload(["__main__", "runtime._preload"])
        else:  # pragma: no cover - not Linux
            self._ctx = mp.get_context("spawn")
        self._idle: list[_Worker] = []
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

    def run(self, jobs: list[Job], lookup: Lookup | None = None) -> list[Outcome]:
        start = time.perf_counter()
        results: list[Outcome | None] = [None] * len(jobs)
        todo = list(enumerate(jobs))
        busy: dict[Connection, _Worker] = {}
        per_issue = self.limits.issue_seconds + _GRACE_SECONDS
        size = max(1, self.limits.batch)
        try:
            while todo or busy:
                while todo and len(busy) < self.limits.workers:
                    worker = self._take()
                    chunk, todo = todo[:size], todo[size:]
                    worker.jobs = chunk
                    worker.deadline = time.monotonic() + (per_issue if worker.ready else _STARTUP_SECONDS)
                    try:
                        worker.conn.send(("run", [j for _, j in chunk], per_issue * len(chunk) + 1))
                    except OSError:  # it died while idle: nobody's fault, try again with a fresh one
                        worker.kill()
                        todo = chunk + todo
                        continue
                    busy[worker.conn] = worker
                timeout = max(0.0, min(w.deadline for w in busy.values()) - time.monotonic())
                for conn in wait(list(busy), timeout):
                    worker = busy[conn]
                    if not self._serve(worker, results, lookup):
                        del busy[conn]
                        todo = self._lost(worker, worker.death(), results) + todo
                    elif not worker.jobs:
                        del busy[conn]
                        if worker.retiring:
                            worker.kill()
                        else:
                            self._idle.append(worker)
                    else:
                        worker.deadline = time.monotonic() + per_issue
                now = time.monotonic()
                for conn, worker in list(busy.items()):
                    if worker.deadline <= now:
                        del busy[conn]
                        worker.kill()
                        what = "starting up" if not worker.ready else \
                            f"running rules for more than {self.limits.issue_seconds:g} s on one issue"
                        todo = self._lost(worker, f"rules worker killed: {what}", results) + todo
        except BaseException:
            for worker in busy.values():  # mid-batch on Ctrl-C or an error: these workers are in an unknown state
                worker.kill()
            raise
        outcomes = [r if r is not None else Outcome(error="rules did not run", code="I900") for r in results]
        spent = sum(o.seconds for o in outcomes)
        self.rule_seconds += spent
        self.overhead_seconds += max(0.0, time.perf_counter() - start - spent)
        return outcomes

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
        for worker in self._idle:
            try:
                worker.conn.send(("stop",))
            except OSError:
                pass
            worker.process.join(2)
            worker.kill()
        self._idle.clear()
