"""Jira wiki markup (Data Center and REST v2 text bodies) to Markdown and back, through the ADF tree.

Wiki text is read into ADF (see `_wiki_parse`) and written as Markdown by `adf`; Markdown is read
into ADF and written as wiki text here. Written: `h1.`, `*strong*`, `_em_`, `-strike-`, `{{mono}}`
(the `{*}…{*}` forms inside words), `[text|url]`, `[~accountid:ID]` / `[~user]` mentions, `*`/`#`
lists, `||h||`/`|c|` tables, `{code:lang}` (`{noformat}` without a language), `{quote}`, `----`,
`!image!`; a line break is a newline in a paragraph and `\\\\` in list items and table cells.
Not kept: list items with several paragraphs (joined with `\\\\`), ordered list start numbers,
quotes inside quotes (flattened), mention display names (wiki mentions only carry the user).
"""

from __future__ import annotations

import re

from ._check import fail
from ._md_blocks import parse_markdown
from ._md_inline import EMOJI
from ._md_write import text_pieces
from ._wiki_parse import parse_wiki
from .adf import INLINE_TYPES, adf_to_markdown, date_text, text_of

__all__ = ["wiki_to_markdown", "markdown_to_wiki"]

_OPEN = {"strong": "*", "em": "_", "strike": "-", "underline": "+", "sup": "^", "sub": "~"}
_ORDER = {"link": 0, "strong": 1, "em": 2, "strike": 3, "underline": 4, "sup": 5, "sub": 6}
_ENTITY = re.compile(r"&#\d{1,7};")
_LISTS = ("bulletList", "orderedList", "taskList", "decisionList")


