"""The `rulelang` group: every command is listed and found, and a command loads only its own module."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click
from click.testing import CliRunner

from rulelang.cli import _COMMAND_MODULES, main


def test_the_table_names_exactly_what_each_module_registers() -> None:
    for module in set(_COMMAND_MODULES.values()):
        group = click.Group()
        importlib.import_module(f"rulelang.{module}").register(group)
        assert set(group.commands) == {name for name, m in _COMMAND_MODULES.items() if m == module}, module


def test_help_lists_every_command_and_unknown_ones_are_usage_errors() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.strip()]
    assert listed == sorted(_COMMAND_MODULES)
    result = CliRunner().invoke(main, ["lnt"])
    assert result.exit_code == 2 and "No such command 'lnt'" in result.output


def test_lint_does_not_load_the_sync_engine_or_the_web_server() -> None:
    code = ("import sys; from rulelang.cli import main; main(['lint', '--help'], standalone_mode=False); "
            "print(sorted(m for m in ('runtime.engine', 'http.server', 'rich.progress', 'httpx', 'rulelang._cli_sync')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
