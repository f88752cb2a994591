"""Shared pytest options: `--update-goldens` rewrites golden files instead of comparing."""

from __future__ import annotations

import pathlib

import pytest
from goldens import check_golden  # noqa: F401  (re-exported for older imports)

CASES = pathlib.Path(__file__).parent / "cases"
FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite golden files under tests/cases with the current output")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))
