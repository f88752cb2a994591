"""The one error family of rulelang and its one renderer (cel-go style: position, source line, caret)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .span import Span

__all__ = [
    "Diagnostic",
    "Findings",
    "RulelangError",
    "RuleSyntaxError",
    "CheckError",
    "RuleRuntimeError",
    "BudgetError",
    "RuleFailed",
    "PayloadError",
    "ConfigError",
    "InternalError",
    "render",
    "render_all",
    "did_you_mean",
]

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: a stable code, a severity, a message, where, and an optional hint."""

    code: str
    message: str
    span: Span | None
    severity: str = ERROR
    hint: str | None = None

    def to_json(self) -> dict:
        out: dict = {"code": self.code, "severity": self.severity, "message": self.message}
        if self.span is not None:
            s = self.span
            out.update(file=s.file, line=s.line, col=s.col, end_line=s.end_line, end_col=s.end_col)
        if self.hint:
            out["hint"] = self.hint
        return out


class Findings:
    """Mixin for results that hold `diagnostics`: their errors and warnings."""

    diagnostics: list[Diagnostic]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == WARNING]


class RulelangError(Exception):
    """Base of every error rulelang raises on purpose; carries one or more diagnostics."""

    default_code = "E000"

    def __init__(self, diagnostics: Diagnostic | Sequence[Diagnostic] | str, span: Span | None = None,
                 *, code: str | None = None, hint: str | None = None) -> None:
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(code or self.default_code, diagnostics, span, ERROR, hint)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(_headline(first) if first else self.__class__.__name__)

    @property
    def diagnostic(self) -> Diagnostic:
        return self.diagnostics[0]

    @property
    def span(self) -> Span | None:
        return self.diagnostics[0].span if self.diagnostics else None

    def render(self, sources: dict[str, str] | None = None) -> str:
        return render_all(self.diagnostics, sources)


class RuleSyntaxError(RulelangError):
    """The rule text does not parse (codes S1xx)."""

    default_code = "S100"


class CheckError(RulelangError):
    """The program parsed but the checker found errors (codes R1xx/R2xx/C3xx)."""

    default_code = "R100"


class RuleRuntimeError(RulelangError):
    """A rule failed while running (codes X4xx): bad operand types, overflow, …"""

    default_code = "X400"


class BudgetError(RuleRuntimeError):
    """A run went past one of its budgets (codes B5xx): steps, sizes, time, output."""

    default_code = "B500"


class RuleFailed(RuleRuntimeError):
    """A rule executed `fail "message"`: the issue waits in the error queue."""

    default_code = "X490"


class PayloadError(RulelangError):
    """An input document (issue, replica, config) is malformed or too large (codes P6xx)."""

    default_code = "P600"


class ConfigError(RulelangError):
    """A connection folder or its config is wrong (codes K7xx)."""

    default_code = "K700"


class InternalError(RulelangError):
    """A bug in rulelang itself (code I900); the message asks the user to report it."""

    default_code = "I900"


def _headline(d: Diagnostic) -> str:
    where = f"{d.span}: " if d.span is not None else ""
    return f"{where}{d.severity} {d.code}: {d.message}"


def render(d: Diagnostic, source: str | None = None) -> str:
    """Render one diagnostic: `file:line:col: severity CODE: message`, the line, a caret underline, a hint."""
    lines = [_headline(d)]
    s = d.span
    if s is not None and source is not None:
        src_lines = source.splitlines()
        if 1 <= s.line <= len(src_lines):
            text = src_lines[s.line - 1]
            shown = text.replace("\t", " ")  # one column per tab keeps the caret under the right character
            if len(shown) > 200:
                lo = max(0, s.col - 80)
                shown = ("…" if lo else "") + shown[lo:lo + 160]
                offset = s.col - lo + (1 if lo else 0)
            else:
                offset = s.col
            width = (s.end_col - s.col) if s.end_line == s.line else max(1, len(text) - s.col + 1)
            width = max(1, min(width, max(1, len(shown) - offset + 1)))
            lines.append("    " + shown)
            lines.append("    " + " " * (offset - 1) + "^" * width)
    if d.hint:
        lines.append(f"    hint: {d.hint}")
    return "\n".join(lines)


def render_all(diagnostics: Iterable[Diagnostic], sources: dict[str, str] | None = None) -> str:
    sources = sources or {}
    return "\n".join(render(d, sources.get(d.span.file) if d.span else None) for d in diagnostics)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt name, or None when nothing is close."""
    import difflib

    cands = list(candidates)
    lowered = {c.lower(): c for c in cands}
    if name.lower() in lowered:
        return lowered[name.lower()]
    got = difflib.get_close_matches(name, cands, n=1, cutoff=0.6)
    return got[0] if got else None


def to_json(diagnostics: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diagnostics], indent=2)
