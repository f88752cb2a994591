"""A stand-in for the rules runtime in engine tests: the program text is a JSON spec of what to copy.

{"fields": ["summary", ...], "comments": true, "skip_label": "x", "fail_label": "y", "prefix": "[QA] "}
Outgoing copies `key` and the fields (and non-internal comments); incoming sets a field when the replica's
value differs from `previous` (the merge-friendly pattern) and merges comments by id map.
"""

from __future__ import annotations

import json
import os
import time
from types import SimpleNamespace
from typing import Any

from rulelang.errors import RuleFailed
from rulelang.span import Span
from runtime.changes import AddItem, ChangeSet, DeleteItem, SetField, UpdateItem

__all__ = ["compile_rules"]


class _Fake:
    def __init__(self, spec: dict[str, Any], file: str, kind: str) -> None:
        self.spec, self.file, self.kind = spec, file, kind

    def _check(self, issue: Any) -> bool:
        labels = (issue or {}).get("labels") or []
        if "slow" in labels:
            time.sleep(30)
        if "hog" in labels:
            hoard = bytearray(4 * 1024**3)  # past any worker's RLIMIT_AS
            del hoard
        if "crash" in labels:
            os._exit(7)
        if self.spec.get("fail_label") in labels:
            raise RuleFailed(f"label {self.spec['fail_label']} says no", Span.point(self.file, 3, 5))
        return self.spec.get("skip_label") in labels

    def run_outgoing(self, issue, lookups=None, limits=None):
        if self._check(issue):
            return SimpleNamespace(replica=None, skipped=True, log=[])
        replica = {"key": issue["key"]}
        for f in self.spec.get("fields", []):
            replica[f] = issue.get(f)
        if self.spec.get("lookup_user") and lookups is not None:
            replica["reporter"] = lookups.user((issue.get("reporter") or {}).get("email"))
        if self.spec.get("comments"):
            replica["comments"] = [{"id": c["id"], "body": c["body"]} for c in issue.get("comments", [])
                                   if not c.get("internal")]
        return SimpleNamespace(replica=replica, skipped=False, log=[])

    def run_incoming(self, replica, issue=None, previous=None, id_maps=None, lookups=None, limits=None):
        if self._check(replica):
            return SimpleNamespace(issue=None, changes=None, skipped=True, log=[])
        ops: list[Any] = []
        prefix = self.spec.get("prefix", "")
        for f in self.spec.get("fields", []):
            if f not in replica:
                continue
            value = replica[f]
            if f == "summary" and value is not None:
                value = prefix + value
            if previous is None or previous.get(f) != replica[f]:
                ops.append(SetField((f,), value))
        if self.spec.get("comments"):
            known = dict((id_maps or {}).get("comments", {}))
            before = {c["id"]: c for c in (previous or {}).get("comments", [])}
            seen = set()
            for c in replica.get("comments", []):
                seen.add(c["id"])
                if c["id"] not in known:
                    ops.append(AddItem("comments", c["id"], {"body": c["body"]}))
                elif before.get(c["id"], {}).get("body") != c["body"]:
                    ops.append(UpdateItem("comments", c["id"], known[c["id"]], {"body": c["body"]}))
            for rid, lid in known.items():
                if rid not in seen and rid in before:
                    ops.append(DeleteItem("comments", rid, lid))
        return SimpleNamespace(issue=None, changes=ChangeSet(issue is None, tuple(ops)), skipped=False, log=[])


def compile_rules(source: str, file: str, kind: str | None = None) -> _Fake:
    return _Fake(json.loads(source), file, kind or "outgoing")
