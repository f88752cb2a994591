"""Where a key sits in a TOML text (tomllib keeps no positions), for config messages that point at a line."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["Locator"]


class Locator:
    """Best-effort positions of TOML keys (tomllib keeps none): the header, then the key line inside it."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
    _KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines() or [""]

    def find(self, where: tuple[Any, ...]) -> tuple[int, int, int]:
        """(line, column, width) of the deepest part of `where` found; (1, 1, 1) when none is."""
        if not where:
            return 1, 1, 1
        best = (1, 1, 1)
        header, start = self._section(where)
        if header is not None:
            best = (header + 1, 1, len(self.lines[header].strip()) or 1)
        rest = [str(p) for p in where[start:]]
        begin = header + 1 if header is not None else 0
        for i in range(begin, len(self.lines)):
            line = self.lines[i]
            if header is not None and self._HEADER.match(line):
                break
            if header is None and self._HEADER.match(line):
                break
            m = self._KEY.match(line)
            if not m or not rest or m.group(1).strip("\"'") != rest[0]:
                continue
            col = line.find(m.group(1)) + 1
            best = (i + 1, col, len(m.group(1)))
            for sub in rest[1:]:  # a key inside an inline table on the same line
                at = re.search(rf"""(?<![\w"']){re.escape(sub)}\s*=|["']{re.escape(sub)}["']\s*=""", line)
                if at is None:
                    break
                best = (i + 1, at.start() + 1, len(sub))
            break
        return best

    def _section(self, where: tuple[Any, ...]) -> tuple[int | None, int]:
        """The line of the longest table header that prefixes `where`, and how many parts it used."""
        parts = [str(p) for p in where]
        if parts[0] == "triggers" and len(parts) > 1 and isinstance(where[1], int):
            count = 0
            for i, line in enumerate(self.lines):
                m = self._HEADER.match(line)
                if m and m.group(1) == "[[" and _dotted(m.group(2)) == ["triggers"]:
                    count += 1
                    if count == where[1]:
                        return i, 2
            return None, 2
        for used in range(len(parts), 0, -1):
            for i, line in enumerate(self.lines):
                m = self._HEADER.match(line)
                if m and m.group(1) == "[" and _dotted(m.group(2)) == parts[:used]:
                    return i, used
        return None, 0


def _dotted(header: str) -> list[str]:
    return [p.strip().strip("\"'") for p in re.findall(r"""\s*("[^"]*"|'[^']*'|[^.]+)\s*\.?""", header)]
