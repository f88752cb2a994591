"""`rulelang lint`: every diagnostic of rule files and folders, as text, JSON, SARIF 2.1.0 or GitHub annotations.

Exit codes: 0 clean (warnings allowed), 1 a finding at error level (or any warning with
--strict), 2 a usage error or a file that could not be read (the other files are still linted).
"""

from __future__ import annotations

import json
import pathlib
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import click

from . import model
from .check import instance_names
from .codes import CODES, severity_of
from .errors import ERROR, ConfigError, Diagnostic, render
from .program import Checked, load_file

__all__ = ["lint", "register", "JSON_FORMAT_VERSION"]

JSON_FORMAT_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


@dataclass(frozen=True)
class _Unreadable:
    """A path that could not be read: reported, counted, and exit code 2."""

    file: str
    diagnostic: Diagnostic


def _expand(paths: Sequence[pathlib.Path]) -> Iterable[pathlib.Path | _Unreadable]:
    """Files as given; folders searched recursively for *.rules, in a stable order."""
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.rules") if p.is_file())
            if not found:
                yield _Unreadable(str(path), Diagnostic("K700", f"no .rules files under {path}", None))
            yield from found
        else:
            yield path


def _lint_one(path: pathlib.Path, kind: str | None, instances: Sequence[str] | None) -> Checked | _Unreadable:
    try:
        return load_file(path, kind=kind, instances=instances)
    except ConfigError as e:
        return _Unreadable(str(path), e.diagnostic)
    except IsADirectoryError:  # pragma: no cover - folders are expanded before
        return _Unreadable(str(path), Diagnostic("K700", f"cannot read {path}: is a folder", None))


def _summary(results: Sequence[Checked | _Unreadable], strict: bool) -> dict:
    errors = sum(len(r.errors) for r in results if isinstance(r, Checked))
    warnings = sum(len(r.warnings) for r in results if isinstance(r, Checked))
    unreadable = sum(1 for r in results if isinstance(r, _Unreadable))
    code = 2 if unreadable else 1 if errors or (strict and warnings) else 0
    return {"files": len(results), "errors": errors, "warnings": warnings, "unreadable": unreadable,
            "strict": strict, "exit_code": code}


def _plural(k: int, word: str) -> str:
    return f"{k} {word}" + ("" if k == 1 else "s")


# ---- formats (each returns the whole output as one text)


def format_text(results: Sequence[Checked | _Unreadable], summary: dict) -> str:
    out: list[str] = []
    for r in results:
        if isinstance(r, _Unreadable):
            out.append(f"{r.file}: error {r.diagnostic.code}: {r.diagnostic.message}")
        else:
            out.extend(render(d, r.source) for d in r.diagnostics)
    out.append(_summary_line(summary))
    return "\n".join(out)


def _summary_line(summary: dict) -> str:
    """`3 files checked: 1 error, 2 warnings` or `2 files checked: no problems`."""
    found = [_plural(summary["errors"], "error"), _plural(summary["warnings"], "warning")]
    if summary["unreadable"]:
        found.append(f"{summary['unreadable']} unreadable")
    tail = "no problems" if not (summary["errors"] or summary["warnings"] or summary["unreadable"]) \
        else ", ".join(found)
    return f"{_plural(summary['files'], 'file')} checked: {tail}"


def format_json(results: Sequence[Checked | _Unreadable], summary: dict) -> str:
    """`{"version", "files": [...], "diagnostics": [...], "summary": {...}}` (docs/language.md, "lint")."""
    files, diags = [], []
    for r in results:
        if isinstance(r, _Unreadable):
            files.append({"file": r.file, "readable": False, "kind": None, "instances": [], "errors": 1,
                          "warnings": 0, "ok": False})
            diags.append({"file": r.file, **r.diagnostic.to_json()})
            continue
        files.append({"file": r.file, "readable": True, "kind": r.kind, "instances": list(r.instances),
                      "errors": len(r.errors), "warnings": len(r.warnings), "ok": r.ok})
        for d in r.diagnostics:
            diags.append({"file": r.file, **d.to_json()})
    return json.dumps({"version": JSON_FORMAT_VERSION, "files": files, "diagnostics": diags, "summary": summary},
                      indent=2, ensure_ascii=False)


def _uri(file: str) -> str:
    p = pathlib.PurePath(file)
    if p.is_absolute():
        return pathlib.Path(file).as_uri()
    return urllib.parse.quote(p.as_posix())


