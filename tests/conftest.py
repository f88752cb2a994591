"""Shared pytest options: `--update-goldens` rewrites golden files instead of comparing; hypothesis profiles."""

from __future__ import annotations

import pathlib

import pytest
from goldens import check_golden  # noqa: F401  (re-exported for older imports)
from hypothesis import settings

# Property tests try the same examples on every run by default, so that a run (CI's above all) never passes or
# fails by luck; `--hypothesis-profile=explore` draws new ones each run, to hunt (what it finds becomes an
# `@example`). Loaded here, before any test module's `@settings` reads the default.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("repeatable")

CASES = pathlib.Path(__file__).parent / "cases"
FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite golden files under tests/cases with the current output")


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))
