"""Running compiled rules: globals no run can change, guard hooks that refuse, budgets, and errors mapped to rule positions."""

from __future__ import annotations

import types
from typing import Any

from rulelang import abi
from rulelang.compiled import CompiledProgram
from rulelang.errors import (
    BudgetError,
    Diagnostic,
    InternalError,
    PayloadError,
    RuleFailed,
    RulelangError,
    RuleRuntimeError,
)
from rulelang.span import Span

from ._iterate import ITERATION, LIST_ITERATOR, Chunked
from .apply import Explain, IncomingResult, OutgoingResult, finish_incoming
from .budget import DEFAULT_LIMITS, BudgetTrap, FailSignal, Limits, SkipSignal, State, Trap
from .changes import ChangeSet
from .functions import CORE
from .lookups import Lookups
from .methods import METHODS_AND_BUILTINS
from .values import NotJson, export

__all__ = ["Rules", "compile_rules", "load_portable", "IMPLEMENTATIONS", "GUARD_NAMES"]

# One implementation per ABI name, no more and no less (a test checks it again).
IMPLEMENTATIONS: dict[str, Any] = {**CORE, **METHODS_AND_BUILTINS, **ITERATION}
if set(IMPLEMENTATIONS) != set(abi.FUNCTIONS):
    raise ImportError(f"runtime ABI mismatch: {sorted(set(IMPLEMENTATIONS) ^ set(abi.FUNCTIONS))}")

# RestrictedPython's hooks. Generated code never needs them, so each one raises if it is ever reached; the one
# exception is `_getiter_`, which RestrictedPython puts around a comprehension's iterable: it lets through
# only what `rt_iter` hands out (an iterator over a list already charged, or a Chunked) and refuses the rest,
# lists included (generated code has no other way to make an iterator: no builtins).
GUARD_NAMES = ("_getattr_", "_getitem_", "_getiter_", "_write_", "_inplacevar_", "_iter_unpack_sequence_",
               "_unpack_sequence_", "_apply_", "_print_", "_import_", "__metaclass__")


class _GuardCalled(Exception):
    pass


def _refuse(name: str):
    def guard(*args: Any, **kwargs: Any) -> None:
        raise _GuardCalled(name)
    return guard


def _getiter(it: Any) -> Any:
    # The verifier lets a comprehension loop only over a temporary bound to an rt_iter result.
    if type(it) is LIST_ITERATOR or type(it) is Chunked:
        return it
    raise _GuardCalled("_getiter_")


_GUARDS = {name: _refuse(name) for name in GUARD_NAMES}
_GUARDS["_getiter_"] = _getiter


def _base_globals(codes: frozenset) -> dict[str, Any]:
    """The ABI functions this program names, plus the refusing guard hooks (see `_program_globals`)."""
    used = set()
    for code in codes:
        used.update(code.co_names)
    base = {name: fn for name, fn in IMPLEMENTATIONS.items() if name in used}
    base.update(_GUARDS)
    return base


def _program_globals(base: dict[str, Any]) -> dict[str, Any]:
    """The globals of a program's runs: made once per Rules object, since generated code cannot store a
    global (the verifier admits no `global` statement and every name it stores is local) and runtime
    functions never see them. Keeping one dict keeps CPython's global-lookup caches warm from run to run
    (a fresh copy per run cost about 6% of the outgoing workload); `Rules._run` still checks after every
    run that they are as made, so a wall that failed could not carry anything to the next run."""
    g = base.copy()
    g["rt_E"] = {}
    g["__builtins__"] = {}  # safe builtins = none (without the key Python would lend the real ones)
    return g


