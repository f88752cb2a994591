"""rulelang, the language: rule text → checked syntax tree, connection-script splitting, one error family.

The API for linters, editors and scripts; running rules is `runtime.compile_rules`.

    from rulelang import load
    checked = load(text, "qa-out.rules")        # never raises for bad rules: findings come back
    checked.ok, checked.kind                     # True/False, "outgoing" | "incoming" | "connection"
    print(checked.render())                      # file:line:col: error CODE: message, source line, caret

    from rulelang.parse import parse             # the stages one by one (each a submodule, one entry point)
    from rulelang.check import check
    program = parse(text, "qa-out.rules")        # raises RuleSyntaxError (one positioned diagnostic)
    result = check(program, kind="outgoing")     # CheckResult: every finding, none raised

Errors (all carry `.diagnostics`, each with a code, message, `Span` and optional hint; `.render()`):

    RulelangError
    ├── RuleSyntaxError   S1xx  the text does not parse
    ├── CheckError        R1xx/R2xx/C3xx  the checker found errors
    ├── RuleRuntimeError  X4xx  a rule failed while running
    │   ├── BudgetError   B5xx  a run went past a budget
    │   └── RuleFailed    X490  `fail "…"`
    ├── PayloadError      P6xx  an input document is malformed or too large
    ├── ConfigError       K7xx  a connection folder or config is wrong
    └── InternalError     I900  a bug in rulelang (please report)

The names load on first use, so importing a submodule (the CLI does) stays light. The stages keep their
entry points in their own modules (`rulelang.parse.parse`, `rulelang.check.check`, `rulelang.split.split`):
a package attribute of the same name as a submodule would be the function or the module depending on
import order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_names

__all__ = [
    "load", "load_file", "Checked", "ParseLimits", "CheckResult", "SplitResult", "format_program", "Span",
    "Diagnostic", "render", "render_all",
    "RulelangError", "RuleSyntaxError", "CheckError", "RuleRuntimeError", "BudgetError", "RuleFailed",
    "PayloadError", "ConfigError", "InternalError",
]

_WHERE = {
    "load": "program", "load_file": "program", "Checked": "program", "ParseLimits": "parse",
    "CheckResult": "check", "SplitResult": "split", "format_program": "format", "Span": "span",
    **{name: "errors" for name in __all__[__all__.index("Diagnostic"):]},
}

if TYPE_CHECKING:
    from .check import CheckResult
    from .errors import (
        BudgetError,
        CheckError,
        ConfigError,
        Diagnostic,
        InternalError,
        PayloadError,
        RuleFailed,
        RulelangError,
        RuleRuntimeError,
        RuleSyntaxError,
        render,
        render_all,
    )
    from .format import format_program
    from .parse import ParseLimits
    from .program import Checked, load, load_file
    from .span import Span
    from .split import SplitResult


__getattr__, __dir__ = lazy_names(globals(), _WHERE)
