"""The front end composed: rule text → parse → check, with syntax errors kept as diagnostics like every other finding.

    checked = load(text, "qa-out.rules", kind="outgoing")
    if checked.ok:
        ... checked.program, checked.kind ...   # hand to codegen
    else:
        print(checked.render())

`load` never raises for a bad program (a syntax error is one more diagnostic, and then
`program` is None); `load_file` raises ConfigError (code K700) when the file cannot be read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import nodes as n
from .check import check
from .errors import ConfigError, Diagnostic, Findings, RuleSyntaxError, render
from .parse import DEFAULT_LIMITS, ParseLimits, decode_source, normalize, parse
from .span import Span

__all__ = ["Checked", "load", "load_file"]


@dataclass(frozen=True)
class Checked(Findings):
    """One rule file through the front end.

    program: the syntax tree, or None when the text does not parse.
    kind: "outgoing", "incoming" or "connection" (given or inferred); None only when the text does
        not parse and no kind was given.
    diagnostics: syntax error (at most one: parsing stops there) or every check finding, by position.
    instances: the instance names of a connection script (given or inferred), else ().
    source: the text the positions refer to (decoded, CRLF → LF), for rendering.
    """

    file: str
    source: str
    program: n.Program | None
    kind: str | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    instances: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the program parsed and the checker found no error (warnings allowed)."""
        return self.program is not None and not self.errors

    def render(self) -> str:
        """Every diagnostic as `file:line:col: severity CODE: message`, the source line and a caret."""
        return "\n".join(render(d, self.source) for d in self.diagnostics)


def load(source: str | bytes, file: str, *, kind: str | None = None, instances: Sequence[str] | None = None,
         limits: ParseLimits | None = None) -> Checked:
    """Parse and check one program; syntax errors come back as diagnostics, not exceptions.

    Raises ConfigError only for a bad `kind` or instance name (the caller's mistake).
    """
    limits = limits or DEFAULT_LIMITS
    if isinstance(source, bytes):
        try:
            text = decode_source(source, file)
        except RuleSyntaxError as e:  # not UTF-8, or a NUL byte
            return Checked(file, _shown(source.decode("utf-8", "replace")), None, kind, list(e.diagnostics))
    else:
        text = source
    try:
        program = parse(text, file, limits=limits)
    except RuleSyntaxError as e:
        return Checked(file, _shown(text), None, kind, list(e.diagnostics))
    result = check(program, kind=kind, instances=instances)
    return Checked(file, program.source, program, result.kind, result.diagnostics, result.instances)


def load_file(path: str | os.PathLike[str], *, kind: str | None = None, instances: Sequence[str] | None = None,
              limits: ParseLimits | None = None) -> Checked:
    """Read a rule file as bytes and `load` it; an unreadable path raises ConfigError (code K700).

    Without `kind`, a name ending in `-outgoing.rules` or `-incoming.rules` (as `rulelang split`
    writes them) gives the kind, so an empty side program is not a kind-less file.
    """
    limits = limits or DEFAULT_LIMITS
    name = os.fspath(path)
    if kind is None:
        kind = kind_from_name(name)
    try:
        with open(name, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > 4 * limits.max_source_chars:  # more bytes than any text within the limit can take
                return Checked(name, "", None, kind, [Diagnostic(
                    "S110", f"rule file too large: {size:,} bytes (the limit is {limits.max_source_chars:,} "
                    "characters)", Span(name, 1, 1, 1, 2, 0, 1))])
            data = f.read()
    except OSError as e:
        raise ConfigError(f"cannot read {name}: {e.strerror or e}") from None
    return load(data, name, kind=kind, instances=instances, limits=limits)


def kind_from_name(name: str) -> str | None:
    """`Blue-outgoing.rules` → "outgoing", `Blue-incoming.rules` → "incoming", else None."""
    base = os.path.basename(name)
    for k in ("outgoing", "incoming"):
        if base.endswith(f"-{k}.rules"):
            return k
    return None


def _shown(text: str) -> str:
    """The text as diagnostics show it: no BOM, LF line ends, and never a NUL (one character keeps columns)."""
    return normalize(text.removeprefix("\ufeff").replace("\0", "\ufffd"))