class Rules:
    """A compiled rule program: compile once, run many times (each run in fresh state)."""

    def __init__(self, compiled: CompiledProgram) -> None:
        self._compiled = compiled
        self.kind: str = compiled.kind
        self.file: str = compiled.file
        self.source: str = compiled.source
        self.warnings = compiled.warnings
        self._line_starts: list[int] | None = None
        self._base = _base_globals(compiled.codes)
        self._globals = _program_globals(self._base)
        self._pristine = _program_globals(self._base)  # what `_globals` must equal after every run
        self._batches: dict[int, Any] = {}  # rt_set_many's per-call-site entries (State.batches)

    def python(self) -> str:
        """The generated Python, for bug reports."""
        return self._compiled.python()

    def portable(self) -> tuple:
        """These compiled rules as plain data, for `load_portable` in a rules worker (CompiledProgram.portable)."""
        return self._compiled.portable()

    # ---- the two entry points

    def run_outgoing(self, issue: dict, *, lookups: Lookups | None = None, limits: Limits | None = None,
                     connection: dict | None = None) -> OutgoingResult:
        """Run outgoing rules on a local issue: the replica to send (or why it was skipped)."""
        self._need("outgoing")
        limits = limits or DEFAULT_LIMITS
        _need_map(issue, "issue")
        out: dict = {}
        state, skipped = self._run((out, issue, dict(connection or {})), limits, lookups)
        explain = Explain(state.explain, self._compiled.spans)
        if skipped is not None:
            return OutgoingResult(None, skipped, state.log, explain)
        try:
            replica = export(out, limits.max_output, limits.max_depth)[0]
        except (Trap, NotJson) as e:
            raise self._export_error(e) from None
        return OutgoingResult(replica, None, state.log, explain)

    def run_incoming(self, replica: dict, *, issue: dict | None = None, previous: dict | None = None,
                     id_maps: dict[str, dict[str, str]] | None = None, lookups: Lookups | None = None,
                     limits: Limits | None = None, connection: dict | None = None) -> IncomingResult:
        """Run incoming rules: the change set for the local twin (`issue`; None on the first sync)."""
        self._need("incoming")
        limits = limits or DEFAULT_LIMITS
        _need_map(replica, "replica")
        if issue is not None:
            _need_map(issue, "issue")
        if previous is not None:
            _need_map(previous, "previous")
        out = dict(issue) if issue is not None else {}
        args = (out, replica, previous, issue is None, dict(connection or {}))
        state, skipped = self._run(args, limits, lookups)
        spans = {path: self._compiled.spans[sid] for path, sid in state.explain.items()}
        explain = Explain(state.explain, self._compiled.spans)
        if skipped is not None:
            return IncomingResult(dict(issue or {}), ChangeSet(False, ()), skipped, state.log, explain)
        try:
            result, changes = finish_incoming(out, issue, spans, id_maps or {}, limits)
        except (Trap, NotJson) as e:
            raise self._export_error(e) from None
        return IncomingResult(result, changes, None, state.log, explain)

    # ---- running

    def _need(self, kind: str) -> None:
        if self.kind != kind:
            raise RulelangError(Diagnostic("R118", f"these are {self.kind} rules; run_{kind} needs {kind} rules",
                                           None))

    def _run(self, args: tuple, limits: Limits, lookups: Lookups | None) -> tuple[State, str | None]:
        g = self._globals
        try:
            return self._run_in(g, args, limits, lookups)
        finally:
            if g != self._pristine:  # functions compare by identity, rt_E and __builtins__ must still be empty
                self._globals, self._pristine = _program_globals(self._base), _program_globals(self._base)
                raise InternalError(Diagnostic("I900", "internal error in the rule runtime (a run changed its "
                                               "globals); please report this with the rule file and the input",
                                               None))

    def _run_in(self, g: dict[str, Any], args: tuple, limits: Limits, lookups: Lookups | None
                ) -> tuple[State, str | None]:
        compiled = self._compiled
        state = State(limits, lookups, compiled.spans, self._batches)
        fn = types.FunctionType(compiled.entry, g, abi.ENTRY)
        try:
            fn(state, *args)
        except SkipSignal as s:
            span = compiled.spans[s.sid]
            return state, s.reason if s.reason is not None else f"skipped by the rule at line {span.line}"
        except FailSignal as f:
            raise RuleFailed(Diagnostic("X490", f.message or "the rules failed", compiled.spans[f.sid])) from None
        except BudgetTrap as t:
            raise BudgetError(Diagnostic(t.code, t.message, self._where(t), hint=t.hint)) from None
        except Trap as t:
            raise RuleRuntimeError(Diagnostic(t.code, t.message, self._where(t), hint=t.hint)) from None
        except (RecursionError, MemoryError) as e:
            what = "memory" if isinstance(e, MemoryError) else "stack"
            raise BudgetError(Diagnostic("B509", f"the run needed too much {what}", self._where(e))) from None
        except TypeError as e:
            if self._raised_in_rules(e) and "'get' for 'dict' objects" in str(e):
                kind = _kind_in_message(str(e))
                raise RuleRuntimeError(Diagnostic("X410", f"cannot read a field of {kind}: only maps have fields",
                                                  self._where(e))) from None
            raise self._internal(e) from None
        except RulelangError:
            raise
        except Exception as e:  # a bug in the runtime, never the rules' fault
            raise self._internal(e) from None
        return state, None

    def _internal(self, e: BaseException) -> InternalError:
        what = "a guard hook was called" if isinstance(e, _GuardCalled) else f"{type(e).__name__}: {e}"
        return InternalError(Diagnostic("I900", f"internal error in the rule runtime ({what}); please report this "
                                        "with the rule file and the input", self._where(e)))

    def _export_error(self, e: Exception) -> RulelangError:
        if isinstance(e, NotJson):
            return PayloadError(Diagnostic("P609", f"the output holds a value that is not JSON ({e}): inputs must "
                                           "be JSON values", None))
        cls = BudgetError if isinstance(e, BudgetTrap) else RuleRuntimeError
        return cls(Diagnostic(e.code, e.message, Span(self.file, 1, 1, 1, 2), hint=e.hint))

    def _raised_in_rules(self, e: BaseException) -> bool:
        tb = e.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        return tb is not None and tb.tb_frame.f_code in self._compiled.codes

    def _where(self, e: BaseException) -> Span | None:
        """The rule position of the innermost generated-code frame: its code positions are rule spans."""
        found = None
        tb = e.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code in self._compiled.codes:
                found = tb
            tb = tb.tb_next
        if found is None:
            return None
        positions = list(found.tb_frame.f_code.co_positions())
        index = found.tb_lasti // 2
        if not 0 <= index < len(positions) or positions[index][0] is None:
            return None
        line, end_line, col, end_col = positions[index]
        return self._span(line, (col or 0) + 1, end_line or line, (end_col or col or 0) + 1)

    def _span(self, line: int, col: int, end_line: int, end_col: int) -> Span:
        if self._line_starts is None:
            starts = [0]
            for i, ch in enumerate(self.source):
                if ch == "\n":
                    starts.append(i + 1)
            self._line_starts = starts
        starts = self._line_starts

        def offset(ln: int, c: int) -> int:
            return starts[min(ln, len(starts)) - 1] + c - 1

        return Span(self.file, line, col, end_line, end_col, offset(line, col), offset(end_line, end_col))


def _kind_in_message(message: str) -> str:
    import re

    m = re.search(r"a '(\w+)' object", message)
    names = {"str": "a text", "list": "a list", "int": "a number", "float": "a number", "bool": "a bool"}
    return names.get(m.group(1), "this value") if m else "this value"


def _need_map(value: Any, what: str) -> None:
    if type(value) is not dict:
        raise PayloadError(Diagnostic("P608", f"the {what} must be a JSON object, not {type(value).__name__}", None))


def compile_rules(source: str | bytes, file: str = "<rules>", *, kind: str | None = None) -> Rules:
    """Compile rule text (cached by content hash); raises RulelangError — a CheckError holds every error."""
    from rulelang.codegen import compile_source

    return Rules(compile_source(source, file, kind))


def load_portable(data: tuple) -> Rules:
    """Rules from `Rules.portable()`, without the compiler (which is imported only to compile)."""
    return Rules(CompiledProgram.from_portable(data))
