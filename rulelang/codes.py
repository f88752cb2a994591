"""The table of front-end diagnostic codes (syntax S1xx, checks R1xx/R2xx, connection scripts C3xx) and their severities."""

from __future__ import annotations

__all__ = ["CODES", "WARNINGS", "severity_of"]

# One line per code: what it means. docs/language.md lists the same table (a test keeps them equal).
CODES: dict[str, str] = {
    # ---- syntax (rulelang.parse raises one of these; the linter reports it like any other finding)
    "S100": "the text does not parse (a case no more specific message covers)",
    "S101": "a spelling from another language or a character rulelang does not use (`&&`, `!`, `é`, `0x10`)",
    "S102": "a token in the wrong place: the message says what was expected",
    "S103": "brackets or braces do not match: one is unclosed, mismatched or has no opener",
    "S104": "unclosed text or comment",
    "S105": "a word from another language (`def`, `return`, `while`, `import`, …) that rulelang does not have",
    "S106": "`=` and `==` confused: `=` assigns, `==` compares",
    "S107": "a map key written with `${…}`: map keys are plain text",
    "S108": "an unknown backslash escape in text",
    "S109": "the file is not UTF-8 text, or holds a NUL byte",
    "S110": "the rule text is larger than the limit (64 KiB by default)",
    "S111": "nesting deeper than the limits (32 brackets and blocks, 200 expression levels)",
    "S112": "the `else` line of a value map is not its last line, or there are two",
    # ---- names and vocabulary (errors)
    "R101": "unknown name: not a root of this kind of program, a variable or an instance",
    "R102": "unknown field of the issue model (or of a user, comment, attachment, worklog, link)",
    "R103": "write to something read-only (`issue` in outgoing, `replica`/`previous` in incoming, `created`)",
    "R104": "a root that exists only in incoming programs (`previous`, `first_sync`) used elsewhere",
    "R105": "unknown built-in function",
    "R106": "unknown method",
    "R107": "wrong number of arguments",
    "R108": "a method that needs a lambda got a value, or one that needs a value got a lambda",
    "R109": "a lambda outside a method argument (lambdas exist only as `xs.filter(x -> …)` arguments)",
    "R110": "the left side of `=` is not a field path or a variable",
    "R111": "a variable used or assigned before its `let`, or never declared",
    "R112": "`let` declares a name already declared in the same block",
    "R113": "a keyword or root name used as a variable name",
    "R114": "the same key twice in one map literal",
    "R115": "a field read on a value that has no fields (a list, a text, a number or a bool)",
    "R116": "the file mixes kinds: it writes both `replica` (outgoing) and `issue` (incoming)",
    "R117": "a whole root assigned (`replica = …`): assign its fields",
    "R118": "a program run or compiled as a kind it is not (a connection script run directly, outgoing rules run as incoming)",
    # ---- values and flow
    "R201": "a `let` variable that is never read",
    "R202": "unreachable statement: it follows `skip` or `fail` in the same block",
    "R203": "a value assigned and then overwritten before anything reads it",
    "R204": "a text assigned to a list-of-text field: it becomes a one-element list",
    "R205": "the program writes nothing, so its kind could not be inferred: pass --kind",
    "R206": "an operator that does not fit the value (`-=` on text, `+=` on a user)",
    "R207": "a method used on a value it does not apply to (`filter` on text, `lower` on a list)",
    # ---- connection scripts
    "C301": "an instance name not declared for this connection",
    "C302": "more than two instances named in one connection script",
    "C303": "a value map between fields of incompatible types (a list of text and a text, comments, …)",
    "C304": "both sides of a value map are on the same instance",
    "C305": "a statement target (or map side) that is not an issue field of an instance",
    "C306": "a value map (`map … <-> … { }`) outside a connection script",
    "C307": "a value-map literal that is not text (value maps hold text)",
    "C308": "a value-map key mapped twice in the same direction",
    "C309": "`issue`, `replica` or `previous` in a connection script: name the instance (`Blue.issue`)",
    "C310": "a connection script to split must name exactly two instances",
}

WARNINGS = frozenset({"R201", "R202", "R203", "R204", "R205", "C302"})


def severity_of(code: str) -> str:
    """'warning' or 'error': each code has one severity."""
    return "warning" if code in WARNINGS else "error"
