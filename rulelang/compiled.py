"""A compiled rule program: what the compiler hands the runtime, and its portable form for worker processes."""

from __future__ import annotations

import ast
import marshal
import types
from dataclasses import dataclass, field

from .errors import Diagnostic
from .span import Span

__all__ = ["CompiledProgram", "all_codes"]


@dataclass(frozen=True, eq=False)
class CompiledProgram:
    """A program ready to run: its entry code object, the statement span table, and where it came from."""

    file: str
    source: str
    kind: str
    entry: types.CodeType
    spans: tuple[Span, ...]
    codes: frozenset[types.CodeType]
    module: ast.Module | None = field(repr=False)  # None when loaded from its portable form
    digest: str = ""
    warnings: tuple[Diagnostic, ...] = ()

    def python(self) -> str:
        """The generated Python as text (`rulelang compile`)."""
        if self.module is None:
            from .codegen import compile_source

            return compile_source(self.source, self.file, self.kind).python()
        return ast.unparse(self.module) + "\n"

    def portable(self) -> tuple:
        """Plain data (the code as `marshal` bytes) from which `from_portable` rebuilds this program in a rules
        worker, which then runs it without the compiler (and never imports it)."""
        return (self.file, self.source, self.kind, marshal.dumps(self.entry), self.spans, self.digest, self.warnings)

    @classmethod
    def from_portable(cls, data: tuple) -> CompiledProgram:
        """Only ever for data this project's own engine compiled and verified; marshal needs the same
        interpreter, which a worker has (it forks from the engine's fork server)."""
        file, source, kind, code, spans, digest, warnings = data
        entry = marshal.loads(code)
        return cls(file, source, kind, entry, tuple(spans), all_codes(entry), None, digest, tuple(warnings))


def all_codes(entry: types.CodeType) -> frozenset[types.CodeType]:
    """The entry and every function nested in it (lambdas, loop bodies): run-time errors map through these."""
    out, stack = set(), [entry]
    while stack:
        c = stack.pop()
        out.add(c)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return frozenset(out)
