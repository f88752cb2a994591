"""Untrusted JSON in: parsed with size, depth and number limits; NaN/Infinity, lone surrogates and duplicate keys refused."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from rulelang.errors import Diagnostic, PayloadError
from rulelang.span import Span

__all__ = ["PayloadLimits", "DEFAULT_PAYLOAD_LIMITS", "parse_json", "check_document"]


@dataclass(frozen=True)
class PayloadLimits:
    max_bytes: int = 16 * 1024 * 1024   # P602
    max_depth: int = 64                 # P603
    max_text: int = 1_000_000           # P602: characters in one text
    max_items: int = 100_000            # P602: elements in one list or map


DEFAULT_PAYLOAD_LIMITS = PayloadLimits()

_SURROGATE = re.compile("[\ud800-\udfff]")
# Tokens outside strings that the hooks refuse; strings are matched first so their insides are skipped.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|(-?(?:NaN|Infinity))|(-?\d{20,})|(-?\d[\d.eE+-]{0,400})')


class _Refused(Exception):
    def __init__(self, code: str, message: str, token: str) -> None:
        super().__init__(message)
        self.code, self.message, self.token = code, message, token


def _constant(name: str) -> Any:
    raise _Refused("P604", f"{name} is not a JSON number", name)


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 19:  # before int(): converting huge digit strings is itself slow
        raise _Refused("P606", "integer out of range (integers are 64-bit)", text)
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise _Refused("P606", "integer out of range (integers are 64-bit)", text)
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("P606", f"number {text[:40]} is out of range", text)
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _Refused("P607", f"duplicate key {k[:60]!r} in one object", json.dumps(k))
            seen.add(k)
    return out


def parse_json(data: bytes | str, name: str = "<payload>", limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS) -> Any:
    """Parse one untrusted JSON document; raise PayloadError naming the position or key path of the problem."""
    if isinstance(data, bytes | bytearray):
        if len(data) > limits.max_bytes:
            raise _error("P602", f"{name} is too large: {len(data):,} bytes (the limit is {limits.max_bytes:,})")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as e:
            line, col = _line_col(bytes(data)[:e.start].decode("utf-8", "replace"), None)
            raise _error("P601", f"{name} is not UTF-8 (byte 0x{data[e.start]:02x})", name, line, col) from None
    else:
        text = data
        if len(text) > limits.max_bytes:
            raise _error("P602", f"{name} is too large: {len(text):,} characters (the limit is {limits.max_bytes:,})")
    text = text.removeprefix("\ufeff")
    try:
        doc = json.loads(text, parse_constant=_constant, parse_int=_int, parse_float=_float,
                         object_pairs_hook=_object)
    except json.JSONDecodeError as e:
        raise _error("P601", f"{name} is not valid JSON: {e.msg}", name, e.lineno, e.colno) from None
    except _Refused as r:
        line, col = _locate(text, r.token)
        raise _error(r.code, f"{name}: {r.message}", name, line, col) from None
    except RecursionError:
        raise _error("P603", f"{name} is nested too deeply (the limit is {limits.max_depth} levels)") from None
    check_document(doc, name, limits)
    return doc


def check_document(doc: Any, name: str = "<payload>", limits: PayloadLimits = DEFAULT_PAYLOAD_LIMITS) -> None:
    """Depth, sizes, text validity and exact JSON types of an already-built document (errors name the key path)."""
    stack: list[tuple[Any, tuple, int]] = [(doc, (), 0)]
    while stack:
        value, path, depth = stack.pop()
        t = type(value)
        if t is str:
            if len(value) > limits.max_text:
                raise _error("P602", f"{name}: text too long at {_path(path)} ({len(value):,} characters)")
            if _SURROGATE.search(value):
                raise _error("P605", f"{name}: lone surrogate (invalid Unicode) in the text at {_path(path)}")
        elif t is dict or t is list:
            if depth >= limits.max_depth:
                raise _error("P603", f"{name} is nested too deeply at {_path(path)} "
                             f"(the limit is {limits.max_depth} levels)")
            if len(value) > limits.max_items:
                raise _error("P602", f"{name}: too many elements at {_path(path)} ({len(value):,})")
            if t is dict:
                for k, v in value.items():
                    if type(k) is not str:
                        raise _error("P609", f"{name}: a key that is not text at {_path(path)}")
                    if _SURROGATE.search(k):
                        raise _error("P605", f"{name}: lone surrogate (invalid Unicode) in a key at {_path(path)}")
                    stack.append((v, (*path, k), depth + 1))
            else:
                stack.extend((v, (*path, i), depth + 1) for i, v in enumerate(value))
        elif t is float:
            if not math.isfinite(value):
                raise _error("P604", f"{name}: {value!r} at {_path(path)} is not a JSON number")
        elif t is int:
            if not -(2**63) <= value < 2**63:
                raise _error("P606", f"{name}: integer out of range at {_path(path)}")
        elif not (value is None or t is bool):
            raise _error("P609", f"{name}: a {type(value).__name__} at {_path(path)} is not a JSON value")


def _path(path: tuple) -> str:
    out = "$"
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if re.fullmatch(r"[A-Za-z_]\w*", p) else
                                                      f"[{json.dumps(p, ensure_ascii=False)}]")
    return out


def _locate(text: str, token: str) -> tuple[int | None, int | None]:
    """Line and column of the first occurrence of `token` outside strings (for refused constants and numbers)."""
    is_key = token.startswith('"')  # a duplicate key: report its second use as a key
    seen = 0
    for m in _TOKENS.finditer(text):
        if m.group(0) != token:
            continue
        if is_key:
            if not text[m.end():m.end() + 40].lstrip().startswith(":"):
                continue
            seen += 1
            if seen < 2:
                continue
        return _line_col(text[:m.start()], None)
    return None, None


def _line_col(before: str, _: Any) -> tuple[int, int]:
    line = before.count("\n") + 1
    return line, len(before) - (before.rfind("\n") + 1) + 1


def _error(code: str, message: str, file: str | None = None, line: int | None = None,
           col: int | None = None) -> PayloadError:
    span = Span(file, line, col, line, col + 1) if file is not None and line is not None and col else None
    return PayloadError(Diagnostic(code, message, span))
