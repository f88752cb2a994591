"""rulelang runtime: runs compiled rule programs in a sandbox, and the sync engine around them.

The API for the engine and for scripts: compile once, run many times.

    from runtime import compile_rules
    rules = compile_rules(source, "qa-out.rules")          # raises RulelangError (CheckError: all findings)
    result = rules.run_outgoing(issue)                      # → OutgoingResult(replica, skipped, log)
    result = rules.run_incoming(replica, issue=local, previous=prev, id_maps=maps, lookups=lookups)

The names below load on first use, so `import runtime.state` (or any other submodule) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rulelang._lazy import lazy_names

__all__ = [
    "compile_rules", "Rules", "Lookups", "StaticLookups", "Limits", "DEFAULT_LIMITS", "OutgoingResult",
    "IncomingResult", "LogLine", "ChangeSet", "parse_json", "PayloadLimits",
]

_WHERE = {
    "compile_rules": "sandbox", "Rules": "sandbox", "Lookups": "lookups", "StaticLookups": "lookups",
    "Limits": "budget", "DEFAULT_LIMITS": "budget", "LogLine": "budget", "OutgoingResult": "apply",
    "IncomingResult": "apply", "ChangeSet": "changes", "parse_json": "payload", "PayloadLimits": "payload",
}

if TYPE_CHECKING:
    from .apply import IncomingResult, OutgoingResult
    from .budget import DEFAULT_LIMITS, Limits, LogLine
    from .changes import ChangeSet
    from .lookups import Lookups, StaticLookups
    from .payload import PayloadLimits, parse_json
    from .sandbox import Rules, compile_rules


__getattr__, __dir__ = lazy_names(globals(), _WHERE)