def format_sarif(results: Sequence[Checked | _Unreadable], summary: dict) -> str:
    """SARIF 2.1.0: one run, one rule per code, columns counted in Unicode code points."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        tool_version = version("rulelang")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        tool_version = "0"
    codes = sorted(CODES) + ["K700"]
    index = {c: i for i, c in enumerate(codes)}
    rules = [{"id": c, "name": c,
              "shortDescription": {"text": CODES.get(c, "a rule file could not be read")},
              "defaultConfiguration": {"level": severity_of(c)}} for c in codes]
    out = []
    for r in results:
        pairs = [(r.file, r.diagnostic)] if isinstance(r, _Unreadable) else [(r.file, d) for d in r.diagnostics]
        for file, d in pairs:
            text = d.message + (f"\nhint: {d.hint}" if d.hint else "")
            location: dict = {"physicalLocation": {"artifactLocation": {"uri": _uri(file)}}}
            if d.span is not None:
                s = d.span
                location["physicalLocation"]["region"] = {
                    "startLine": s.line, "startColumn": s.col, "endLine": max(s.end_line, s.line),
                    "endColumn": max(s.end_col, s.col + 1) if s.end_line <= s.line else max(1, s.end_col)}
            out.append({"ruleId": d.code, "ruleIndex": index.get(d.code, index["K700"]),
                        "level": "error" if d.severity == ERROR else "warning",
                        "message": {"text": text}, "locations": [location]})
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "rulelang", "version": tool_version, "rules": rules}},
        "columnKind": "unicodeCodePoints",
        "results": out,
    }]}
    return json.dumps(log, indent=2, ensure_ascii=False)


def escape_data(text: str) -> str:
    """A workflow command's message: %, CR and LF escaped (GitHub's toolkit `escapeData`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also ':' and ',' (GitHub's toolkit `escapeProperty`)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(results: Sequence[Checked | _Unreadable], summary: dict) -> str:
    """`::error file=…,line=…,col=…,endColumn=…,title=CODE::message` lines (warnings as ::warning)."""
    out = []
    for r in results:
        pairs = [(r.file, r.diagnostic)] if isinstance(r, _Unreadable) else [(r.file, d) for d in r.diagnostics]
        for file, d in pairs:
            props = [("file", file)]
            if d.span is not None:
                s = d.span
                props += [("line", str(s.line)), ("col", str(s.col))]
                if s.end_line > s.line:
                    props.append(("endLine", str(s.end_line)))
                else:
                    props.append(("endColumn", str(max(s.end_col, s.col + 1))))
            props.append(("title", d.code))
            text = d.message + (f"\nhint: {d.hint}" if d.hint else "")
            level = "error" if d.severity == ERROR else "warning"
            out.append(f"::{level} " + ",".join(f"{k}={escape_property(v)}" for k, v in props)
                       + f"::{escape_data(text)}")
    out.append(_summary_line(summary))
    return "\n".join(out)


FORMATS = {"text": format_text, "json": format_json, "sarif": format_sarif, "github": format_github}


def _split_instances(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(v.strip() for v in value.split(",") if v.strip())
    if not names:
        raise click.BadParameter("give instance names separated by commas, like BlueJira,GreenJira")
    try:
        return instance_names(names)
    except ConfigError as e:
        raise click.BadParameter(e.diagnostic.message) from None


def run_lint(paths: Sequence[pathlib.Path], kind: str | None = None, instances: Sequence[str] | None = None,
             strict: bool = False) -> tuple[list[Checked | _Unreadable], dict]:
    """Lint every file (folders expanded); the per-file results and the summary, nothing printed."""
    results: list[Checked | _Unreadable] = []
    for item in _expand(paths):
        results.append(item if isinstance(item, _Unreadable) else _lint_one(item, kind, instances))
    return results, _summary(results, strict)


@click.command("lint")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=pathlib.Path))
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="text", show_default=True,
              help="text for people; json, sarif (code scanning) or github (workflow annotations) for tools.")
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("--kind", type=click.Choice(model.KINDS), default=None,
              help="The program kind; by default inferred per file from what it writes.")
@click.option("--instances", callback=_split_instances, metavar="A,B", default=None,
              help="The instance names of connection scripts; by default inferred from the roots used.")
@click.option("--sharing", is_flag=True,
              help="Also report which issue fields each outgoing program (or each side of a connection script) "
                   "can send (text and json formats).")
def lint(paths: tuple[pathlib.Path, ...], fmt: str, strict: bool, kind: str | None,
         instances: tuple[str, ...] | None, sharing: bool) -> None:
    """Check rule files (FILE or DIR, searched for *.rules): syntax, names, fields, kinds, flow.

    Exit 0 when clean, 1 on an error-level finding (or any warning with --strict),
    2 on a usage error or an unreadable file.
    """
    if sharing and fmt not in ("text", "json"):
        raise click.UsageError("--sharing works with --format text or json")
    results, summary = run_lint(paths, kind, instances, strict)
    output = FORMATS[fmt](results, summary)
    if sharing:
        from .sharing import add_to_lint_output

        output = add_to_lint_output(output, fmt, results)
    click.echo(output)
    raise SystemExit(summary["exit_code"])


def register(group: click.Group) -> None:
    group.add_command(lint)

