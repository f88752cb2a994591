"""Syntax stage: rule text → rulelang nodes (`parse`), with syntax errors people understand."""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import lark
from lark.exceptions import UnexpectedInput

import grammar

from . import nodes as n
from ._build import Builder
from ._fastnodes import Fallback
from ._lexing import PostLexer
from ._rdparse import parse as parse_fast
from ._syntax_errors import translate
from .errors import Diagnostic, RuleSyntaxError
from .span import Span

__all__ = ["parse", "parse_expr", "parse_reference", "ParseLimits", "decode_source"]


@dataclass(frozen=True)
class ParseLimits:
    """Caps checked before any recursive walk (sandbox.md)."""

    max_source_chars: int = 64 * 1024
    max_nesting: int = 32  # brackets and blocks
    max_tree_depth: int = 200  # operators chained inside one expression


DEFAULT_LIMITS = ParseLimits()


class _Parser:
    """The Lark LALR parser (the reference), built once per process on first need (grammar analysis cached on disk by Lark)."""

    def __init__(self) -> None:
        self.postlex = PostLexer()
        self.builder = Builder(self._parse_sub)
        self.lark = lark.Lark(
            grammar.read("rules.lark"), parser="lalr", lexer="contextual", strict=True,
            start=["start", "expr"], keep_all_tokens=True, maybe_placeholders=True,
            postlex=self.postlex, transformer=self.builder, cache=grammar.cache_file("rules.lark"))
        self.postlex.base = self.builder.base

    def _parse_sub(self, text: str) -> n.Expr:
        """Parse a `${…}` part while the enclosing parse is suspended (its post-lexer state is kept)."""
        outer = self.postlex.save()
        file, _text, max_depth, depth_offset, stack = outer
        self.postlex.configure(file, max_depth, text, depth_offset + len(stack))
        try:
            return self.lark.parse(text, start="expr")
        except UnexpectedInput as e:
            raise self._translate(e, text) from None
        finally:
            self.postlex.restore(outer)

    def _translate(self, e: UnexpectedInput, text: str) -> RuleSyntaxError:
        if isinstance(e.__context__, RuleSyntaxError):
            return e.__context__
        return translate(e, text, self.builder, self.postlex)


@functools.lru_cache(maxsize=1)
def _parser() -> _Parser:
    return _Parser()


def decode_source(data: bytes, file: str) -> str:
    """UTF-8 bytes → text, or a positioned error naming the first bad byte."""
    if b"\0" in data:
        return _nul_error(data.decode("utf-8", "replace"), file)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        before = data[:e.start].decode("utf-8", "replace")
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        raise RuleSyntaxError(Diagnostic(
            "S109", f"file is not UTF-8 text (byte 0x{data[e.start]:02x} at line {line}, column {col})",
            Span(file, line, col, line, col + 1))) from None
    return text[1:] if text.startswith("\ufeff") else text


def _nul_error(text: str, file: str) -> str:
    i = text.index("\0")
    line = text.count("\n", 0, i) + 1
    col = i - (text.rfind("\n", 0, i) + 1) + 1
    raise RuleSyntaxError(Diagnostic("S109", "NUL byte in rule text (is this a binary file?)",
                                     Span(file, line, col, line, col + 1, i, i + 1)))


def normalize(text: str) -> str:
    """CRLF and lone CR become LF, so positions are the same on every platform."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def parse(source: str | bytes, file: str = "<rules>", *, limits: ParseLimits = DEFAULT_LIMITS) -> n.Program:
    """Parse one program; raise RuleSyntaxError with one positioned diagnostic when it does not parse."""
    with _gc_paused():
        return _parse(source, file, limits, fast=True)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a tree is built.

    A parse allocates thousands of objects that all stay alive and form no cycles, so the
    collections they trigger find nothing and cost a tenth of the parse. The previous state
    is restored (a caller that turned collection off keeps it off).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_reference(source: str | bytes, file: str = "<rules>", *,
                    limits: ParseLimits = DEFAULT_LIMITS) -> n.Program:
    """`parse` through Lark's own parser and lexer only: the reference the fast path is tested against."""
    return _parse(source, file, limits, fast=False)


def _parse(source: str | bytes, file: str, limits: ParseLimits, fast: bool) -> n.Program:
    text = decode_source(source, file) if isinstance(source, bytes) else source.removeprefix("\ufeff")
    if "\0" in text:
        _nul_error(text, file)
    text = normalize(text)
    if len(text) > limits.max_source_chars:
        raise RuleSyntaxError(Diagnostic(
            "S110", f"rule text too large: {len(text):,} characters (the limit is {limits.max_source_chars:,})",
            Span(file, 1, 1, 1, 2, 0, 1)))
    stmts, longest = _run(text, file, "start", limits, fast)
    end = _end_span(text, file)
    program = n.Program(Span(file, 1, 1, end.line, end.col, 0, len(text)), tuple(stmts), text, file)
    # Statements sit at depth 2, and no statement's tree is taller than its token count.
    if longest is None or 1 + longest > limits.max_tree_depth:
        _check_depth(program, limits)
    return program


def parse_expr(source: str, file: str = "<expr>", *, limits: ParseLimits = DEFAULT_LIMITS) -> n.Expr:
    """Parse one expression (used for `${…}` parts and by tools)."""
    text = normalize(source)
    expr, longest = _run(text, file, "expr", limits, True)
    if longest is None or longest > limits.max_tree_depth:
        _check_depth(expr, limits)
    return expr


def _run(text: str, file: str, start: str, limits: ParseLimits, fast: bool) -> tuple[Any, int | None]:
    """The parse of `text` from `start`, and a bound on a statement's tree height (None: not known).

    The recursive-descent parser (_rdparse.py) handles text that parses; for anything else
    Lark's own parser runs on the same text, so every syntax error comes from the one
    reference pipeline. Lark is only built when it is needed.
    """
    if fast:
        try:
            return parse_fast(text, file, start, limits.max_nesting, limits.max_tree_depth)
        except Fallback:
            pass
    return _run_lark(_parser(), text, file, start, limits), None


def _run_lark(p: _Parser, text: str, file: str, start: str, limits: ParseLimits) -> Any:
    p.postlex.configure(file, limits.max_nesting, text)
    base = p.builder.base
    base.file, base.line, base.col, base.offset = file, 1, 1, 0
    base.max_operators = limits.max_tree_depth
    try:
        return p.lark.parse(text, start=start)
    except UnexpectedInput as e:
        raise p._translate(e, text) from None
    except RuleSyntaxError:
        raise
    except RecursionError:
        raise RuleSyntaxError(Diagnostic("S111", "rule text nested too deeply", Span(file, 1, 1, 1, 2))) from None


def _end_span(text: str, file: str) -> Span:
    line = text.count("\n") + 1
    col = len(text) - (text.rfind("\n") + 1) + 1
    return Span(file, line, col, line, col, len(text), len(text))


def _check_depth(root: n.Node, limits: ParseLimits) -> None:
    """Refuse trees deeper than the limit before any recursive pass walks them."""
    stack: list[tuple[n.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limits.max_tree_depth:
            raise RuleSyntaxError(Diagnostic(
                "S111", f"expression too deeply nested: more than {limits.max_tree_depth} levels",
                node.span, hint="split it with `let` variables"))
        stack.extend((c, depth + 1) for c in n.children(node))

