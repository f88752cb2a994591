"""The checks behind `load_config`: every problem of a connection.toml, each with its line and a suggestion."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from rulelang.errors import ConfigError, Diagnostic, did_you_mean
from rulelang.span import Span

from ._tomlpos import Locator
from .config import (
    CONFIG_FILE,
    METHODS,
    ConnectionConfig,
    ConnectorSpec,
    Direction,
    InstanceConfig,
    RuleFiles,
    SyncLimits,
    Trigger,
    direction_name,
)
from .jql import parse_query

__all__ = ["Checker"]

_TOP_KEYS = ("name", "instances", "sync", "triggers", "limits")
_INSTANCE_KEYS = ("connector", "rules")
_RULE_KEYS = ("outgoing", "incoming")
_TRIGGER_KEYS = ("instance", "query", "active")
_DIRECTION = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_-]*)\s*->\s*([A-Za-z][A-Za-z0-9_-]*)\s*$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_LIMIT_RANGES: dict[str, tuple[float, float]] = {
    "workers": (1, 64), "batch": (1, 10_000), "worker_memory_mb": (64, 65_536), "rule_time_ms": (1, 600_000),
    "issue_time_ms": (1, 3_600_000), "steps": (1, 10**9), "max_attempts": (1, 1000),
    "backoff_seconds": (0, 3600), "backoff_max_seconds": (0, 86_400), "poll_interval_seconds": (0.1, 86_400),
}


class Checker:
    """One pass over a connection.toml, collecting problems; `load()` raises them all or returns the config."""

    def __init__(self, folder: Path, path: Path, text: str, connectors: Mapping[str, ConnectorSpec],
                 environ: Mapping[str, str]) -> None:
        self.folder, self.path, self.text = folder, path, text
        self.file = str(path)
        self.connectors, self.environ = connectors, environ
        self.problems: list[Diagnostic] = []
        self.locator = Locator(text)

    def problem(self, where: tuple[Any, ...], message: str, code: str, hint: str | None = None) -> None:
        line, col, width = self.locator.find(where)
        span = Span(self.file, line, col, line, col + width)
        self.problems.append(Diagnostic(code, message, span, hint=hint))

    def unknown_keys(self, table: Mapping[str, Any], known: tuple[str, ...] | frozenset[str],
                     where: tuple[Any, ...], what: str) -> None:
        for key in table:
            if key not in known:
                guess = did_you_mean(key, known)
                hint = f"did you mean '{guess}'?" if guess else f"known keys: {', '.join(sorted(known))}"
                self.problem((*where, key), f"unknown key '{key}' in {what}", "K721", hint)

    def expect(self, value: Any, kind: type | tuple[type, ...], where: tuple[Any, ...], what: str) -> bool:
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            names = {str: "text", int: "an integer", bool: "true or false", dict: "a table", list: "a list",
                     float: "a number"}
            want = " or ".join(names.get(k, k.__name__) for k in (kind if isinstance(kind, tuple) else (kind,)))
            self.problem(where, f"{what} must be {want}, not {_kind(value)}", "K723")
        return ok

    def load(self) -> ConnectionConfig:
        try:
            doc = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as e:
            m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
            line, col = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
            msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e)) or "invalid TOML"
            raise ConfigError(Diagnostic("K720", f"{CONFIG_FILE} is not valid TOML: {msg}",
                                         Span(self.file, line, col, line, col + 1))) from None
        self.unknown_keys(doc, _TOP_KEYS, (), CONFIG_FILE)
        name = doc.get("name", self.folder.name)
        if not self.expect(name, str, ("name",), "'name'"):
            name = self.folder.name
        instances = self.instances(doc.get("instances"))
        declared = list(doc["instances"]) if isinstance(doc.get("instances"), dict) else []
        directions = self.directions(doc.get("sync", {}), declared, instances)
        triggers = self.triggers(doc.get("triggers", []), declared)
        limits = self.limits(doc.get("limits", {}))
        if self.problems:
            raise ConfigError(sorted(self.problems, key=lambda d: (d.span.line, d.span.col) if d.span else (0, 0)))
        return ConnectionConfig(self.folder, name, instances, directions, triggers, limits)

    # ---- [instances.X] ----

    def instances(self, table: Any) -> dict[str, InstanceConfig]:
        if table is None:
            self.problem((), "no [instances.NAME] tables: a connection joins two instances", "K722")
            return {}
        if not self.expect(table, dict, ("instances",), "'instances'"):
            return {}
        if len(table) != 2:
            self.problem(("instances",), f"a connection joins exactly two instances, this one has {len(table)}"
                         f" ({', '.join(table) or 'none'})", "K722")
        out: dict[str, InstanceConfig] = {}
        for name, body in table.items():
            where = ("instances", name)
            if not _NAME.match(name):
                self.problem(where, f"instance name '{name}' must be letters, digits, '_' or '-' "
                             "starting with a letter", "K723")
            if not self.expect(body, dict, where, f"instance '{name}'"):
                continue
            inst = self.instance(name, body, where)
            if inst is not None:
                out[name] = inst
        return out

    def instance(self, name: str, body: dict[str, Any], where: tuple[Any, ...]) -> InstanceConfig | None:
        kind = body.get("connector")
        spec = None
        if kind is None:
            self.problem(where, f"instance '{name}' has no 'connector' (one of: {', '.join(self.connectors)})",
                         "K722")
        elif self.expect(kind, str, (*where, "connector"), "'connector'"):
            spec = self.connectors.get(kind)
            if spec is None:
                guess = did_you_mean(kind, self.connectors)
                self.problem((*where, "connector"), f"unknown connector '{kind}'", "K729",
                             f"did you mean '{guess}'?" if guess else f"known: {', '.join(self.connectors)}")
        rules = self.rule_files(body.get("rules"), (*where, "rules"), name)
        if spec is None:
            return None
        self.unknown_keys(body, frozenset(_INSTANCE_KEYS) | spec.required | spec.optional, where,
                          f"instance '{name}' ({kind} connector)")
        settings: dict[str, Any] = {}
        secrets: dict[str, str] = {}
        for key in sorted(spec.required - body.keys()):
            self.problem(where, f"instance '{name}' needs '{key}' for the {kind} connector", "K722")
        for key in spec.required | spec.optional:
            if key not in body:
                continue
            value = body[key]
            if key in spec.paths and self.expect(value, str, (*where, key), f"'{key}'"):
                value = (self.folder / value).resolve()
            settings[key] = value
            self.secrets(value, (*where, key), secrets)
        return InstanceConfig(name, spec.name, settings, rules, secrets)

    def secrets(self, value: Any, where: tuple[Any, ...], out: dict[str, str]) -> None:
        """Read every `*_env` key (at any depth) from the environment."""
        if not isinstance(value, dict):
            return
        for key, var in value.items():
            if isinstance(var, dict):
                self.secrets(var, (*where, key), out)
            elif key.endswith("_env") and self.expect(var, str, (*where, key), f"'{key}'"):
                secret = self.environ.get(var)
                if not secret:
                    self.problem((*where, key), f"environment variable {var} is not set (it holds the secret "
                                 f"'{key[:-4]}')", "K728")
                else:
                    out[key[:-4]] = secret

    def rule_files(self, table: Any, where: tuple[Any, ...], name: str) -> RuleFiles:
        if table is None:
            return RuleFiles()
        if not self.expect(table, dict, where, f"'rules' of '{name}'"):
            return RuleFiles()
        self.unknown_keys(table, _RULE_KEYS, where, f"'rules' of '{name}'")
        found: dict[str, Path] = {}
        for key in _RULE_KEYS:
            value = table.get(key)
            if value is None or not self.expect(value, str, (*where, key), f"'{key}'"):
                continue
            path = (self.folder / value).resolve()
            if not path.is_file():
                self.problem((*where, key), f"{key} rules file '{value}' does not exist (looked for {path})",
                             "K724")
            found[key] = path
        return RuleFiles(found.get("outgoing"), found.get("incoming"))

    # ---- [sync] ----

    def directions(self, table: Any, declared: list[str], instances: Mapping[str, InstanceConfig]
                   ) -> tuple[Direction, ...]:
        if not self.expect(table, dict, ("sync",), "'sync'"):
            return ()
        methods: dict[tuple[str, str], str] = {}
        for key, method in table.items():
            where = ("sync", key)
            m = _DIRECTION.match(key)
            if m is None:
                self.problem(where, f"'{key}' is not a direction: write \"A -> B\" with two instance names",
                             "K725")
                continue
            source, target = m.groups()
            bad = False
            for inst in (source, target):
                if inst not in declared:
                    guess = did_you_mean(inst, declared)
                    self.problem(where, f"unknown instance '{inst}' in [sync]", "K729",
                                 f"did you mean '{guess}'?" if guess else f"instances: {', '.join(declared)}")
                    bad = True
            if source == target:
                self.problem(where, f"'{key}' syncs an instance with itself", "K725")
                bad = True
            if not self.expect(method, str, where, f"the method of '{key}'"):
                continue
            if method not in METHODS:
                guess = did_you_mean(method, METHODS)
                self.problem(where, f"unknown sync method '{method}' for '{key}'", "K725",
                             f"did you mean '{guess}'?" if guess else f"one of: {', '.join(METHODS)}")
                continue
            if not bad:
                methods[(source, target)] = method
        out = []
        for source in declared:
            for target in declared:
                if source == target:
                    continue
                method = methods.get((source, target), "disabled")
                out.append(Direction(source, target, method))
                if method != "disabled" and source in instances and target in instances:
                    self.direction_rules(instances[source], instances[target], method)
        return tuple(out)

    def direction_rules(self, source: InstanceConfig, target: InstanceConfig, method: str) -> None:
        key = direction_name(source.name, target.name)
        if source.rules.outgoing is None:
            self.problem(("instances", source.name), f"'{key}' is {method} but '{source.name}' has no "
                         "outgoing rules", "K722", "add rules = { outgoing = \"….rules\" } or disable it")
        if target.rules.incoming is None:
            self.problem(("instances", target.name), f"'{key}' is {method} but '{target.name}' has no "
                         "incoming rules", "K722", "add rules = { incoming = \"….rules\" } or disable it")

    # ---- [[triggers]] ----

    def triggers(self, items: Any, instances: list[str]) -> tuple[Trigger, ...]:
        if not self.expect(items, list, ("triggers",), "'triggers' (write [[triggers]])"):
            return ()
        out = []
        for number, body in enumerate(items, 1):
            where = ("triggers", number)
            if not self.expect(body, dict, where, f"trigger {number}"):
                continue
            self.unknown_keys(body, _TRIGGER_KEYS, where, f"trigger {number}")
            inst, text, active = body.get("instance"), body.get("query"), body.get("active", True)
            ok = True
            if inst is None:
                self.problem(where, f"trigger {number} has no 'instance'", "K722")
                ok = False
            elif self.expect(inst, str, (*where, "instance"), "'instance'") and inst not in instances:
                guess = did_you_mean(inst, instances)
                self.problem((*where, "instance"), f"trigger {number}: unknown instance '{inst}'", "K726",
                             f"did you mean '{guess}'?" if guess else f"instances: {', '.join(instances)}")
                ok = False
            if text is None:
                self.problem(where, f"trigger {number} has no 'query' (an empty query '' matches every issue)",
                             "K722")
                continue
            if not self.expect(text, str, (*where, "query"), "'query'"):
                continue
            self.expect(active, bool, (*where, "active"), "'active'")
            try:
                query = parse_query(text, file=self.file)
            except ConfigError as e:
                self.problems.extend(self.rebase(d, (*where, "query"), text) for d in e.diagnostics)
                continue
            if ok:
                out.append(Trigger(number, inst, query, active is not False))
        return tuple(out)

    def rebase(self, d: Diagnostic, where: tuple[Any, ...], query: str) -> Diagnostic:
        """Move a query diagnostic (positions inside the query text) to where the query sits in the file."""
        line, col, _ = self.locator.find(where)
        start = self.text.splitlines()[line - 1].find(query.splitlines()[0] if query else "", col - 1)
        if d.span is None or start < 0 or "\n" in query:
            span = Span(self.file, line, col, line, col + 1)
        else:
            span = Span(self.file, line, start + d.span.col, line, start + d.span.end_col)
        return Diagnostic(d.code, f"trigger query: {d.message}", span, d.severity, d.hint)

    # ---- [limits] ----

    def limits(self, table: Any) -> SyncLimits:
        if not self.expect(table, dict, ("limits",), "'limits'"):
            return SyncLimits()
        known = {f.name: f for f in fields(SyncLimits)}
        self.unknown_keys(table, tuple(known), ("limits",), "[limits]")
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in known:
                continue
            where = ("limits", key)
            default = getattr(SyncLimits(), key)
            if isinstance(default, bool):
                if self.expect(value, bool, where, f"limit '{key}'"):
                    values[key] = value
                continue
            kind = (int, float) if isinstance(default, float) else int
            if not self.expect(value, kind, where, f"limit '{key}'") or isinstance(value, bool):
                continue
            lo, hi = _LIMIT_RANGES[key]
            if not lo <= value <= hi:
                self.problem(where, f"limit '{key}' = {value} is out of range ({lo:g} to {hi:g})", "K727")
                continue
            values[key] = float(value) if isinstance(default, float) else value
        return SyncLimits(**values)


def _kind(value: Any) -> str:
    return {str: "text", bool: "a boolean", int: "an integer", float: "a number", dict: "a table",
            list: "a list"}.get(type(value), type(value).__name__)
