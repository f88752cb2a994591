"""Golden-file comparison shared by the test suites (`--update-goldens` rewrites instead of comparing)."""

from __future__ import annotations

import pathlib

import pytest

CASES = pathlib.Path(__file__).parent / "cases"


def check_golden(path: pathlib.Path, actual: str, update: bool) -> None:
    """Compare `actual` with the golden file at `path` (or rewrite it with --update-goldens)."""
    if update or not path.exists():
        if not update:
            pytest.fail(f"golden file {path} is missing; run pytest --update-goldens to create it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"output differs from {path} (pytest --update-goldens rewrites it)"
