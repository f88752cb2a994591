"""The values of text tokens for the recursive-descent parser, `${…}` parts parsed through a callback."""

from __future__ import annotations

from collections.abc import Callable

from . import nodes as n
from ._build import text_parts
from ._fastnodes import Fallback


def text_value(tok: tuple, sub_expr: Callable[[str, int, int, int, int], n.Expr]) -> str | tuple:
    """The text of a text token `(kind, raw, start, line, col[, brackets])`; a tuple of parts when it holds `${…}`.

    `sub_expr(text, line, col, start, brackets)` parses a part placed at line/col/start in the file.
    Anything `_build.Builder.string_value` reports (a bad escape, an unclosed or empty `${`) raises Fallback.
    """
    raw = tok[1]
    q = 3 if raw[:3] == raw[0] * 3 else 1
    body = raw[q:-q]
    interpolating = raw[0] == '"'
    if "\\" not in body and not (interpolating and "${" in body):
        return body

    def part(i: int, end: int) -> n.Expr:
        text = body[i + 2:end]
        if end < 0 or not text.strip():
            raise Fallback
        k = q + i + 2
        before = raw[:k]
        nl = before.count("\n")
        line, col = (tok[3] + nl, k - before.rfind("\n")) if nl else (tok[3], tok[4] + k)
        return sub_expr(text, line, col, tok[2] + k, tok[5])

    return text_parts(body, interpolating, _fallback, part)


def _fallback(i: int) -> Exception:
    """A bad escape: the reference parse reports it."""
    return Fallback()
