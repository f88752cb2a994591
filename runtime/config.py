"""Connection folders: `connection.toml` and its `.rules` files, read and checked in full before a sync starts.

Every problem is collected (not just the first) into one ConfigError whose
diagnostics name the file, the line of the key and what is wrong:

    K720 the TOML does not parse          K725 a bad sync method or direction
    K721 an unknown key (did you mean …)  K726 a bad trigger (unknown instance; K74x: its query)
    K722 a required key is missing        K727 a bad limit
    K723 a value of the wrong type        K728 an environment variable for a secret is not set
    K724 a file that does not exist       K729 an unknown connector or instance

Connectors are not imported here: the composition layer passes `connectors`,
a mapping from a connector name to its ConnectorSpec (which keys it takes).
Secrets never appear in the file: a key ending in `_env` names an environment
variable, read at load time and kept out of every repr and message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rulelang.errors import ConfigError

from .jql import Query

__all__ = [
    "CONFIG_FILE", "METHODS", "ConnectorSpec", "RuleFiles", "InstanceConfig", "Trigger", "Direction",
    "SyncLimits", "ConnectionConfig", "load_config", "direction_name",
]

CONFIG_FILE = "connection.toml"
METHODS = ("automatic", "manual", "disabled")


@dataclass(frozen=True)
class ConnectorSpec:
    """The keys a connector takes besides `connector` and `rules`; keys in `paths` are files/folders."""

    name: str
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    paths: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RuleFiles:
    """An instance's rule files (absolute paths), each optional."""

    outgoing: Path | None = None
    incoming: Path | None = None


@dataclass(frozen=True)
class InstanceConfig:
    """One tracker instance: its connector, settings (paths made absolute), rules and secrets."""

    name: str
    connector: str
    settings: Mapping[str, Any]
    rules: RuleFiles
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Trigger:
    """`[[triggers]]` entry number `number` (1-based): which issues of `instance` start syncing."""

    number: int
    instance: str
    query: Query
    active: bool = True


@dataclass(frozen=True)
class Direction:
    """One way of a connection, `source -> target`, and how it syncs."""

    source: str
    target: str
    method: str = "disabled"

    @property
    def name(self) -> str:
        return direction_name(self.source, self.target)


@dataclass(frozen=True)
class SyncLimits:
    """`[limits]`: the engine's knobs and the rules' budgets (sandbox.md defaults)."""

    isolate: bool = True
    workers: int = 2
    batch: int = 50
    worker_memory_mb: int = 256
    rule_time_ms: int = 100
    issue_time_ms: int = 1000
    steps: int = 100_000
    max_attempts: int = 8
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 300.0
    poll_interval_seconds: float = 30.0


@dataclass(frozen=True)
class ConnectionConfig:
    """A checked connection folder."""

    folder: Path
    name: str
    instances: Mapping[str, InstanceConfig]
    directions: tuple[Direction, ...]
    triggers: tuple[Trigger, ...]
    limits: SyncLimits

    def direction(self, source: str, target: str) -> Direction:
        for d in self.directions:
            if d.source == source and d.target == target:
                return d
        return Direction(source, target)

    def triggers_of(self, instance: str) -> tuple[Trigger, ...]:
        return tuple(t for t in self.triggers if t.instance == instance and t.active)

    def other(self, instance: str) -> str:
        return next(n for n in self.instances if n != instance)


def direction_name(source: str, target: str) -> str:
    """The spelling used in `[sync]` and in the state store: `QA -> Dev`."""
    return f"{source} -> {target}"


def load_config(folder: str | Path, *, connectors: Mapping[str, ConnectorSpec],
                environ: Mapping[str, str] | None = None) -> ConnectionConfig:
    """Read and check `folder/connection.toml`; raise one ConfigError listing every problem."""
    folder = Path(folder).resolve()
    path = folder / CONFIG_FILE
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a connection folder (no such directory)", code="K724")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no {CONFIG_FILE} here; `rulelang init {folder}` makes one",
                          code="K724") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read it ({e})", code="K724") from None
    from ._config_check import Checker  # the checks need the types above

    return Checker(folder, path, text, connectors, os.environ if environ is None else environ).load()
