"""Markdown inline syntax (emphasis, code, links, mentions, emoji, images, line breaks) to ADF inline nodes.

Emphasis follows CommonMark's delimiter-run rules so that `***a***` or `snake_case_name` read as a
CommonMark renderer reads them; every newline inside a paragraph is a line break (GitHub issue style).
"""

from __future__ import annotations

import re
import string
import unicodedata

__all__ = ["EMOJI", "MARK_ORDER", "parse_inline", "flanking", "MAX_LINK_NESTING"]

EMOJI = re.compile(r":(?=[A-Za-z0-9_+\-]*[A-Za-z])[A-Za-z0-9_+\-]+:")
MAX_LINK_NESTING = 16
_ESCAPABLE = frozenset(string.punctuation)
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
MARK_ORDER = {"link": 0, "strong": 1, "em": 2, "strike": 3, "underline": 4, "subsup": 5, "code": 6}


def parse_inline(text: str, *, cell: bool = False, depth: int = 0) -> list[dict]:
    """ADF inline nodes for one paragraph's Markdown (`cell`: inside a table, where `<br>` breaks lines)."""
    pieces = _scan(text, cell, depth)
    _emphasis(pieces)
    return _finish(pieces)


def _is_punct(c: str) -> bool:
    return bool(c) and unicodedata.category(c)[0] in "PS"


def flanking(prev: str, nxt: str) -> tuple[bool, bool]:
    """CommonMark left- and right-flanking for a delimiter run between `prev` and `nxt` ("" is an edge)."""
    prev_space = not prev or prev.isspace()
    next_space = not nxt or nxt.isspace()
    left = not next_space and (not _is_punct(nxt) or prev_space or _is_punct(prev))
    right = not prev_space and (not _is_punct(prev) or next_space or _is_punct(nxt))
    return left, right


def _text(text: str, marks: list | None = None) -> dict:
    return {"k": "text", "text": text, "marks": list(marks or [])}


def _run_length(s: str, i: int) -> int:
    j = i
    while j < len(s) and s[j] == s[i]:
        j += 1
    return j - i


def _code_end(s: str, i: int, run: int) -> int:
    """Where the backtick run of exactly `run` closing the code span opened at `i` starts, or -1."""
    j = i + run
    while True:
        j = s.find("`" * run, j)
        if j < 0:
            return -1
        k = _run_length(s, j)
        if k == run:
            return j
        j += k


def _scan(s: str, cell: bool, depth: int) -> list[dict]:
    out: list[dict] = []
    buf: list[str] = []
    i, n = 0, len(s)

    def flush(strip_end: bool = False) -> None:
        text = "".join(buf)
        buf.clear()
        if strip_end:
            text = text.rstrip()
            if not text and out and out[-1]["k"] == "text":
                out[-1]["text"] = out[-1]["text"].rstrip()
        if text:
            out.append(_text(text))

    def hard_break(j: int) -> int:
        flush(strip_end=True)
        out.append({"k": "node", "node": {"type": "hardBreak"}, "marks": []})
        while j < n and s[j] in " \t":
            j += 1
        return j

    while i < n:
        c = s[i]
        nxt = s[i + 1] if i + 1 < n else ""
        if c == "\\":
            if nxt == "\n":
                i = hard_break(i + 2)
            elif nxt in _ESCAPABLE and nxt:
                buf.append(nxt)
                i += 2
            else:
                buf.append(c)
                i += 1
            continue
        if c == "\n":
            i = hard_break(i + 1)
            continue
        if c == "`":
            run = _run_length(s, i)
            end = _code_end(s, i, run)
            if end < 0:
                buf.append("`" * run)
                i += run
                continue
            code = s[i + run:end].replace("\n", " ")
            if len(code) >= 2 and code[0] == " " and code[-1] == " " and code.strip(" "):
                code = code[1:-1]
            flush()
            if code:
                out.append(_text(code, [{"type": "code"}]))
            i = end + run
            continue
        if c in "*_~":
            run = _run_length(s, i)
            if c == "~" and run != 2:
                buf.append(c * run)
                i += run
                continue
            left, right = flanking(s[i - 1] if i else "", s[i + run] if i + run < n else "")
            if c == "_":
                prev, after = (s[i - 1] if i else ""), (s[i + run] if i + run < n else "")
                can_open = left and (not right or _is_punct(prev))
                can_close = right and (not left or _is_punct(after))
            else:
                can_open, can_close = left, right
            flush()
            out.append({"k": "delim", "ch": c, "n": run, "orig": run, "open": can_open,
                        "close": can_close, "marks": []})
            i += run
            continue
        if c in "!@[" and (c == "[" or nxt == "[") and depth < MAX_LINK_NESTING:
            link = _link_at(s, i if c == "[" else i + 1)
            if link is not None:
                label, dest, end = link
                node = _special(c, label, dest)
                if node is not None or c == "[":
                    flush()
                    if node is not None:
                        out.append({"k": "node", "node": node, "marks": []})
                    else:
                        out.extend(_linked(parse_inline(label, cell=cell, depth=depth + 1), dest))
                    i = end
                    continue
        if c == ":" and (i == 0 or not s[i - 1].isalnum()):
            m = EMOJI.match(s, i)
            if m:
                flush()
                out.append({"k": "node", "node": {"type": "emoji", "attrs": {"shortName": m.group()}},
                            "marks": []})
                i = m.end()
                continue
        if c == "<" and cell:
            m = _BR.match(s, i)
            if m:
                i = hard_break(m.end())
                continue
        buf.append(c)
        i += 1
    flush()
    return out


