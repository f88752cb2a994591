"""The `rulelang dry-run` and `rulelang compile` commands: rules + sample JSON in, replica or change set out, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import click

from .errors import RulelangError

__all__ = ["register", "dry_run", "compile_cmd", "result_doc"]

EXIT_RULE_ERROR = 1
EXIT_BAD_INPUT = 2


class _BadInput(Exception):
    """An input file cannot be used (exit 2); the message is shown as it is."""


def _bad(message: str) -> _BadInput:
    return _BadInput(f"error: {message}")


def _read_rules(path: str) -> tuple[bytes, str]:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise _bad(f"cannot read {path}: {e.strerror or e}") from None
    return data, data.decode("utf-8", "replace").removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _read_json(path: str, what: str) -> Any:
    from runtime.payload import parse_json

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise _bad(f"cannot read {what} {path}: {e.strerror or e}") from None
    try:
        return parse_json(data, path)
    except RulelangError as e:
        raise _BadInput(e.render()) from None


def _neutral(doc: Any, path: str, what: str) -> dict:
    """A neutral issue as is; a raw Jira REST issue (v2 or v3, recognised by its `fields`) converted first."""
    if not isinstance(doc, dict):
        raise _bad(f"{path}: the {what} must be a JSON object")
    if isinstance(doc.get("fields"), dict):
        try:
            from connectors.jira.model import is_jira_issue, issue_from_jira
        except ImportError:
            raise _bad(f"{path}: looks like a raw Jira issue, but the Jira connector is not installed") from None
        if is_jira_issue(doc):
            try:
                return issue_from_jira(doc)
            except RulelangError as e:
                raise _BadInput(e.render()) from None
            except (KeyError, TypeError, ValueError) as e:
                raise _bad(f"{path}: cannot read this Jira issue: {e}") from None
    return doc


def _log_json(log: list) -> list[dict]:
    return [{"line": x.line, "col": x.col, "text": x.text} for x in log]


def _explain_json(explain: Any) -> dict[str, str]:
    return {field: f"{s.file}:{s.line}:{s.col}" for field, s in sorted(explain.items())}


def result_doc(kind: str, result: Any, explain: bool = False) -> dict[str, Any]:
    """The JSON document of one dry-run: outgoing {replica, skipped, log}; incoming {issue, create, changes,
    skipped, log}; with `explain`, {field: "file:line:col"} as well."""
    if kind == "outgoing":
        doc: dict[str, Any] = {"replica": result.replica, "skipped": result.skipped, "log": _log_json(result.log)}
    else:
        doc = {"issue": result.issue, "create": result.changes.create,
               "changes": [op.to_json() for op in result.changes.operations], "skipped": result.skipped,
               "log": _log_json(result.log)}
    if explain:
        doc["explain"] = _explain_json(result.explain)
    return doc


@click.command("dry-run")
@click.argument("rules", type=click.Path(dir_okay=False))
@click.option("--issue", "issue_path", required=True, type=click.Path(dir_okay=False),
              help="The issue (outgoing) or the received replica (incoming): neutral JSON or a raw Jira issue.")
@click.option("--kind", type=click.Choice(["outgoing", "incoming"]), help="Program kind (default: inferred).")
@click.option("--local", "local_path", type=click.Path(dir_okay=False),
              help="Incoming: the local twin issue (absent: first sync).")
@click.option("--previous", "previous_path", type=click.Path(dir_okay=False),
              help="Incoming: the replica applied last time.")
@click.option("--lookups", "lookups_path", type=click.Path(dir_okay=False),
              help="Users by e-mail, twins by remote key and id maps: {users, twins, id_maps}.")
@click.option("--explain", is_flag=True, help="Name the rule line that set each field.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--isolate", is_flag=True, help="Run in a worker process with memory and CPU limits.")
@click.option("--from", "sender", metavar="INSTANCE",
              help="Connection scripts: the instance --issue comes from; runs its outgoing and the other's incoming.")
def dry_run(rules: str, issue_path: str, kind: str | None, local_path: str | None, previous_path: str | None,
            lookups_path: str | None, explain: bool, fmt: str, isolate: bool, sender: str | None) -> None:
    """Run RULES on a sample issue and show the replica or the change set. Nothing is written anywhere."""
    if isolate:
        sys.exit(_isolated(_rebuild_args(locals())))
    try:
        data, text = _read_rules(rules)
        issue = _neutral(_read_json(issue_path, "issue"), issue_path, "issue")
        local = _neutral(_read_json(local_path, "local issue"), local_path, "local issue") if local_path else None
        previous = _read_json(previous_path, "previous replica") if previous_path else None
        if previous is not None and not isinstance(previous, dict):
            raise _bad(f"{previous_path}: the previous replica must be a JSON object")
        lookups, id_maps = _lookups(lookups_path)
    except _BadInput as e:
        click.echo(str(e), err=True)
        sys.exit(EXIT_BAD_INPUT)
    if sender is not None:  # a connection script: split, then Green out → replica → Blue in
        from ._cli_split import dry_run_connection

        sys.exit(dry_run_connection(rules, data, sender, issue, local, lookups, id_maps, explain, fmt))
    from runtime import compile_rules

    try:
        program = compile_rules(data, rules, kind=kind)
        if program.kind == "outgoing":
            result = program.run_outgoing(issue, lookups=lookups)
        else:
            result = program.run_incoming(issue, issue=local, previous=previous, id_maps=id_maps, lookups=lookups)
        doc = result_doc(program.kind, result, explain)
    except RulelangError as e:
        if type(e).__name__ == "PayloadError" and not e.span:
            click.echo(e.render(), err=True)
            sys.exit(EXIT_BAD_INPUT)
        click.echo(e.render({rules: text}), err=True)
        sys.exit(EXIT_RULE_ERROR)
    if fmt == "json":
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    from ._cli_run_text import render_text

    click.echo(render_text(doc, program.kind, rules, text, local, result.explain if explain else None))


def _lookups(path: str | None) -> tuple[Any, dict]:
    if not path:
        return None, {}
    from runtime.lookups import StaticLookups

    doc = _read_json(path, "look-ups")
    try:
        lookups = StaticLookups.from_json(doc)
    except ValueError as e:
        raise _bad(f"{path}: {e}") from None
    return lookups, lookups.id_maps


def _isolated(args: list[str]) -> int:
    """Run the same dry-run in a child process with rlimits and a wall-clock kill; relay its output."""
    code = "import sys; from rulelang.cli import main; sys.argv[0] = 'rulelang'; main()"

    def limits() -> None:  # in the child, before exec
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (512 * 1024 * 1024, 512 * 1024 * 1024))
        resource.setrlimit(resource.RLIMIT_CPU, (10, 10))

    try:
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, timeout=20,
                              preexec_fn=limits if os.name == "posix" else None, env=dict(os.environ))
    except subprocess.TimeoutExpired:
        click.echo("error: the worker process took too long and was killed", err=True)
        return EXIT_RULE_ERROR
    sys.stdout.write(done.stdout.decode("utf-8", "replace"))
    sys.stderr.write(done.stderr.decode("utf-8", "replace"))
    if done.returncode < 0:
        click.echo(f"error: the worker process was killed (signal {-done.returncode})", err=True)
        return EXIT_RULE_ERROR
    return done.returncode


def _rebuild_args(p: dict) -> list[str]:
    args = ["dry-run", p["rules"], "--issue", p["issue_path"], "--format", p["fmt"]]
    for flag, key in (("--kind", "kind"), ("--local", "local_path"), ("--previous", "previous_path"),
                      ("--lookups", "lookups_path"), ("--from", "sender")):
        if p.get(key):
            args += [flag, p[key]]
    if p.get("explain"):
        args.append("--explain")
    return args


@click.command("compile")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--kind", type=click.Choice(["outgoing", "incoming"]), help="Program kind (default: inferred).")
def compile_cmd(file: str, kind: str | None) -> None:
    """Print the Python generated for FILE (for the curious and for bug reports)."""
    try:
        data, text = _read_rules(file)
    except _BadInput as e:
        click.echo(str(e), err=True)
        sys.exit(EXIT_BAD_INPUT)
    from .codegen import compile_source

    try:
        compiled = compile_source(data, file, kind)
    except RulelangError as e:
        click.echo(e.render({file: text}), err=True)
        sys.exit(EXIT_RULE_ERROR)
    click.echo(f"# generated from {file} ({compiled.kind} rules) by rulelang", nl=True)
    click.echo(compiled.python(), nl=False)


def register(group: click.Group) -> None:
    group.add_command(dry_run)
    group.add_command(compile_cmd)
