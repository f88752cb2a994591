"""Per-parser-state token regexes for the fast parser, derived from the grammar's terminals exactly as Lark's contextual lexer does."""

from __future__ import annotations

import re
from typing import Any

from lark.lexer import PatternRE, PatternStr

# What the parse loop does with a token of each group (StateLexer.kinds).
PLAIN, RETYPE, NEWLINE, IGNORED, OPEN, CLOSE, MULTILINE, END = range(8)
_KINDS = {"_NL": NEWLINE, "LBRACE": OPEN, "LSQB": OPEN, "LPAR": OPEN, "RBRACE": CLOSE, "RSQB": CLOSE, "RPAR": CLOSE,
          "LONG_STRING": MULTILINE, "$END": END}

# Characters that start exactly one terminal, of one character: the token is that character
# whatever the parser state (where the state does not accept it, Lark fails there too).
SINGLE = {".": ("DOT", PLAIN), ",": ("COMMA", PLAIN), ":": ("COLON", PLAIN), "|": ("VBAR", PLAIN),
          "*": ("MUL_OP", PLAIN), "%": ("MUL_OP", PLAIN), "(": ("LPAR", OPEN), "[": ("LSQB", OPEN),
          "{": ("LBRACE", OPEN), ")": ("RPAR", CLOSE), "]": ("RSQB", CLOSE), "}": ("RBRACE", CLOSE),
          "\n": ("_NL", NEWLINE), ";": ("_NL", NEWLINE)}
NAME_REGEX = re.compile("[A-Za-z][A-Za-z0-9_]*")
LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

# Whitespace Lark ignores (`%ignore /[ \t\f\r]+/`). No terminal starts with one of these
# characters, so skipping them before each token chooses the same tokens as Lark's alternation.
_WS = "[ \t\f\r]*"
WS_TERMINAL = "__IGNORE_2"


class StateLexer:
    """The lexer for one set of acceptable terminals: one compiled regex and the keyword retyping.

    `regex` matches optional whitespace and then one token (or the end of the text, as group
    "$END"); `names[k]` is the terminal of group k (what `match.lastindex` gives);
    `retype[terminal]` maps a matched text to the string terminal Lark types it as (a keyword
    matched by NAME, '-' matched by ADD_OP where MINUS is also acceptable); `kinds[k]` says
    how the parse loop treats group k's tokens (PLAIN, RETYPE, NEWLINE, …).
    """

    __slots__ = ("regex", "names", "retype", "kinds", "name_kind")

    def __init__(self, regex: re.Pattern, names: list[str | None], retype: dict[str, dict[str, str]],
                 ignore: set[str]) -> None:
        self.regex = regex
        self.names = names
        self.retype = retype
        self.kinds = [IGNORED if nm in ignore else RETYPE if nm in retype else _KINDS.get(nm, PLAIN) for nm in names]
        # NAME sorts first among the terminals that start with a letter, so where it is acceptable a
        # word is a NAME (then retyped); None where it is not (the regex decides there).
        self.name_kind = (RETYPE if "NAME" in retype else PLAIN) if "NAME" in names else None


def lexer_for(terminals: list[Any], ignore: set[str]) -> StateLexer:
    """Build the lexer for the given terminal definitions (Lark TerminalDefs) the way Lark's BasicLexer does.

    Lark sorts the terminals by (priority, max width, pattern length, name), drops each string
    terminal that a regex terminal of the same priority matches whole, and retypes that regex
    terminal's matches instead (`_create_unless`); Python's `re` then takes the first alternative
    that matches. The same order and the same retyping give the same tokens.
    """
    terminals = sorted(terminals, key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
    retype: dict[str, dict[str, str]] = {}
    embedded = set()
    for rt in terminals:
        if not isinstance(rt.pattern, PatternRE):
            continue
        for st in terminals:
            if not isinstance(st.pattern, PatternStr) or st.priority != rt.priority:
                continue
            s = st.pattern.value
            m = re.match(rt.pattern.to_regexp(), s)
            if m and m.group(0) == s:
                retype.setdefault(rt.name, {})[s] = st.name
                if set(st.pattern.flags) <= set(rt.pattern.flags):
                    embedded.add(st.name)
    parts = []
    for t in terminals:
        if t.name in embedded or t.name == WS_TERMINAL:
            continue
        if t.pattern.flags:  # pragma: no cover - rules.lark uses no flags; Lark would scope them the same way
            raise ValueError(f"terminal {t.name} has regex flags")
        parts.append((t.name, t.pattern.to_regexp()))
    parts.append(("$END", r"\Z"))
    regex = re.compile(_WS + "(?:" + "|".join(f"({p})" for _, p in parts) + ")")
    names: list[str | None] = [None] * (regex.groups + 1)
    # Each terminal's group is numbered after the inner groups of the terminals before it.
    k = 1
    for name, pattern in parts:
        names[k] = name
        k += 1 + re.compile(pattern).groups
    return StateLexer(regex, names, retype, ignore)


class LexTables:
    """One StateLexer per parser state, shared between states that accept the same terminals, built on first use."""

    def __init__(self, terminals: list[Any], ignore: list[str], accepts: dict[int, set[str]],
                 always_accept: tuple[str, ...]) -> None:
        self._by_name = {t.name: t for t in terminals}
        self._ignore = set(ignore)
        self._always = set(always_accept)
        self._accepts = accepts
        self._by_set: dict[frozenset, StateLexer] = {}
        self.lexers: dict[int, StateLexer] = {}

    def get(self, state: int) -> StateLexer:
        lx = self.lexers.get(state)
        if lx is None:
            key = frozenset(self._accepts[state])
            lx = self._by_set.get(key)
            if lx is None:
                names = set(key) | self._ignore | self._always
                lx = lexer_for([self._by_name[nm] for nm in names if nm in self._by_name], self._ignore)
                self._by_set[key] = lx
            self.lexers[state] = lx
        return lx
