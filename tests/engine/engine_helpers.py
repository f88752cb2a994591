"""Engine test helpers: a connection folder with two local trackers, and engines on it (fake or real rules)."""

from __future__ import annotations

import json
import pathlib
import sys
from collections.abc import Callable
from typing import Any

from rulelang._connectors import SPECS, build_connector
from runtime.config import load_config
from runtime.engine import Engine, compile_programs
from runtime.state import open_state, state_path

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))  # fakerules, importable by name in this process and in workers

BASIC = {"fields": ["summary", "description", "priority", "status"], "comments": True,
         "skip_label": "no-sync", "fail_label": "boom"}


def write_folder(folder: pathlib.Path, *, sync: dict[str, str] | None = None,
                 triggers: list[tuple[str, str]] | None = None, limits: dict[str, Any] | None = None,
                 rules: dict[str, Any] | None = None, fake: bool = True) -> pathlib.Path:
    """A connection folder QA <-> Dev on local trackers; rules are fake specs (dicts) or real rule text."""
    folder.mkdir(parents=True, exist_ok=True)
    sync = sync if sync is not None else {"QA -> Dev": "automatic", "Dev -> QA": "automatic"}
    triggers = triggers if triggers is not None else [("QA", 'labels = "sync"')]
    limits = {"isolate": False, "backoff_seconds": 0.001, "backoff_max_seconds": 0.01, **(limits or {})}
    rules = rules or {}
    lines = ['name = "test"', ""]
    for inst in ("QA", "Dev"):
        lines += [f"[instances.{inst}]", 'connector = "local"', f'path = "{inst.lower()}"',
                  f'project = "{inst.upper()}"',
                  f'rules = {{ outgoing = "{inst.lower()}-out.rules", incoming = "{inst.lower()}-in.rules" }}', ""]
        for kind in ("out", "in"):
            body = rules.get(f"{inst}.{kind}", BASIC if fake else None)
            text = json.dumps(body) if isinstance(body, dict) else body
            (folder / f"{inst.lower()}-{kind}.rules").write_text(text, encoding="utf-8")
    lines.append("[sync]")
    lines += [f'"{k}" = "{v}"' for k, v in sync.items()]
    for inst, query in triggers:
        lines += ["", "[[triggers]]", f'instance = "{inst}"', f"query = '{query}'"]
    lines += ["", "[limits]"] + [f"{k} = {json.dumps(v)}" for k, v in limits.items()]
    (folder / "connection.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def open_engine(folder: pathlib.Path, *, fake: bool = True, factory: Callable | None = None,
                **kwargs: Any) -> Engine:
    config = load_config(folder, connectors=SPECS)
    programs = compile_programs(config, "fakerules:compile_rules" if fake else "runtime:compile_rules")
    return Engine(config, open_state(state_path(folder)), factory or build_connector, programs=programs, **kwargs)


def watching_apply(instance: str, before: Callable[[Any, Any], None]) -> Callable:
    """A connector factory whose `instance` connector calls `before(connector, changes)` ahead of every apply."""

    def factory(inst: Any) -> Any:
        connector = build_connector(inst)
        if inst.name != instance:
            return connector
        real_apply = connector.apply

        def apply(key, changes, *, marker=None):
            before(connector, changes)
            return real_apply(key, changes, marker=marker)

        connector.apply = apply
        return connector

    return factory