def _special(c: str, label: str, dest: str) -> dict | None:
    """The image or mention a `![…](…)` / `@[…](…)` stands for; None for a plain link."""
    label = re.sub(r"\\(.)", r"\1", label)
    if c == "!":
        attrs: dict = {"type": "external", "url": dest} if "://" in dest else \
            {"type": "file", "id": dest, "collection": ""}
        if label and label != "attachment":
            attrs["alt"] = label
        return {"type": "mediaInline", "attrs": attrs}
    if c == "@":
        scheme, _, ident = dest.partition(":")
        if scheme in ("accountid", "user") and ident:
            attrs = {"id": ident, "text": "@" + (label or ident)}
            if scheme == "user":
                attrs["_scheme"] = "user"  # a Data Center user name, from wiki markup
            return {"type": "mention", "attrs": attrs}
    return None


def _linked(nodes: list[dict], href: str) -> list[dict]:
    """Pieces for a link's label: its text nodes carry the link mark (an inner link loses to the outer)."""
    out = []
    for node in nodes:
        marks = [m for m in node.get("marks", []) if m["type"] != "link"]
        if node["type"] == "text":
            out.append(_text(node["text"], marks + [{"type": "link", "attrs": {"href": href}}]))
        else:
            out.append({"k": "node", "node": node, "marks": []})
    return out


def _link_at(s: str, i: int) -> tuple[str, str, int] | None:
    """(label, destination, end) for `[label](destination "title")` starting at s[i] == "[", or None."""
    n = len(s)
    depth, j = 0, i
    while j < n:
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if c == "`":
            run = _run_length(s, j)
            end = _code_end(s, j, run)
            j = end + run if end >= 0 else j + run
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                break
        j += 1
    if j >= n or not s.startswith("(", j + 1):
        return None
    label = s[i + 1:j]
    k = j + 2
    while k < n and s[k] in " \t":
        k += 1
    dest, k = _dest_at(s, k)
    if dest is None:
        return None
    while k < n and s[k] in " \t\n":
        k += 1
    if k < n and s[k] in "\"'(":
        close = ")" if s[k] == "(" else s[k]
        k += 1
        while k < n and s[k] != close:
            k += 2 if s[k] == "\\" else 1
        k += 1
        while k < n and s[k] in " \t\n":
            k += 1
    if k >= n or s[k] != ")":
        return None
    return label, dest, k + 1


def _unescape(text: str) -> str:
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


def _dest_at(s: str, k: int) -> tuple[str | None, int]:
    n = len(s)
    if k < n and s[k] == "<":
        j = k + 1
        while j < n and s[j] not in ">\n":
            j += 2 if s[j] == "\\" else 1
        if j >= n or s[j] != ">":
            return None, k
        return _unescape(s[k + 1:j]), j + 1
    j, parens = k, 0
    while j < n and not s[j].isspace():
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if c == "(":
            parens += 1
        elif c == ")":
            if parens == 0:
                break
            parens -= 1
        j += 1
    if parens:
        return None, k
    return _unescape(s[k:min(j, n)]), min(j, n)


def _emphasis(pieces: list[dict]) -> None:
    """CommonMark's "process emphasis": pair delimiter runs and mark the pieces between them."""
    delims = [i for i, p in enumerate(pieces) if p["k"] == "delim"]
    for pos, ci in enumerate(delims):
        closer = pieces[ci]
        while closer["close"] and closer["n"] > 0:
            found = None
            for oi in reversed(delims[:pos]):
                opener = pieces[oi]
                if opener["ch"] != closer["ch"] or not opener["open"] or opener["n"] == 0:
                    continue
                if closer["ch"] == "~":
                    if opener["n"] != closer["n"]:
                        continue
                elif ((opener["close"] or closer["open"]) and (opener["orig"] + closer["orig"]) % 3 == 0
                      and not (opener["orig"] % 3 == 0 and closer["orig"] % 3 == 0)):
                    continue
                found = oi
                break
            if found is None:
                break
            opener = pieces[found]
            use = 2 if opener["n"] >= 2 and closer["n"] >= 2 else 1
            kind = "strike" if closer["ch"] == "~" else "strong" if use == 2 else "em"
            for k in range(found + 1, ci):
                inner = pieces[k]
                if not any(m["type"] == kind for m in inner["marks"]):
                    inner["marks"].append({"type": kind})
                if inner["k"] == "delim":
                    inner["open"] = inner["close"] = False
            opener["n"] -= use
            closer["n"] -= use


def _finish(pieces: list[dict]) -> list[dict]:
    out: list[dict] = []
    for p in pieces:
        if p["k"] == "node":
            out.append(p["node"])
            continue
        text = p["ch"] * p["n"] if p["k"] == "delim" else p["text"]
        if not text:
            continue
        marks = sorted(p["marks"], key=lambda m: MARK_ORDER.get(m["type"], 9))
        if out and out[-1]["type"] == "text" and out[-1].get("marks", []) == marks:
            out[-1]["text"] += text
            continue
        node: dict = {"type": "text", "text": text}
        if marks:
            node["marks"] = marks
        out.append(node)
    return out
