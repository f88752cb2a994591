"""`rulelang init | sync | push | bulk | status | queue | retry | pause | resume | unlink`: run a connection folder.

Exit codes: 0 done; 1 the run parked issues in the error queue (or met unreadable
issues); 2 a config or usage error; 130 interrupted (Ctrl-C, between issues).
"""

from __future__ import annotations

import json
import os
import signal
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from rulelang.errors import RulelangError, render_all
from runtime.config import CONFIG_FILE, ConnectionConfig, load_config
from runtime.engine import Engine, compile_programs
from runtime.state import open_state, state_path

from ._connectors import SPECS
from ._sync_templates import write_connection
from ._wiring import connection_factory

__all__ = ["register"]

EXIT_OK, EXIT_PARKED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
_folder = click.argument("folder", type=click.Path(file_okay=False))
_json = click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")


# ---- plumbing ----

def _fail(e: RulelangError) -> None:
    """Print a rulelang error with its source lines, then exit 2."""
    sources: dict[str, str] = {}
    for d in e.diagnostics:
        if d.span is not None and d.span.file not in sources:
            try:
                sources[d.span.file] = Path(d.span.file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                pass
    click.echo(render_all(e.diagnostics, sources), err=True)
    raise SystemExit(EXIT_USAGE)


@contextmanager
def _errors() -> Iterator[None]:
    """Bad input is a message and exit 2; a bug is one line (a traceback only with RULELANG_DEBUG=1)."""
    try:
        yield
    except RulelangError as e:
        _fail(e)
    except (click.ClickException, SystemExit, KeyboardInterrupt):
        raise
    except Exception as e:
        if os.environ.get("RULELANG_DEBUG"):
            traceback.print_exc()
        click.echo(f"internal error: {type(e).__name__}: {e} (please report it; RULELANG_DEBUG=1 shows "
                   "the traceback)", err=True)
        raise SystemExit(EXIT_PARKED) from None


def _config(folder: str) -> ConnectionConfig:
    return load_config(folder, connectors=SPECS)


def _engine(folder: str, progress: Callable[[str, int, int | None], None] | None = None,
            *, rules: bool = True) -> Engine:
    config = _config(folder)
    programs = compile_programs(config) if rules else None
    return Engine(config, open_state(state_path(config.folder)), connection_factory(config), programs=programs,
                  progress=progress)


class _Bar:
    """A rich progress display on stderr, one line per stage; nothing when stderr is not a terminal."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True,
                                 disable=not console.is_terminal)
        self.tasks: dict[str, Any] = {}

    def __call__(self, stage: str, advance: int, total: int | None) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total)
        elif total is not None:
            self.progress.update(self.tasks[stage], total=total)
        self.progress.advance(self.tasks[stage], advance)


@contextmanager
def _running(engine: Engine, err: Console) -> Iterator[None]:
    """First Ctrl-C: finish the current issue and stop; a second one stops at once."""
    def on_sigint(signum: int, frame: Any) -> None:
        if engine.stop.is_set():
            raise KeyboardInterrupt
        engine.stop.set()
        err.print("[yellow]stopping after the current issue… (Ctrl-C again to stop now)[/]")

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _run(folder: str, as_json: bool, work: Callable[[Engine], Any], *, rules: bool = True) -> None:
    """Open the engine, run `work` with progress and Ctrl-C handling, print the summary, exit with its code."""
    err = Console(stderr=True)
    bar = _Bar(err)
    code = EXIT_OK
    with _errors():
        engine = _engine(folder, bar, rules=rules)
        try:
            with _running(engine, err), bar.progress:
                report = work(engine)
        except KeyboardInterrupt:
            err.print("interrupted")
            raise SystemExit(EXIT_INTERRUPTED) from None
        finally:
            engine.close()
    if report is not None:
        _print_report(report, as_json)
        code = EXIT_INTERRUPTED if report.interrupted else EXIT_PARKED if report.failed else EXIT_OK
    raise SystemExit(code)


def _print_report(report: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
        return
    out = Console(width=110)
    table = Table("direction", "noticed", "sent", "unchanged", "applied", "created", "skipped", "errors",
                  title="sync summary", title_justify="left")
    for name, c in report.directions.items():
        table.add_row(name, *(str(v) for v in (c.noticed, c.sent, c.unchanged, c.applied, c.created, c.skipped,
                                                c.errors)),
                      style="red" if c.errors else None)
    out.print(table)
    tail = f"queue: {report.waiting} waiting, {report.in_error} in error · {report.seconds:.2f} s"
    if report.paused:
        tail += " · [yellow]paused: changes are queued, not delivered (rulelang resume)[/]"
    if report.interrupted:
        tail += " · [yellow]interrupted[/]"
    out.print(tail)
    for line in report.unreadable:
        out.print(f"[red]unreadable issue[/] {line}")
    for line in report.problems:
        out.print(f"[red]problem[/] {line}")
    if report.total.errors:
        out.print("see the errors: [bold]rulelang queue DIR[/]; after fixing: [bold]rulelang retry DIR --all[/]")


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(*columns, title=title, title_justify="left")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(width=140).print(table)


# ---- commands ----

@click.command()
@_folder
@click.option("--basic", is_flag=True,
              help="Default rules: summary, description, type, comments and attachments, both ways.")
@click.option("--instances", default="QA,Dev", show_default=True, metavar="A,B",
              help="The two local trackers' instance names.")
def init(folder: str, basic: bool, instances: str) -> None:
    """Create a connection folder FOLDER with two local trackers.

    Writes connection.toml, the four rule files and two empty trackers. Without
    --basic the rules sync the summary only; edit them, then `rulelang sync FOLDER`.
    """
    names = [n.strip() for n in instances.split(",")]
    if len(names) != 2 or not all(n.isidentifier() and n.isascii() for n in names) or names[0] == names[1]:
        raise click.UsageError("--instances takes two different names, like QA,Dev")
    path = Path(folder)
    if (path / CONFIG_FILE).exists():
        raise click.UsageError(f"{path / CONFIG_FILE} exists already")
    with _errors():
        written = write_connection(path, names[0], names[1], basic=basic)
    click.echo(f"created {path} ({', '.join(written)})")
    click.echo(f"next: rulelang local new {path} --instance {names[0]} --summary 'First' --label sync; "
               f"rulelang sync {path}")


@click.command()
@_folder
@click.option("--watch", is_flag=True, help="Keep syncing, a pass every --interval seconds, until Ctrl-C.")
@click.option("--interval", type=click.FloatRange(0.1), default=None,
              help="Seconds between passes with --watch (default: [limits] poll_interval_seconds).")
@_json
def sync(folder: str, watch: bool, interval: float | None, as_json: bool) -> None:
    """One pass over FOLDER: notice changes, queue replicas, deliver them.

    Prints a summary table (noticed, sent, applied, skipped, errors). A paused
    connection notices and queues but does not deliver. Ctrl-C stops after the
    issue at hand. Exit 0 done, 1 when the pass parked an issue in the error
    queue (see `rulelang queue`), 2 on a config error, 130 when interrupted.
    """
    def work(engine: Engine) -> Any:
        if not watch:
            return engine.sync()
        wait = interval if interval is not None else engine.config.limits.poll_interval_seconds
        while True:
            report = engine.sync()
            if report.interrupted or engine.stop.wait(wait):
                report.interrupted = True
                return report
            _print_report(report, as_json)

    _run(folder, as_json, work)


@click.command()
@_folder
@click.argument("keys", nargs=-1, required=True)
@_json
def push(folder: str, keys: tuple[str, ...], as_json: bool) -> None:
    """Sync these issues now (also for a manual direction, and whether a trigger matches or not)."""
    _run(folder, as_json, lambda engine: engine.push(keys))


@click.command()
@_folder
@click.option("--trigger", "trigger", type=int, required=True, help="The trigger's number (1 = the first).")
@_json
def bulk(folder: str, trigger: int, as_json: bool) -> None:
    """Push every issue a trigger matches, changed recently or not."""
    _run(folder, as_json, lambda engine: engine.bulk(trigger))


@click.command()
@_folder
@click.argument("key", required=False)
@_json
def status(folder: str, key: str | None, as_json: bool) -> None:
    """Twins and their state: synced, waiting, paused, or error (with the reason). KEY: one twin in detail."""
    with _errors():
        engine = _engine(folder, rules=False)
        try:
            rows, paused, counts = engine.status(key), engine.store.is_paused(), engine.store.queue_counts()
        finally:
            engine.close()
    if as_json:
        click.echo(json.dumps({"paused": paused, "queue": counts, "twins": rows}, indent=2))
        return
    names = list(engine.config.instances)
    _table(f"{engine.config.name}{' (paused)' if paused else ''}", [*names, "state", "reason"],
           [[r["keys"][n] or "(not created yet)" for n in names] + [r["state"], r["reason"]] for r in rows])
    if key is not None:
        for r in rows:
            _table("queue", ["id", "direction", "seq", "state", "attempts", "reason"],
                   [[e["id"], e["direction"], e["seq"], e["state"], e["attempts"], e["reason"]] for e in r["entries"]])
            _table("events", ["at", "level", "event", "message"],
                   [[e["at"], e["level"], e["kind"], e["message"]] for e in r["events"]])
    click.echo(f"queue: {counts['pending'] + counts['in_progress']} waiting, {counts['error']} in error")


@click.command()
@_folder
@_json
def queue(folder: str, as_json: bool) -> None:
    """The queue's open entries: the error queue (with reasons) and what waits for delivery."""
    with _errors():
        engine = _engine(folder, rules=False)
        try:
            rows = engine.queue()
        finally:
            engine.close()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("the queue is empty")
        return
    _table("queue", ["id", "direction", "source", "target", "state", "attempts", "reason"],
           [[r["id"], r["direction"], r["source"], r["target"], r["state"], r["attempts"], r["reason"]]
            for r in rows])


@click.command()
@_folder
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_", is_flag=True, help="Retry every entry in the error queue.")
@_json
def retry(folder: str, ids: tuple[int, ...], all_: bool, as_json: bool) -> None:
    """Put entries of the error queue (IDs from `rulelang queue`, or --all) back, then deliver them in order."""
    if bool(ids) == all_:
        raise click.UsageError("give entry IDs (see `rulelang queue`) or --all")

    def work(engine: Engine) -> Any:
        count, report = engine.retry(None if all_ else ids)
        if not as_json:
            click.echo(f"{count} entr{'y' if count == 1 else 'ies'} back in the queue")
        return report

    _run(folder, as_json, work)


def _flag(folder: str, paused: bool) -> None:
    with _errors():
        engine = _engine(folder, rules=False)
        try:
            engine.set_paused(paused)
        finally:
            engine.close()
    click.echo(f"{engine.config.name}: " + ("paused (changes are noticed and queued, not delivered)"
                                           if paused else "resumed (the next sync delivers the queue in order)"))


@click.command()
@_folder
def pause(folder: str) -> None:
    """Pause the connection: syncs still notice and queue changes but deliver nothing."""
    _flag(folder, True)


@click.command()
@_folder
def resume(folder: str) -> None:
    """Resume the connection: the next sync delivers what was queued, in order."""
    _flag(folder, False)


@click.command()
@_folder
@click.argument("key")
def unlink(folder: str, key: str) -> None:
    """Stop syncing the twin holding KEY (either side); its queued changes are dropped.

    Both issues stay. If a trigger still matches KEY's issue, its next change makes a new twin.
    """
    with _errors():
        engine = _engine(folder, rules=False)
        try:
            twin = engine.unlink(key)
        finally:
            engine.close()
    other = twin.key_b if twin.key_a == key else twin.key_a
    click.echo(f"unlinked {key} <-> {other or '(never created)'}: they no longer sync")


def register(group: click.Group) -> None:
    for command in (init, sync, push, bulk, status, queue, retry, pause, resume, unlink):
        group.add_command(command)