def wiki_to_markdown(text: str | None, *, where: str = "wiki") -> str:
    """Markdown for Jira wiki markup (None gives "")."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise fail(where, "wiki markup text", text)
    return adf_to_markdown({"type": "doc", "content": parse_wiki(text)}, where=where)


def markdown_to_wiki(text: str | None) -> str:
    """Jira wiki markup for Markdown text (None gives "")."""
    if text is None:
        return ""
    if not isinstance(text, str):
        raise fail("markdown", "text", text)
    return _join(_blocks(parse_markdown(text), False))


def _join(parts: list[str]) -> str:
    return "\n\n".join(p for p in parts if p)


def _blocks(nodes: list[dict], quoted: bool) -> list[str]:
    out: list[str] = []
    run: list[dict] = []
    for node in nodes:
        if node["type"] in INLINE_TYPES:
            run.append(node)
            continue
        if run:
            out.append(_inline(run, "para"))
            run = []
        out.extend(_block(node, quoted))
    if run:
        out.append(_inline(run, "para"))
    return out


def _block(node: dict, quoted: bool) -> list[str]:
    t = node["type"]
    kids = node.get("content", [])
    if t == "paragraph":
        return [_inline(kids, "para")]
    if t == "heading":
        text = _inline(kids, "heading")
        return [f"h{node.get('attrs', {}).get('level', 1)}." + (" " + text if text else "")]
    if t in _LISTS:
        return [_list(node, "")]
    if t == "codeBlock":
        text = "".join(text_of(k, "", 0) for k in kids)
        lang = (node.get("attrs") or {}).get("language")
        if lang and "{code}" not in text:
            return [f"{{code:{lang}}}\n{text}\n{{code}}"]
        macro = "{code}" if "{noformat}" in text else "{noformat}"
        return [f"{macro}\n{text}\n{macro}"]
    if t in ("blockquote", "panel"):
        inner = _blocks(kids, True)
        return inner if quoted else ["{quote}\n" + _join(inner) + "\n{quote}"]
    if t == "rule":
        return ["----"]
    if t == "table":
        return [_table(kids)]
    if t in ("mediaSingle", "mediaGroup"):
        return [" ".join(_media(k) for k in kids if k["type"] == "media")]
    return _blocks(kids, quoted) if kids else [_inline([node], "para")]


def _list(node: dict, prefix: str) -> str:
    marker = prefix + ("#" if node["type"] == "orderedList" else "*")
    lines = []
    for item in node.get("content", []):
        if item["type"] in _LISTS:  # a task list nested right in its parent list
            lines.append(_list(item, marker))
            continue
        head, nested = [], []
        if item["type"] == "taskItem":  # wiki has no check boxes: keep the box as text
            box = "[x] " if (item.get("attrs") or {}).get("state") == "DONE" else "[ ] "
            item = {"type": "listItem", "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": box}, *item.get("content", [])]}]}
        for kid in item.get("content", []) if item["type"] == "listItem" else [item]:
            if kid["type"] in _LISTS:
                nested.append(_list(kid, marker))
            else:
                head.append(_flat(kid, "item"))
        text = "\\\\".join(h for h in head if h)
        lines.append(marker + (" " + text if text else ""))
        lines.extend(nested)
    return "\n".join(lines)


def _flat(node: dict, ctx: str) -> str:
    """A block as one line of wiki text, for list items and table cells."""
    t = node["type"]
    kids = node.get("content", [])
    if t in INLINE_TYPES:
        return _inline([node], ctx)
    if t in ("paragraph", "heading"):
        return _inline(kids, ctx)
    if t == "codeBlock":
        text = "".join(text_of(k, "", 0) for k in kids).replace("\n", " ")
        return _inline([{"type": "text", "text": text, "marks": [{"type": "code"}]}], ctx) if text else ""
    if t == "media":
        return _media(node)
    return "\\\\".join(p for p in (_flat(k, ctx) for k in kids) if p)


def _table(rows: list[dict]) -> str:
    lines = []
    for row in rows:
        line, sep = "", "|"
        for cell in row.get("content", []):
            sep = "||" if cell["type"] == "tableHeader" else "|"
            text = "\\\\".join(p for p in (_flat(k, "cell") for k in cell.get("content", [])) if p)
            line += sep + (text or " ")
        if line:
            lines.append(line + sep)
    return "\n".join(lines)


def _esc_url(url: str) -> str:
    # Braces too: a `{quote}` inside a target would close the quote the link sits in.
    return _escape_plain(url, "[]|!{}")


def _escape_plain(text: str, chars: str) -> str:
    text = "".join("&#38;" if c == "&" and _ENTITY.match(text, i) else c for i, c in enumerate(text))
    text = text.replace("\\", "&#92;")
    return "".join("\\" + c if c in chars else c for c in text)


def _media(node: dict) -> str:
    attrs = node.get("attrs") or {}
    url, ident = attrs.get("url"), attrs.get("id")
    target = url if url and (attrs.get("type") == "external" or not ident) else (ident or url or "")
    if not target:
        return ""  # an image pointing nowhere has nothing to show
    alt = attrs.get("alt")
    params = f"|alt={alt}" if alt and alt != "attachment" and re.fullmatch(r"[^,|!=\n\\{}\[\]]+", alt) else ""
    return "!" + _escape_plain(target, "!|{}") + params + "!"


def _escape(text: str) -> str:
    """Escape what the wiki parser would read as markup (delimiters only where they could open or close)."""
    out = []
    n = len(text)
    for i, c in enumerate(text):
        prev = text[i - 1] if i else None
        nxt = text[i + 1] if i + 1 < n else None
        if c == "\\":
            c = "&#92;"
        elif c == "&" and _ENTITY.match(text, i):
            c = "&#38;"
        elif c in "{}[]|":
            c = "\\" + c
        elif c in "*_-+^~":
            opens = (prev is None or not prev.isalnum()) and (nxt is None or not nxt.isspace())
            closes = (prev is None or not prev.isspace()) and (nxt is None or not nxt.isalnum())
            if opens or closes:
                c = "\\" + c
        elif (c == "?" and nxt == "?") or (c == "!" and nxt is not None and not nxt.isspace()):
            c = "\\" + c
        elif c == ":" and (prev is None or not prev.isalnum()) and EMOJI.match(text, i):
            c = "\\:"
        out.append(c)
    return "".join(out)


def _line_start(escaped: str) -> str:
    if re.match(r"(h[1-6]|bq)\.", escaped):
        cut = escaped.index(".")
        return escaped[:cut] + "&#46;" + escaped[cut + 1:]
    return "\\" + escaped if escaped.startswith("#") else escaped


def _inline(nodes: list[dict], ctx: str) -> str:
    w = _Writer(ctx)
    for node in nodes:
        t = node["type"]
        marks = node.get("marks", [])
        attrs = node.get("attrs") or {}
        if t == "text":
            w.text(node.get("text", ""), marks)
        elif t == "hardBreak":
            w.hard_break()
        elif t == "mention":
            ident = attrs.get("id", "")
            who = ident if attrs.get("_scheme") == "user" else f"accountid:{ident}"
            w.atom("[~" + _esc_url(who) + "]", [])
        elif t == "emoji" and EMOJI.fullmatch(attrs.get("shortName") or ""):
            w.atom(attrs["shortName"], [])
        elif t == "inlineCard" and attrs.get("url"):
            w.text(attrs["url"], [{"type": "link", "attrs": {"href": attrs["url"]}}])
        elif t == "date":
            w.text(date_text(attrs.get("timestamp")), marks)
        elif t == "mediaInline":
            w.atom(_media(node), [])
        else:
            w.text(text_of(node, "", 0), marks)
    return w.finish()


class _Writer:
    """Inline wiki text; a delimiter pair next to a letter or digit is written in the `{*}` form."""

    def __init__(self, ctx: str) -> None:
        self.ctx = ctx  # "para", "heading", "item" or "cell"
        self.toks: list[list] = []  # [kind, text, raw, pair]; kind: t, sp, br, open, close, atom
        self.stack: list[tuple[str, str, int]] = []
        self.line_start = ctx == "para"
        self.pairs = 0

    def _close_to(self, keep: int) -> None:
        if len(self.stack) <= keep:
            return
        trail = []
        while self.toks and self.toks[-1][0] in ("sp", "br"):
            trail.append(self.toks.pop())
        while len(self.stack) > keep:
            kind, href, pair = self.stack.pop()
            if kind != "link":
                self.toks.append(["close", _OPEN[kind], "", pair])
                continue
            start = next(i for i, t in enumerate(self.toks) if t[0] == "open" and t[3] == pair)
            inner = self.toks[start + 1:]
            if href and all(t[0] == "t" for t in inner) and "".join(t[2] for t in inner) == href:
                del self.toks[start:]
                self.toks.append(["atom", "[" + _esc_url(href) + "]", href, pair])
            else:
                self.toks.append(["close", "|" + _esc_url(href) + "]", "", pair])
        self.toks.extend(reversed(trail))

    def _sync(self, marks: list[dict]) -> None:
        wanted: list[tuple[str, str]] = []
        for m in marks:
            kind = m.get("type")
            attrs = m.get("attrs") or {}
            kind = attrs.get("type") if kind == "subsup" else kind
            if kind in _ORDER and kind not in (w[0] for w in wanted):
                wanted.append((kind, attrs.get("href") or "" if kind == "link" else ""))
        wanted.sort(key=lambda w: _ORDER[w[0]])
        keep = 0
        while keep < len(self.stack) and self.stack[keep][:2] in wanted:
            keep += 1
        self._close_to(keep)
        for kind, href in wanted:
            if (kind, href) not in [s[:2] for s in self.stack]:
                self.pairs += 1
                self.toks.append(["open", "[" if kind == "link" else _OPEN[kind], "", self.pairs])
                self.stack.append((kind, href, self.pairs))

    def text(self, text: str, marks: list[dict]) -> None:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if any(m.get("type") == "code" for m in marks):
            code = text.replace("\n", " ")
            if code:
                self.atom("{{" + _escape_plain(code, "{}") + "}}", marks)
            return
        for hard_break, leading, core, trailing in text_pieces(text):
            if hard_break:
                self.hard_break()
            self._space(leading)
            if not core:
                continue
            self._sync(marks)
            escaped = _escape(core)
            self.toks.append(["t", _line_start(escaped) if self.line_start else escaped, core, 0])
            self.line_start = False
            self._space(trailing)

    def _space(self, text: str) -> None:
        if text and not self.line_start:
            self.toks.append(["sp", " " if self.ctx == "heading" else text, text, 0])

    def atom(self, wiki: str, marks: list[dict]) -> None:
        self._sync(marks)
        self.toks.append(["atom", wiki, "", 0])
        self.line_start = False

    def hard_break(self) -> None:
        if self.ctx == "heading":
            self._space(" ")
            return
        if self.ctx == "para":
            self._close_to(0)  # wiki emphasis does not run across lines
        while self.toks and self.toks[-1][0] == "sp":
            self.toks.pop()
        newline = self.ctx == "para" and not self.line_start
        self.toks.append(["br", "\n" if newline else "\\\\", "", 0])
        self.line_start = self.ctx == "para"

    def finish(self) -> str:
        self._close_to(0)
        toks = self.toks
        while toks and toks[-1][0] in ("sp", "br"):
            toks.pop()
        if self.ctx != "para":
            while toks and toks[0][0] in ("sp", "br"):
                toks.pop(0)
        braced = set()
        for i, (kind, _, _, pair) in enumerate(toks):
            if kind == "open" and _near(toks, i, -1).isalnum() or kind == "close" and _near(toks, i, 1).isalnum():
                braced.add(pair)
        out = []
        for i, (kind, text, _, pair) in enumerate(toks):
            if kind in ("open", "close") and text in _OPEN.values() and pair in braced:
                text = "{" + text + "}"
            elif kind == "t" and text.endswith("!") and not text.endswith("\\!") and \
                    not _near(toks, i, 1).isspace() and _near(toks, i, 1):
                text = text[:-1] + "\\!"  # "!" before more text could open an image
            out.append(text)
        return "".join(out)


def _near(toks: list[list], i: int, step: int) -> str:
    """The character next to token i (step -1: before, 1: after); delimiters count as punctuation."""
    j = i + step
    while 0 <= j < len(toks):
        kind, text = toks[j][0], toks[j][1]
        if kind in ("open", "close"):
            return "*"
        if text:
            return text[-1] if step < 0 else text[0]
        j += step
    return ""
