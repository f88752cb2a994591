"""Per-run budgets: the Limits a caller may override, the run State that counts steps and time, and the traps."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Limits", "DEFAULT_LIMITS", "State", "Trap", "BudgetTrap", "SkipSignal", "FailSignal", "tick",
           "LogLine", "CHARGE_UNIT"]

# Size-charged work: building or scanning this many characters or elements costs one step.
CHARGE_UNIT = 1024
# How many steps pass between two looks at the clock (a clock read costs more than a step).
CLOCK_EVERY = 256


@dataclass(frozen=True)
class Limits:
    """The budgets of one rule run (docs/sandbox.md); each exceeded limit raises its own BudgetError code."""

    max_steps: int = 100_000            # B501: loop iterations, lambda calls, size-charged work
    max_text: int = 1_000_000           # B502: characters in any text built
    max_items: int = 10_000             # B503: elements in any list or map built
    max_pattern: int = 1_000            # B504: characters in a `matches` pattern
    max_user_lookups: int = 20          # B505: distinct user() look-ups per run
    max_output: int = 1024 * 1024       # B506: output size (compact JSON characters)
    wall_time: float = 0.100            # B507: seconds per run
    max_depth: int = 64                 # B508: nesting of any value built (maps in lists in maps …)


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class LogLine:
    """One `log` line: where the statement is and the text it produced."""

    line: int
    col: int
    text: str


class Trap(Exception):
    """Raised by runtime functions; the runner turns it into a positioned RuleRuntimeError."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


class BudgetTrap(Trap):
    """A budget was exceeded; becomes a BudgetError."""


class SkipSignal(Exception):
    def __init__(self, reason: str | None, sid: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sid = sid


class FailSignal(Exception):
    def __init__(self, message: str, sid: int) -> None:
        super().__init__(message)
        self.message = message
        self.sid = sid


class State:
    """Everything one run may change; made fresh for every run and dropped after it."""

    __slots__ = ("limits", "steps", "check_at", "clock_at", "deadline", "started", "max_text", "max_items",
                 "max_depth", "log", "explain", "owned", "lookups", "users", "twins", "spans", "now_text",
                 "log_size", "batches")

    def __init__(self, limits: Limits, lookups: Any, spans: tuple, batches: dict | None = None) -> None:
        self.limits = limits
        self.steps = 0
        self.started = time.perf_counter()
        self.deadline = self.started + limits.wall_time
        self.clock_at = CLOCK_EVERY
        self.check_at = min(CLOCK_EVERY, limits.max_steps)
        self.max_text = limits.max_text
        self.max_items = limits.max_items
        self.max_depth = limits.max_depth
        self.log: list[LogLine] = []
        self.explain: dict[tuple, int] = {}
        # Containers this run made and put in the output: only these may be changed in place. Keeping
        # the objects (not just ids) keeps their ids from being reused by other objects during the run.
        self.owned: dict[int, Any] = {}
        self.lookups = lookups
        self.users: dict[str, Any] = {}
        self.twins: dict[str, Any] = {}
        self.spans = spans
        self.now_text: str | None = None
        self.log_size = 0
        # What `rt_set_many` works out once per call site (its explain entries): shared by the runs of one
        # program (the Rules object passes its own), never by two programs.
        self.batches: dict[int, Any] = {} if batches is None else batches


def tick(rt: State) -> None:
    """Called when `rt.steps` passes `rt.check_at`: enforce the step budget and, now and then, the clock."""
    limits = rt.limits
    if rt.steps > limits.max_steps:
        raise BudgetTrap("B501", f"step budget exceeded: more than {limits.max_steps:,} steps (loop iterations, "
                         "lambda calls and size-charged work)", "filter lists before looping over them")
    if rt.steps >= rt.clock_at:
        rt.clock_at = rt.steps + CLOCK_EVERY
        if time.perf_counter() > rt.deadline:
            raise BudgetTrap("B507", f"wall time exceeded: the run took more than {limits.wall_time * 1000:g} ms")
    rt.check_at = min(rt.clock_at, limits.max_steps)
