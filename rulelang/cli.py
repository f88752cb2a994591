"""The `rulelang` command: the only place that composes the language, runtime and connectors, and prints.

Exit codes (fixed): 0 success; 1 findings at error level, a rule error or a sync that
parked issues; 2 usage error, unreadable file or bad input; 130 interrupted.
"""

from __future__ import annotations

import importlib

import click

__all__ = ["main"]

# Each module defines click commands and a `register(group)` function.
_COMMAND_MODULES = [
    "_cli_lint",
    "_cli_sync",
    "_cli_serve",
    "_cli_local",
    "_cli_run",
    "_cli_split",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="rulelang")
def main() -> None:
    """rulelang: sandboxed sync rules for issue trackers.

    Lint and dry-run rules, split connection scripts, and run the sync.
    """


for _name in _COMMAND_MODULES:
    importlib.import_module(f"rulelang.{_name}").register(main)
