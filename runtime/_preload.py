"""Imported by the rules workers' fork server: loads the runtime and builds the rules parser once, so that
every worker forked from it starts warm instead of paying for imports and parser tables itself."""

from __future__ import annotations

from runtime import compile_rules

__all__: list[str] = []

compile_rules("replica.key = issue.key\n", "<warm-up>", kind="outgoing")
