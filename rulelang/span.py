"""Span: where a piece of rule text lives (file, 1-based line and character column)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Span"]


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range of source text.

    Lines and columns are 1-based and count characters (not bytes), so a tab
    or a non-ASCII character is one column.  `end_col` is exclusive.
    `start`/`end` are character offsets into the whole source.
    """

    file: str
    line: int
    col: int
    end_line: int
    end_col: int
    start: int = 0
    end: int = 0

    def to(self, other: Span) -> Span:
        """The span from the start of self to the end of other."""
        return Span(self.file, self.line, self.col, other.end_line, other.end_col, self.start, other.end)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    @classmethod
    def point(cls, file: str, line: int, col: int, offset: int = 0) -> Span:
        return cls(file, line, col, line, col + 1, offset, offset + 1)
