"""Shared pytest options: `--update-goldens` rewrites golden files instead of comparing."""

from __future__ import annotations

import pathlib

import pytest

CASES = pathlib.Path(__file__).parent / "cases"
FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite golden files under tests/cases with the current output")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


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
