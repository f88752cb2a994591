"""`rulelang serve DIR`: take trackers' webhooks, sync the issues they name at once, and poll as a safety net."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from datetime import datetime
from typing import Any

import click

from rulelang.errors import ConfigError, Diagnostic
from runtime.config import CONFIG_FILE, ConnectionConfig, load_config
from runtime.engine import Engine, compile_programs
from runtime.serving import Service
from runtime.state import open_state, state_path
from runtime.webhooks import WEBHOOK_PATH, Endpoint, WebhookReceiver

from ._cli_sync import EXIT_INTERRUPTED, EXIT_OK, _errors
from ._connectors import SPECS
from ._wiring import connection_factory

__all__ = ["register", "webhook_endpoints"]

SECRET_KEY = "webhook_secret_env"


def _parser(connector: str) -> Any:
    if connector == "jira":
        from connectors.jira.webhooks import webhook_notice

        return webhook_notice
    return None


def webhook_endpoints(config: ConnectionConfig, environ: dict[str, str] | None = None) -> dict[str, Endpoint]:
    """The instances that take webhooks (those with `webhook_secret_env`), each with its secret and parser;
    a ConfigError listing every problem (a variable that is not set, a connector that sends no webhooks)."""
    env = os.environ if environ is None else environ
    where = str(config.folder / CONFIG_FILE)
    problems: list[Diagnostic] = []
    out: dict[str, Endpoint] = {}
    for name, inst in config.instances.items():
        var = inst.settings.get(SECRET_KEY)
        if var is None:
            continue
        parse = _parser(inst.connector)
        if not isinstance(var, str) or not var:
            problems.append(Diagnostic("K723", f"{where}: instances.{name}.{SECRET_KEY} must name an "
                                       "environment variable", None))
        elif parse is None:
            problems.append(Diagnostic("K721", f"{where}: instances.{name}: the {inst.connector} connector sends "
                                       "no webhooks; remove webhook_secret_env", None))
        elif not env.get(var, "").strip():
            problems.append(Diagnostic("K728", f"{where}: instances.{name}.{SECRET_KEY}: environment variable "
                                       f"{var} is not set (it holds the webhook's shared secret)", None))
        else:
            out[name] = Endpoint(name, env[var].strip(), parse)
    if problems:
        raise ConfigError(problems)
    if not out:
        raise ConfigError(f"{where}: no instance takes webhooks: give a Jira instance "
                          f"{SECRET_KEY} = \"NAME_OF_A_VARIABLE\" (or poll with `rulelang sync --watch`)",
                          code="K722")
    return out


def _stamp() -> str:
    return datetime.now().strftime("%H:%M:%S")


def _line(kind: str, report: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"at": datetime.now().astimezone().isoformat(timespec="seconds"), "kind": kind,
                               **report.to_json()}))
        return
    busy = [f"{name}: {c.sent} sent, {c.applied} applied ({c.created} created)"
            + (f", {c.errors} errors" if c.errors else "")
            for name, c in report.directions.items() if c.sent or c.applied or c.errors]
    text = " · ".join(busy) or "nothing to do"
    tail = f"queue {report.waiting} waiting, {report.in_error} in error"
    click.echo(f"[{_stamp()}] {kind}: {text} · {tail}" + (" · paused" if report.paused else ""))
    for line in report.unreadable + report.problems:
        click.echo(f"[{_stamp()}]   problem: {line}")


@click.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (put a TLS-terminating proxy in front; see docs/jira.md).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on; 0 takes a free one (printed).")
@click.option("--poll", "poll", type=click.FloatRange(0.0), default=None,
              help="Seconds between poll passes (default: [limits] poll_interval_seconds); 0: only at start-up.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per pass on stdout.")
@click.option("-v", "--verbose", is_flag=True, help="Log every request.")
def serve(folder: str, host: str, port: int, poll: float | None, as_json: bool, verbose: bool) -> None:
    """Take webhooks for FOLDER's Jira instances and sync the issues they name at once.

    Jira posts to http://HOST:PORT/webhooks/INSTANCE with the instance's shared secret (its
    webhook_secret_env names the variable holding it) as an X-Hub-Signature HMAC, a Bearer
    header or ?secret=. A pass runs at start-up and every --poll seconds, as with polling. See docs/jira.md.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("rulelang")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    try:
        code = _serve(folder, host, port, poll, as_json)
    finally:
        logger.removeHandler(handler)
    raise SystemExit(code)


def _serve(folder: str, host: str, port: int, poll: float | None, as_json: bool) -> int:
    with _errors():
        config = load_config(folder, connectors=SPECS)
        endpoints = webhook_endpoints(config)
        engine = Engine(config, open_state(state_path(config.folder)), connection_factory(config),
                        programs=compile_programs(config))
    interrupted = threading.Event()
    receiver: WebhookReceiver | None = None
    deliveries = None
    previous: dict[int, Any] = {}

    def on_signal(signum: int, frame: Any) -> None:
        if engine.stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        if signum == signal.SIGINT:
            interrupted.set()
        engine.stop.set()
        if receiver is not None:
            receiver.wake.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, on_signal)
    try:
        with _errors():
            deliveries = open_state(state_path(config.folder))
            receiver = WebhookReceiver(deliveries, endpoints, host=host, port=port)
            interval = poll if poll is not None else config.limits.poll_interval_seconds
            service = Service(engine, deliveries, receiver.wake, poll_interval=interval,
                              on_pass=lambda kind, report: _line(kind, report, as_json))
            service.poll()  # takes the folder's lock (one process per folder) and catches up first
            try:
                receiver.start()
            except OSError as e:
                raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror or e}", code="K734") from None
            if not as_json:
                paths = ", ".join(f"{receiver.url}{WEBHOOK_PATH}{name}" for name in endpoints)
                click.echo(f"[{_stamp()}] listening: {paths} (Ctrl-C stops)")
            else:
                click.echo(json.dumps({"kind": "listening", "url": receiver.url,
                                       "endpoints": {n: f"{receiver.url}{WEBHOOK_PATH}{n}" for n in endpoints}}))
            sys.stdout.flush()
            service.run(startup_pass=False)
    except KeyboardInterrupt:
        interrupted.set()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if receiver is not None:
            receiver.stop()
        if deliveries is not None:
            deliveries.close()
        engine.close()
    if not as_json:
        click.echo(f"[{_stamp()}] stopped")
    return EXIT_INTERRUPTED if interrupted.is_set() else EXIT_OK


def register(group: click.Group) -> None:
    group.add_command(serve)

