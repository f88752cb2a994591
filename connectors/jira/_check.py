"""Type checks for untrusted Jira JSON that fail with a PayloadError naming the offending key."""

from __future__ import annotations

from typing import Any

from rulelang.errors import PayloadError

__all__ = ["type_name", "fail", "opt_str", "opt_dict", "opt_list", "opt_text"]

_JSON_NAMES = {dict: "object", list: "array", str: "text", bool: "boolean", int: "number",
               float: "number", type(None): "null"}


def type_name(value: Any) -> str:
    """The JSON name of a Python value's type, for messages."""
    return _JSON_NAMES.get(type(value), type(value).__name__)


def fail(where: str, expected: str, got: Any) -> PayloadError:
    return PayloadError(f"{where}: expected {expected}, got {type_name(got)}")


def opt_str(obj: dict, key: str, where: str) -> str | None:
    """obj[key] as text, None when absent or null."""
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise fail(f"{where}.{key}", "text or null", value)


def opt_text(obj: dict, key: str, where: str) -> str | None:
    """obj[key] as text; numbers are accepted and printed (Jira sends some ids as either)."""
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise fail(f"{where}.{key}", "text or null", value)


def opt_dict(obj: dict, key: str, where: str) -> dict | None:
    value = obj.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise fail(f"{where}.{key}", "an object or null", value)


def opt_list(obj: dict, key: str, where: str) -> list:
    """obj[key] as a list, [] when absent or null."""
    value = obj.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return value
    raise fail(f"{where}.{key}", "an array or null", value)
