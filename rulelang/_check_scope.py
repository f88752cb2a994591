"""The checker's bookkeeping per block: declared variables (and whether they are read) and writes not yet read."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from . import nodes as n
from ._check_types import Ty
from .span import Span

__all__ = ["Var", "Scopes", "Writes", "Key", "stops", "first_stop"]

# A written or read location: ("replica", "summary"), ("issue", "custom", "Story Points"), ("$", 3) for
# variable number 3. A read of a key also reads everything under it and everything above it.
Key = tuple

_ids = itertools.count(1)


@dataclass(eq=False)
class Var:
    """A local name: a `let` variable, a `for` variable or a lambda parameter."""

    name: str
    span: Span
    ty: Ty
    kind: str  # "let", "loop" or "param"
    read: bool = False
    uid: int = field(default_factory=lambda: next(_ids))

    @property
    def key(self) -> Key:
        return ("$", self.uid)


class Scopes:
    """Nested blocks of variables; the innermost block is last."""

    def __init__(self) -> None:
        self._stack: list[dict[str, Var]] = []

    def push(self) -> None:
        self._stack.append({})

    def pop(self) -> list[Var]:
        return list(self._stack.pop().values())

    def declare(self, var: Var) -> Var | None:
        """Add var to the innermost block; return the variable it redeclares there, if any."""
        block = self._stack[-1]
        old = block.get(var.name)
        block[var.name] = var
        return old

    def lookup(self, name: str) -> Var | None:
        for block in reversed(self._stack):
            if name in block:
                return block[name]
        return None

    def visible(self) -> list[str]:
        return [name for block in self._stack for name in block]


class Writes:
    """Assignments whose value nothing has read yet, per block (for "overwritten before read").

    Each block keeps its pending writes by key, and for every proper prefix of a pending key the
    keys under it, so that a read costs a few dictionary look-ups, not a scan.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[dict[Key, Span], dict[Key, set[Key]]]] = []
        self._roots: set[str] = set()  # the first part of every key ever written: reads of others change nothing

    def push(self) -> None:
        self._stack.append(({}, {}))

    def pop(self) -> None:
        self._stack.pop()

    def write(self, key: Key, span: Span) -> Span | None:
        """Record an unconditional write in the innermost block; return the unread earlier write of key."""
        pending, below = self._stack[-1]
        earlier = pending.get(key)
        pending[key] = span
        if key:
            self._roots.add(key[0])
        for i in range(1, len(key)):
            below.setdefault(key[:i], set()).add(key)
        return earlier

    def read(self, key: Key) -> None:
        """Everything under key, and every key above it, has now been read."""
        if not key or key[0] not in self._roots:  # `issue.x` in an outgoing program: nothing pending starts there
            return
        for pending, below in self._stack:
            if not pending:
                continue
            for i in range(1, len(key) + 1):
                pending.pop(key[:i], None)
            for k in below.pop(key, ()):
                pending.pop(k, None)


def stops(st: n.Stmt) -> bool:
    """True when every way through st ends in skip or fail."""
    if isinstance(st, n.Skip | n.Fail):
        return True
    if isinstance(st, n.If) and st.orelse is not None:
        return all(any(stops(s) for s in b.stmts) for b in (*(b for _, b in st.branches), st.orelse))
    return False


def first_stop(st: n.Stmt) -> n.Stmt:
    for node in n.walk(st):
        if isinstance(node, n.Skip | n.Fail):
            return node
    return st  # pragma: no cover
