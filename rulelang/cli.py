"""The `rulelang` command: the only place that composes the language, runtime and connectors, and prints.

Exit codes (fixed): 0 success; 1 findings at error level, a rule error or a sync that
parked issues; 2 usage error, unreadable file or bad input; 130 interrupted.
"""

from __future__ import annotations

import importlib

import click

__all__ = ["main"]

# Which module defines each command (its `register(group)` adds them). A command's module is imported when
# the command is asked for, so `rulelang lint` does not load the sync engine, the web server or rich.
_COMMAND_MODULES = {
    "lint": "_cli_lint",
    "dry-run": "_cli_run", "compile": "_cli_run",
    "split": "_cli_split",
    "local": "_cli_local",
    "serve": "_cli_serve",
    **{name: "_cli_sync" for name in ("init", "sync", "push", "bulk", "status", "queue", "retry", "pause",
                                       "resume", "unlink")},
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(_COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMAND_MODULES:
            importlib.import_module(f"rulelang.{_COMMAND_MODULES[cmd_name]}").register(self)
        return self.commands.get(cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="rulelang")
def main() -> None:
    """rulelang: sandboxed sync rules for issue trackers.

    Lint and dry-run rules, split connection scripts, and run the sync.
    """
