"""Imported by the rules workers' fork server: loads what running compiled rules needs once, so that every
worker forked from it starts warm. Not the compiler: the engine compiles the rules and hands workers the
result (`Rules.portable`), so neither the server nor a worker imports Lark or builds parser tables."""

from __future__ import annotations

import gc
import multiprocessing.spawn

import runtime._rulejobs  # noqa: F401  (the worker's loop)
import runtime.sandbox  # noqa: F401  (running rules: the runtime functions, budgets, export)

__all__: list[str] = []


def _skip_main(_: str) -> None:
    """A worker runs runtime._rulejobs.worker_main on plain data: nothing it needs is in the parent's
    `__main__` (the CLI, a test runner), which multiprocessing would otherwise import in every worker."""


# This module runs in the fork server only; its workers inherit these in place of the import of `__main__`.
multiprocessing.spawn._fixup_main_from_path = _skip_main  # type: ignore[assignment]
multiprocessing.spawn._fixup_main_from_name = _skip_main  # type: ignore[assignment]

# Frozen, the objects loaded so far are never walked by a worker's collector: their pages stay shared with
# the server instead of being copied into every worker on its first collection.
gc.freeze()
