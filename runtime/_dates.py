"""Date helpers for the built-ins now(), date() and format_date(): ISO-8601 text in, text out."""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["now_iso", "to_date", "format_date"]

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?"
                  r"(Z|[+-]\d{2}:?\d{2})?)?")
_TOKENS = re.compile(r"yyyy|yy|MMM|MM|dd|HH|mm|ss|'[^']*'")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def now_iso() -> str:
    """The current time, UTC, as `YYYY-MM-DDTHH:MM:SS.mmmZ`."""
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _parse(text: str) -> dt.datetime | None:
    m = _ISO.fullmatch(text.strip()) if len(text) <= 64 else None
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups()[:6])
    try:
        return dt.datetime(y, mo, d, h, mi, s)
    except ValueError:
        return None


def to_date(text: str) -> str | None:
    """`2024-05-01T08:30:00.000+0200` → `2024-05-01` (the date as written, no zone shift); null if not a date."""
    parsed = _parse(text)
    return parsed.date().isoformat() if parsed else None


def format_date(text: str, pattern: str) -> str | None:
    """Format an ISO date or date-time with yyyy yy MMM MM dd HH mm ss; text in 'quotes' is copied."""
    parsed = _parse(text)
    if parsed is None:
        return None
    values = {"yyyy": f"{parsed.year:04d}", "yy": f"{parsed.year % 100:02d}", "MMM": _MONTHS[parsed.month - 1],
              "MM": f"{parsed.month:02d}", "dd": f"{parsed.day:02d}", "HH": f"{parsed.hour:02d}",
              "mm": f"{parsed.minute:02d}", "ss": f"{parsed.second:02d}"}
    return _TOKENS.sub(lambda m: m.group(0)[1:-1] if m.group(0).startswith("'") else values[m.group(0)], pattern)
