"""ISO-8601 timestamps as the sync engine stores them: UTC, milliseconds, a trailing 'Z'."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["utc_now", "format_utc", "parse_datetime", "canonical", "later_stamp"]

# Only text that starts like a calendar date counts: fromisoformat alone would also take "20240501".
_DATE_START = re.compile(r"^\d{4}[-/]\d{2}[-/]\d{2}")


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_utc(moment: datetime) -> str:
    """`2024-05-01T06:30:00.000Z`: one fixed width, so stored stamps sort as text in time order."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if moment.year < 1000:  # strftime's own (unpadded) year, as stored before
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    # Formatted by hand: strftime costs several times more, and the engine stamps every state write.
    return (f"{moment.year}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
            f"{moment.second:02d}.{moment.microsecond // 1000:03d}Z")


def parse_datetime(text: str) -> datetime | None:
    """An aware datetime from ISO-8601 text (date only, `T` or space, offsets `Z`/`+02:00`/`+0200`,
    slashes as in Jira); text without an offset is UTC. None when the text is not a date."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not _DATE_START.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text[:10].replace("/", "-") + text[10:])
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def canonical(text: str) -> str | None:
    """The stored form of a date-time text, or None when it is not a date-time."""
    moment = parse_datetime(text)
    return format_utc(moment) if moment is not None else None


def later_stamp(last: str | None, now: datetime | None = None) -> str:
    """A stamp for a new change: the clock, but always at least 1 ms after `last`.

    Cursors select `updated >= cursor`; a clock that stands still or steps back
    (NTP, two changes in one millisecond) must still give every change its own,
    later stamp, or a cursor could skip one.
    """
    moment = now or utc_now()
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)  # compare what is stored
    previous = parse_datetime(last) if last else None
    if previous is not None and moment <= previous:
        moment = previous + timedelta(milliseconds=1)
    return format_utc(moment)
