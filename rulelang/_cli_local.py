"""`rulelang local …`: create, edit, comment on, show and list issues in a local tracker, and seed one from JSON.

A TARGET is a local tracker folder, or a connection folder with `--instance NAME`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from connectors.local import TRACKER_FILE, LocalTracker
from rulelang.errors import ConfigError, PayloadError, RulelangError
from runtime.config import CONFIG_FILE, load_config

__all__ = ["register", "open_tracker"]


def open_tracker(target: str, instance: str | None) -> LocalTracker:
    """The local tracker at `target`, or the instance `instance` of the connection folder `target`."""
    path = Path(target)
    if not path.is_dir():
        raise ConfigError(f"{target} is not a folder", code="K724")
    if (path / CONFIG_FILE).is_file():
        from ._connectors import SPECS, build_connector

        config = load_config(path, connectors=SPECS)
        local = [n for n, i in config.instances.items() if i.connector == "local"]
        if instance is None:
            raise click.UsageError(f"{target} is a connection folder: add --instance ({' or '.join(local)})")
        if instance not in config.instances:
            raise click.UsageError(f"no instance '{instance}' in {target} (instances: {', '.join(config.instances)})")
        if instance not in local:
            raise click.UsageError(f"instance '{instance}' is not a local tracker")
        return build_connector(config.instances[instance])  # type: ignore[return-value]
    if instance is not None:
        raise click.UsageError(f"--instance needs a connection folder; {target} has no {CONFIG_FILE}")
    if not (path / TRACKER_FILE).is_file():
        raise ConfigError(f"{target} is not a local tracker (no {TRACKER_FILE}); `rulelang init` makes one",
                          code="K724")
    return LocalTracker(path)


def _fields(summary: str | None, description: str | None, type_: str | None, status: str | None,
            priority: str | None, labels: tuple[str, ...], assignee: str | None, parent: str | None,
            sets: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in (("summary", summary), ("description", description), ("type", type_),
                        ("status", status), ("priority", priority), ("assignee", assignee),
                        ("parent", parent)):
        if value is not None:
            out[name] = value
    if labels:
        out["labels"] = [label for label in labels if label]
    for item in sets:
        name, eq, raw = item.partition("=")
        if not eq:
            raise click.UsageError(f"--set takes FIELD=VALUE (VALUE as JSON or text), not {item!r}")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if name.startswith("custom."):
            out.setdefault("custom", {})[name[7:]] = value
        else:
            out[name] = value
    return out


def _run(action: Any) -> None:
    """Run a tracker action; rulelang errors become a message and exit 2, never a traceback."""
    try:
        action()
    except click.ClickException:
        raise
    except RulelangError as e:
        click.echo(f"error: {e}", err=True)
        raise SystemExit(2) from None


_target = click.argument("target", type=click.Path(file_okay=False))
_instance = click.option("--instance", "-i", help="Instance name when TARGET is a connection folder.")
_field_options = [
    click.option("--summary", "-s"), click.option("--description", "-d"),
    click.option("--type", "type_", help="Bug, Task, Story, Sub-task, …"), click.option("--status"),
    click.option("--priority"), click.option("--label", "labels", multiple=True, help="Repeatable; replaces the labels."),
    click.option("--assignee", help="An e-mail or a name."), click.option("--parent", help="Parent key."),
    click.option("--set", "sets", multiple=True, metavar="FIELD=VALUE",
                 help="Any field (custom.NAME for custom fields); VALUE is JSON or text. Repeatable."),
]


def _with_fields(f: Any) -> Any:
    for option in reversed(_field_options):
        f = option(f)
    return f


@click.group("local")
def local() -> None:
    """Work with a local tracker, to watch changes travel.

    TARGET is a local tracker folder, or a connection folder with --instance NAME.
    """


@local.command("new")
@_target
@_instance
@_with_fields
def new(target: str, instance: str | None, **kw: Any) -> None:
    """Create an issue; prints its key."""
    def action() -> None:
        with open_tracker(target, instance) as t:
            if not kw.get("summary"):
                raise click.UsageError("a new issue needs --summary")
            click.echo(t.create_issue(_fields(**kw)))
    _run(action)


@local.command("edit")
@_target
@click.argument("key")
@_instance
@_with_fields
def edit(target: str, key: str, instance: str | None, **kw: Any) -> None:
    """Change fields of an issue."""
    def action() -> None:
        fields = _fields(**kw)
        if not fields:
            raise click.UsageError("nothing to change: give --summary, --status, --set FIELD=VALUE, …")
        with open_tracker(target, instance) as t:
            if t.get_issue(key) is None:
                raise PayloadError(f"no issue {key} in {t.path}", code="P611")
            t.edit_issue(key, fields)
            click.echo(f"{key} updated")
    _run(action)


@local.command("comment")
@_target
@click.argument("key")
@click.argument("body")
@_instance
@click.option("--internal", is_flag=True, help="An internal comment (rules usually keep these home).")
@click.option("--author", help="An e-mail or a name.")
def comment(target: str, key: str, body: str, instance: str | None, internal: bool, author: str | None) -> None:
    """Add a comment to an issue; prints the comment's id."""
    def action() -> None:
        with open_tracker(target, instance) as t:
            click.echo(t.add_comment(key, body, author=author, internal=internal))
    _run(action)


@local.command("show")
@_target
@click.argument("key")
@_instance
@click.option("--json", "as_json", is_flag=True, help="The neutral issue as JSON.")
def show(target: str, key: str, instance: str | None, as_json: bool) -> None:
    """Show one issue."""
    def action() -> None:
        with open_tracker(target, instance) as t:
            issue = t.get_issue(key)
            if issue is None:
                raise PayloadError(f"no issue {key} in {t.path}", code="P611")
            click.echo(json.dumps(issue, indent=2, ensure_ascii=False) if as_json else t.show(key))
    _run(action)


@local.command("list")
@_target
@_instance
@click.option("--query", "-q", help='A trigger query, e.g. \'type = Bug AND labels = "to-dev"\'.')
@click.option("--json", "as_json", is_flag=True, help="The issues as JSON.")
def list_(target: str, instance: str | None, query: str | None, as_json: bool) -> None:
    """List issues (those matching --query)."""
    def action() -> None:
        with open_tracker(target, instance) as t:
            issues = t.list_issues(query)
            if as_json:
                click.echo(json.dumps(issues, indent=2, ensure_ascii=False))
            else:
                from rich.console import Console
                from rich.table import Table

                table = Table("key", "type", "status", "priority", "summary", box=None)
                for i in issues:
                    table.add_row(i["key"], i["type"] or "", i["status"] or "", i["priority"] or "",
                                  i["summary"] or "")
                Console(width=120).print(table)
            for e in t.errors:
                click.echo(f"unreadable: {e}", err=True)
    _run(action)


def register(group: click.Group) -> None:
    group.add_command(local)
