"""Fixtures of the engine tests (helpers in engine_helpers.py, importable by that unique name)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest
from engine_helpers import write_folder

from connectors.local import LocalTracker


@pytest.fixture
def folder(tmp_path: pathlib.Path) -> pathlib.Path:
    return write_folder(tmp_path / "conn")


@pytest.fixture
def trackers(folder: pathlib.Path) -> Iterator[tuple[LocalTracker, LocalTracker]]:
    qa, dev = LocalTracker(folder / "qa", project="QA"), LocalTracker(folder / "dev", project="DEV")
    yield qa, dev
    qa.close()
    dev.close()
