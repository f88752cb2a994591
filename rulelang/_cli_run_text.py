"""Text output of `rulelang dry-run`: the replica, or a readable diff of the local issue; log and explain lines."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["render_text"]

_WIDTH = 100


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _WIDTH else text[:_WIDTH - 1] + "…"


def render_text(doc: dict, kind: str, file: str, source: str, local: dict | None, explain: Any) -> str:
    out: list[str] = []
    if doc.get("skipped") is not None:
        out.append(f"skipped: {doc['skipped']}")
    elif kind == "outgoing":
        out.append("replica:")
        out.append(json.dumps(doc["replica"], indent=2, ensure_ascii=False))
    else:
        out.extend(_diff(doc, local))
    for line in doc["log"]:
        out.append(f"log {file}:{line['line']}:{line['col']}: {line['text']}")
    if explain:
        lines = source.splitlines()
        out.append("explain:")
        width = max(len(f) for f in explain)
        for field in sorted(explain):
            span = explain[field]
            rule = lines[span.line - 1].strip() if 0 < span.line <= len(lines) else ""
            out.append(f"  {field.ljust(width)}  ← line {span.line}: {rule}")
    return "\n".join(out)


def _diff(doc: dict, local: dict | None) -> list[str]:
    local = local or {}
    ops = doc["changes"]
    out: list[str] = []
    link = next((op for op in ops if op["op"] == "link"), None)
    if link is not None:
        out.append(f"first sync: links to the existing issue {link['key']}")
    elif doc["create"]:
        out.append("first sync: a new issue would be created")
    else:
        out.append(f"changes to {local.get('key') or 'the local issue'}:")
    if not ops:
        out.append("  (no changes)")
    for op in ops:
        kind = op["op"]
        if kind == "set":
            old = _old(local, op["field"])
            before = "" if doc["create"] or link else f"{_short(old)} → "
            out.append(f"  {op['field']}: {before}{_short(op['value'])}")
        elif kind == "status":
            before = "" if doc["create"] else f"{_short(local.get('status'))} → "
            out.append(f"  status: {before}{_short(op['value'])} (moved by a transition)")
        elif kind == "add":
            out.append(f"  + {op['kind']} from remote {op['remote_id']}: {_short(op['value'])}")
        elif kind == "update":
            out.append(f"  ~ {op['kind']} {op['local_id']} (remote {op['remote_id']}): {_short(op['value'])}")
        elif kind == "delete":
            out.append(f"  - {op['kind']} {op['local_id']} (remote {op['remote_id']})")
    return out


def _old(local: dict, field: str) -> Any:
    if field.startswith("custom."):
        custom = local.get("custom")
        return custom.get(field[len("custom."):]) if isinstance(custom, dict) else None
    return local.get(field)
