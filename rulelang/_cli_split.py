"""`rulelang split`, and the connection-script half of `rulelang dry-run` (`--from INSTANCE`)."""

# Exit codes: 0 done; 1 the script has errors or cannot be split (or a rule failed in a dry-run);
# 2 a usage error, an unreadable file or an unwritable output folder.

from __future__ import annotations

import json
import pathlib
import sys
from typing import Any

import click

from .errors import ConfigError, RulelangError
from .split import SplitResult, split

__all__ = ["register", "split_cmd", "load_split", "dry_run_connection"]

EXIT_FINDINGS = 1
EXIT_USAGE = 2


class _Stop(Exception):
    """Stop the command with this exit code (the message is already printed)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _instances(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    if len(names) != 2 or names[0] == names[1]:
        raise click.BadParameter("name the connection's two instances, like BlueJira,GreenJira")
    from .check import instance_names

    try:
        return instance_names(names)
    except ConfigError as e:
        raise click.BadParameter(e.diagnostic.message) from None


def load_split(data: bytes | str, file: str, instances: tuple[str, ...] | None) -> SplitResult:
    """Parse, check and split a connection script; print every finding and raise _Stop(1) when it has errors."""
    from .program import load

    checked = load(data, file, kind="connection", instances=instances)
    if checked.diagnostics:
        click.echo(checked.render(), err=True)
    if not checked.ok or checked.program is None:
        raise _Stop(EXIT_FINDINGS)
    names = instances if instances is not None else (checked.instances if len(checked.instances) == 2 else None)
    try:
        return split(checked.program, names)
    except RulelangError as e:
        click.echo(e.render({file: checked.source}), err=True)
        raise _Stop(EXIT_FINDINGS) from None


def _read(path: str) -> bytes:
    try:
        return pathlib.Path(path).read_bytes()
    except OSError as e:
        click.echo(f"error: cannot read {path}: {e.strerror or e}", err=True)
        raise _Stop(EXIT_USAGE) from None


@click.command("split")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--instances", callback=_instances, metavar="A,B", default=None,
              help="The connection's two instances; by default the two the script names.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Write A-outgoing.rules, A-incoming.rules, B-… into this folder instead of printing them.")
def split_cmd(file: str, instances: tuple[str, ...] | None, out_dir: str | None) -> None:
    """Split a connection script into each instance's outgoing and incoming rules.

    Each generated line ends with a comment naming the line of FILE it comes from.
    """
    try:
        result = load_split(_read(file), file, instances)
        files = result.files()
        if out_dir is None:
            click.echo("\n".join(f"// ==== {name} ====\n{text}" for name, text in files.items()), nl=False)
            return
        folder = pathlib.Path(out_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for name, text in files.items():
                (folder / name).write_text(text, encoding="utf-8")
        except OSError as e:
            click.echo(f"error: cannot write to {folder}: {e.strerror or e}", err=True)
            raise _Stop(EXIT_USAGE) from None
        for name in files:
            click.echo(f"wrote {folder / name}")
    except _Stop as s:
        sys.exit(s.code)


# ---- dry-run of a connection script --------------------------------------------------------------


def dry_run_connection(rules: str, data: bytes, sender: str, issue: dict, local: dict | None, lookups: Any,
                       id_maps: dict, explain: bool, fmt: str) -> int:
    """Run `sender`'s outgoing program on `issue` and the other instance's incoming program on the replica
    (with `local` as its twin); print both results. Returns the exit code. Errors name connection-script lines."""
    from runtime import Rules

    from ._cli_run import result_doc
    from ._cli_run_text import render_text
    from .codegen import compile_program

    try:
        result = load_split(data, rules, None)
    except _Stop as s:
        return s.code
    if sender not in result.instances:
        click.echo(f"error: --from {sender}: the instances of {rules} are {', '.join(result.instances)}", err=True)
        return EXIT_USAGE
    target = result.other(sender)
    source = result.script.source
    doc: dict[str, Any] = {"from": sender, "to": target, "outgoing": None, "incoming": None}
    text: list[str] = [f"{sender} → {target} ({rules}, split)"]
    try:
        outgoing = Rules(compile_program(result.program(sender, "outgoing"), "outgoing"))
        incoming = Rules(compile_program(result.program(target, "incoming"), "incoming"))
        out = outgoing.run_outgoing(issue, lookups=lookups)
        doc["outgoing"] = result_doc("outgoing", out, explain)
        text += [f"{sender} outgoing:", _indent(render_text(doc["outgoing"], "outgoing", rules, source, None,
                                                            out.explain if explain else None))]
        if out.replica is not None:
            inc = incoming.run_incoming(out.replica, issue=local, id_maps=id_maps, lookups=lookups)
            doc["incoming"] = result_doc("incoming", inc, explain)
            text += [f"{target} incoming:", _indent(render_text(doc["incoming"], "incoming", rules, source, local,
                                                                inc.explain if explain else None))]
    except RulelangError as e:
        click.echo(e.render({rules: source}), err=True)
        return EXIT_FINDINGS
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False) if fmt == "json" else "\n".join(text))
    return 0


def _indent(text: str) -> str:
    return "\n".join("  " + line if line else line for line in text.splitlines())


def register(group: click.Group) -> None:
    group.add_command(split_cmd)

