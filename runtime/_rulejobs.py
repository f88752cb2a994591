"""Running rule jobs, in this process or in a worker process: what a job is, what it gives, and the worker's loop."""

from __future__ import annotations

import importlib
import os
import signal
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from rulelang.errors import RulelangError

from .changes import ChangeSet

__all__ = ["LookupFailed", "Program", "Job", "Outcome", "Lookup", "Lookups", "compile_all", "budgets", "run_one",
           "worker_main"]


class LookupFailed(RulelangError):
    """A look-up a rule made (user(), twin()) failed in the parent; `transient` says if worth retrying."""

    default_code = "T803"

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Program:
    """A rule program by name: its source, file name and kind ("outgoing" / "incoming")."""

    name: str
    source: str
    file: str
    kind: str
    compiler: str = "runtime:compile_rules"  # module:function, importable in a worker
    # The program as the engine compiled it (`Rules.portable()`), when its compiler makes one: a worker then
    # loads it instead of compiling, and never imports the compiler.
    portable: tuple | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Job:
    """One run: `program` on `issue` (outgoing) or on `replica` against `issue` (incoming)."""

    program: str
    issue: Mapping[str, Any] | None = None
    replica: Mapping[str, Any] | None = None
    previous: Mapping[str, Any] | None = None
    id_maps: Mapping[str, Mapping[str, str]] | None = None


@dataclass
class Outcome:
    """What one job gave: a replica (outgoing) or a change set (incoming), a skip, or an error."""

    replica: dict[str, Any] | None = None
    changes: ChangeSet | None = None
    skipped: bool = False
    log: list[Any] = field(default_factory=list)
    error: str | None = None
    code: str | None = None
    transient: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


Lookup = Callable[[str, str], Any]  # (kind "user"/"twin", argument) -> answer


class Lookups:
    """The runtime's Lookups protocol over a look-up function."""

    def __init__(self, lookup: Lookup | None) -> None:
        self._lookup = lookup

    def user(self, email: str) -> dict | None:
        return self._lookup("user", email) if self._lookup else None

    def twin(self, remote_key: str) -> str | None:
        return self._lookup("twin", remote_key) if self._lookup else None


def compile_all(programs: Mapping[str, Program]) -> dict[str, Any]:
    compiled = {}
    for name, p in programs.items():
        if p.portable is not None:
            from runtime.sandbox import load_portable

            compiled[name] = load_portable(p.portable)
            continue
        module, _, func = p.compiler.partition(":")
        compiled[name] = getattr(importlib.import_module(module), func)(p.source, p.file, kind=p.kind)
    return compiled


def budgets(rule_budgets: Mapping[str, Any]) -> Any:
    try:
        from runtime import Limits  # the rules runtime
    except ImportError:  # a stand-in compiler (tests) brings its own budgets
        return None
    if not rule_budgets:
        return None

    known = getattr(Limits, "__dataclass_fields__", {})
    return Limits(**{k: v for k, v in rule_budgets.items() if k in known})


def run_one(compiled: Mapping[str, Any], job: Job, lookups: Lookups, limits: Any) -> Outcome:
    """Run one job; every failure becomes an Outcome with the reason, never an exception."""
    start = time.perf_counter()
    try:
        prog = compiled[job.program]
        if job.replica is None:
            r = prog.run_outgoing(job.issue, lookups=lookups, limits=limits)
            out = Outcome(replica=_plain(r.replica), skipped=bool(r.skipped), log=_plain(list(r.log or ())))
        else:
            r = prog.run_incoming(job.replica, issue=job.issue, previous=job.previous,
                                  id_maps={k: dict(v) for k, v in (job.id_maps or {}).items()},
                                  lookups=lookups, limits=limits)
            out = Outcome(changes=r.changes, skipped=bool(r.skipped), log=_plain(list(r.log or ())))
    except LookupFailed as e:
        out = Outcome(error=str(e), code=e.diagnostic.code, transient=e.transient)
    except RulelangError as e:
        out = Outcome(error=str(e), code=e.diagnostic.code if e.diagnostics else None)
    except MemoryError:
        out = Outcome(error="rules ran out of memory", code="B590")
    except RecursionError:
        out = Outcome(error="rules nested too deeply", code="B591")
    except Exception as e:  # a bug in the runtime must not stop the other issues
        tail = traceback.format_exception_only(type(e), e)[-1].strip()
        out = Outcome(error=f"internal error while running rules: {tail} (please report it)", code="I900")
    out.seconds = time.perf_counter() - start
    return out


def _plain(value: Any) -> Any:
    """Exact JSON types (no mapping proxies or subclasses), so results pickle and compare plainly."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


# ---- the worker process ----------------------------------------------------

def worker_main(conn: Connection, programs: Mapping[str, Program], memory_mb: int,
                 rule_budgets: Mapping[str, Any]) -> None:
    """A worker: limits itself, compiles the programs, then runs batches until told to stop or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not Linux
        pass
    compiled = compile_all(programs)
    limits = budgets(rule_budgets)

    def lookup(kind: str, arg: str) -> Any:
        conn.send(("lookup", kind, arg))
        answer = conn.recv()
        if answer[0] == "error":
            raise LookupFailed(answer[2], transient=answer[1])
        return answer[1]

    lookups = Lookups(lookup)
    conn.send(("ready",))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if msg[0] == "stop":
            return
        _, jobs, cpu_seconds = msg
        _cpu_window(cpu_seconds)
        for i, job in enumerate(jobs):
            outcome = run_one(compiled, job, lookups, limits)
            conn.send(("result", i, outcome))
            if outcome.code == "B590":
                os._exit(3)  # after MemoryError the heap may be in pieces: start clean


def _cpu_window(seconds: float) -> None:
    """Let this batch use `seconds` more CPU time; past it the kernel sends SIGXCPU."""
    try:
        import resource

        used = time.process_time()
        soft = int(used + seconds) + 1
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not Linux
        pass


