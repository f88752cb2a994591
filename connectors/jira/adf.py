"""Atlassian Document Format (Jira Cloud rich text) to Markdown and back; Markdown is the neutral model's text.

The Markdown written here is GitHub-flavoured and documented in one place:

* blocks: paragraphs, `#` headings, `-` / `1.` lists (nested by indentation), fenced code with a
  language, `> ` quotes (ADF blockquote and panel), `---` rules, pipe tables (first row is the header,
  line breaks in a cell are `<br>`);
* inline: `**strong**`, `*em*`, `~~strike~~`, `` `code` ``, `[text](url)`, a line break is a plain
  newline inside a paragraph (an empty line inside a paragraph is a lone `\\`);
* `@[Name](accountid:ID)` is a Cloud mention (`@[name](user:NAME)` a Data Center one, from wiki markup),
  `:shortname:` an emoji, `![alt](id-or-url)` an attachment or image (alt defaults to `attachment`);
* status lozenges, dates (UTC `YYYY-MM-DD`), cards and unknown nodes become their text.

Underline, colours, sub/superscript, panel types, column widths and cell spans have no Markdown form
and are dropped; their text is kept.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from rulelang.errors import PayloadError

from ._check import fail
from ._md_blocks import EMOJI, ITEM_LINE, RULE_LINE, parse_markdown, sanitize_for_jira
from ._md_write import InlineWriter, code_span, escape, escape_label, md_dest

__all__ = ["adf_to_markdown", "markdown_to_adf", "MAX_DEPTH", "INLINE_TYPES", "text_of", "date_text"]

MAX_DEPTH = 100  # deeper documents are refused rather than risk Python's recursion limit

INLINE_TYPES = frozenset({"text", "hardBreak", "mention", "emoji", "inlineCard", "status", "date",
                          "mediaInline", "placeholder", "inlineExtension"})
_LISTS = frozenset({"bulletList", "orderedList", "taskList", "decisionList"})


def adf_to_markdown(doc: dict | None, *, where: str = "doc") -> str:
    """Markdown for an ADF document (None gives ""); malformed ADF raises PayloadError naming `where`."""
    if doc is None:
        return ""
    node = _node(doc, where)
    if node["type"] in INLINE_TYPES:
        return _Render().inline([(node, where)], "para")
    if node["type"] == "doc":
        return _join(_Render().blocks(_content(node, where), 1))
    return _Render().block(node, where, 1)


def markdown_to_adf(text: str | None) -> dict:
    """An ADF document (version 1) for Markdown text; None or blank text gives an empty document."""
    if text is not None and not isinstance(text, str):
        raise fail("markdown", "text or null", text)
    return {"type": "doc", "version": 1, "content": sanitize_for_jira(parse_markdown(text or ""))}


# -- validation --------------------------------------------------------------------------------------

def _node(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise fail(where, "an ADF node (object)", value)
    if not isinstance(value.get("type"), str):
        raise fail(f"{where}.type", "text", value.get("type"))
    return value


def _content(node: dict, where: str) -> list[tuple[dict, str]]:
    kids = node.get("content")
    if kids is None:
        return []
    if not isinstance(kids, list):
        raise fail(f"{where}.content", "an array", kids)
    return [(_node(k, f"{where}.content[{i}]"), f"{where}.content[{i}]") for i, k in enumerate(kids)]


def _attrs(node: dict, where: str) -> dict:
    attrs = node.get("attrs")
    if attrs is None:
        return {}
    if not isinstance(attrs, dict):
        raise fail(f"{where}.attrs", "an object", attrs)
    return attrs


def _attr_text(node: dict, name: str, where: str) -> str | None:
    value = _attrs(node, where).get(name)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise fail(f"{where}.attrs.{name}", "text", value)


def _attr_int(node: dict, name: str, where: str, default: int) -> int:
    value = _attrs(node, where).get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(f"{where}.attrs.{name}", "a number", value)
    return int(value) if abs(value) < 1e9 else default


def _marks(node: dict, where: str) -> list[tuple[str, str]]:
    """The node's marks as (type, href) pairs; href is "" except for links."""
    marks = node.get("marks")
    if marks is None:
        return []
    if not isinstance(marks, list):
        raise fail(f"{where}.marks", "an array", marks)
    out = []
    for i, m in enumerate(marks):
        mw = f"{where}.marks[{i}]"
        m = _node(m, mw)
        href = _attr_text(m, "href", mw) if m["type"] == "link" else ""
        out.append((m["type"], href or ""))
    return sorted(out)


def text_of(node: dict, where: str, depth: int = 0) -> str:
    """All the text a node holds, for nodes that have no Markdown form of their own."""
    if depth > MAX_DEPTH:
        raise PayloadError(f"{where}: nested more than {MAX_DEPTH} levels deep")
    if node["type"] == "text":
        text = node.get("text", "")
        if not isinstance(text, str):
            raise fail(f"{where}.text", "text", text)
        return text
    kids = _content(node, where)
    if kids:
        sep = "" if all(k["type"] in INLINE_TYPES for k, _ in kids) else "\n"
        return sep.join(text_of(k, kw, depth + 1) for k, kw in kids)
    for key in ("text", "shortName", "url", "title"):
        value = _attr_text(node, key, where)
        if value:
            return value
    return ""


# -- blocks ------------------------------------------------------------------------------------------

def _join(blocks: list[str]) -> str:
    return "\n\n".join(b for b in blocks if b)


def _prefix(text: str, first: str, rest: str) -> str:
    lines = text.split("\n")
    out = [(first + lines[0]).rstrip()]
    out += [(rest + line) if line else "" for line in lines[1:]]
    return "\n".join(out)


def _quote(text: str) -> str:
    return "\n".join(("> " + line) if line else ">" for line in text.split("\n"))


class _Render:
    def blocks(self, kids: list[tuple[dict, str]], depth: int) -> list[str]:
        """Render a content list; runs of inline nodes (invalid in block position) become paragraphs."""
        out: list[str] = []
        run: list[tuple[dict, str]] = []
        prev, alt = "", False
        for kid, kw in kids:
            if kid["type"] in INLINE_TYPES:
                run.append((kid, kw))
                continue
            if run:
                out.append(self.inline(run, "para"))
                run, prev = [], "paragraph"
            # two lists in a row would read back as one: the second uses the other marker
            alt = not alt if kid["type"] == prev and kid["type"] in _LISTS else False
            out.append(self.block(kid, kw, depth + 1, alt))
            prev = kid["type"]
        if run:
            out.append(self.inline(run, "para"))
        return out

    def block(self, node: dict, where: str, depth: int, alt: bool = False) -> str:
        if depth > MAX_DEPTH:
            raise PayloadError(f"{where}: nested more than {MAX_DEPTH} levels deep")
        t = node["type"]
        kids = _content(node, where)
        if t == "paragraph":
            return self.inline(kids, "para")
        if t == "heading":
            level = min(6, max(1, _attr_int(node, "level", where, 1)))
            text = self.inline(kids, "heading")
            return "#" * level + (" " + text if text else "")
        if t in _LISTS:
            return self.list(node, kids, where, depth, alt)
        if t == "codeBlock":
            return self.code_block(node, kids, where, depth)
        if t in ("blockquote", "panel"):
            return _quote(_join(self.blocks(kids, depth)) or "")
        if t == "rule":
            return "---"
        if t == "table":
            return self.table(kids, depth)
        if t in ("mediaSingle", "mediaGroup"):
            media = [self.media(k, kw) for k, kw in kids if k["type"] in ("media", "mediaInline")]
            rest = [self.block(k, kw, depth + 1) for k, kw in kids if k["type"] not in ("media", "mediaInline")]
            return _join([" ".join(media)] + rest)
        if t == "media":
            return self.media(node, where)
        if t in ("expand", "nestedExpand"):
            title = _attr_text(node, "title", where)
            head = "**" + escape(title, "para") + "**" if title and title.strip() else ""
            return _join([head] + self.blocks(kids, depth))
        if t in ("blockCard", "embedCard"):
            return self.inline([({"type": "inlineCard", "attrs": _attrs(node, where)}, where)], "para")
        if t == "caption":
            return self.inline(kids, "para")
        if kids:  # unknown container: keep what it holds
            return _join(self.blocks(kids, depth))
        return self.inline([(node, where)], "para")

    def list(self, node: dict, kids: list[tuple[dict, str]], where: str, depth: int, alt: bool) -> str:
        ordered = node["type"] == "orderedList"
        number = max(0, _attr_int(node, "order", where, 1)) if ordered else 0
        lines = []
        for kid, kw in kids:
            marker = (f"{number})" if alt else f"{number}.") if ordered else ("*" if alt else "-")
            number += 1
            if kid["type"] == "listItem":
                body = self.item(_content(kid, kw), depth + 1)
            elif kid["type"] in ("taskItem", "decisionItem"):
                state = _attr_text(kid, "state", kw)
                box = "[x] " if state == "DONE" else "[ ] " if kid["type"] == "taskItem" else ""
                body = box + self.inline(_content(kid, kw), "para")
            elif kid["type"] in ("taskList", "decisionList") and lines:
                nested = self.block(kid, kw, depth + 1)  # ADF nests these next to the item they belong to
                lines[-1] += "\n" + _prefix(nested, "  ", "  ") if nested else ""
                number -= 1
                continue
            else:
                body = self.block(kid, kw, depth + 1)
            first = body.split("\n", 1)[0]
            if RULE_LINE.fullmatch(f"{marker} {first}") or ITEM_LINE.fullmatch(first):
                body = "\n" + body  # "- - -" would read back as a rule, "- - x" is fine but unstable
            lines.append(_prefix(body, marker + " ", " " * (len(marker) + 1)) if body else marker)
        return "\n".join(lines)

    def item(self, kids: list[tuple[dict, str]], depth: int) -> str:
        parts: list[str] = []
        prev, alt = "", False
        for kid, kw in kids:
            alt = not alt if kid["type"] == prev and kid["type"] in _LISTS else False
            text = self.block(kid, kw, depth + 1, alt) if kid["type"] not in INLINE_TYPES \
                else self.inline([(kid, kw)], "para")
            if not text:
                continue
            first = ITEM_LINE.fullmatch(text.split("\n", 1)[0])  # an empty item cannot interrupt a paragraph
            tight = prev == "paragraph" and kid["type"] in _LISTS and bool(first and first.group(4).strip())
            parts.append(("\n" if tight else "\n\n") + text if parts else text)
            prev = kid["type"]
        return "".join(parts)

    def code_block(self, node: dict, kids: list[tuple[dict, str]], where: str, depth: int) -> str:
        text = "".join(text_of(k, kw, depth + 1) for k, kw in kids)
        lang = (_attr_text(node, "language", where) or "").replace("`", "").split()
        runs = [len(r) for r in re.findall(r"`+", text)]
        fence = "`" * max(3, max(runs, default=0) + 1)
        head = fence + (lang[0] if lang else "")
        return f"{head}\n{text}\n{fence}" if text else f"{head}\n{fence}"

    def table(self, kids: list[tuple[dict, str]], depth: int) -> str:
        rows = []
        for row, rw in kids:
            cells = _content(row, rw) if row["type"] == "tableRow" else [(row, rw)]
            rows.append([self.cell(c, cw, depth + 2) for c, cw in cells])
        width = max((len(r) for r in rows), default=0)
        if not width:
            return ""
        rows = [r + [""] * (width - len(r)) for r in rows]
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "| " + " | ".join(["---"] * width) + " |")
        return "\n".join(lines)

    def cell(self, node: dict, where: str, depth: int) -> str:
        """One table cell on one line: its blocks joined by <br>."""
        if depth > MAX_DEPTH:
            raise PayloadError(f"{where}: nested more than {MAX_DEPTH} levels deep")
        t = node["type"]
        if t in ("paragraph", "heading"):
            return self.inline(_content(node, where), "cell")
        if t in INLINE_TYPES:
            return self.inline([(node, where)], "cell")
        if t == "codeBlock":
            return code_span(text_of(node, where, depth).replace("\n", " ")).replace("|", "\\|")
        if t in ("media", "mediaInline"):
            return self.media(node, where).replace("|", "\\|")
        kids = _content(node, where)
        if kids and all(k["type"] in INLINE_TYPES for k, _ in kids):
            return self.inline(kids, "cell")
        return "<br>".join(p for p in (self.cell(k, kw, depth + 1) for k, kw in kids) if p)

    def media(self, node: dict, where: str) -> str:
        kind = _attr_text(node, "type", where)
        url, ident = _attr_text(node, "url", where), _attr_text(node, "id", where)
        target = url if url and (kind == "external" or not ident) else (ident or url or "")
        alt = _attr_text(node, "alt", where) or "attachment"
        return "![" + escape_label(alt) + "](" + md_dest(target) + ")"

    def inline(self, kids: list[tuple[dict, str]], ctx: str) -> str:
        w = InlineWriter(ctx)
        merged = _merge_text(kids)
        # whitespace-only text opens no delimiter, so it does not count when ordering marks
        w.future = [None if kid["type"] == "text" and isinstance(kid.get("text"), str) and not kid["text"].strip()
                    else _marks(kid, kw) for kid, kw in merged]
        for index, (kid, kw) in enumerate(merged):
            w.index = index
            self.inline_node(w, kid, kw)
        return w.finish()

    def inline_node(self, w: InlineWriter, node: dict, where: str) -> None:
        t = node["type"]
        marks = _marks(node, where)
        if t == "text":
            text = node.get("text", "")
            if not isinstance(text, str):
                raise fail(f"{where}.text", "text", text)
            w.text(text, marks)
        elif t == "hardBreak":
            w.hard_break()
        elif t == "mention":
            ident = _attr_text(node, "id", where) or ""
            name = (_attr_text(node, "text", where) or "").removeprefix("@") or ident
            scheme = "user" if _attrs(node, where).get("_scheme") == "user" else "accountid"
            w.atom("@[" + escape_label(name) + "](" + md_dest(f"{scheme}:{ident}") + ")", marks)
        elif t == "emoji":
            short = _attr_text(node, "shortName", where) or ""
            if EMOJI.fullmatch(short):
                w.atom(short, marks)
            else:
                w.text(_attr_text(node, "text", where) or short, marks)
        elif t == "inlineCard":
            url = _attr_text(node, "url", where) or ""
            w.text(url, [m for m in marks if m[0] != "link"] + [("link", url)] if url else marks)
        elif t == "date":
            w.text(date_text(_attr_text(node, "timestamp", where)), marks)
        elif t == "mediaInline":
            w.atom(self.media(node, where), marks)
        else:  # status, placeholder, extensions and unknown inline nodes: their text
            w.text(text_of(node, where, 0), marks)


def _merge_text(kids: list[tuple[dict, str]]) -> list[tuple[dict, str]]:
    """Adjacent text nodes with the same marks as one, so emphasis is not closed and reopened."""
    out: list[tuple[dict, str]] = []
    for kid, kw in kids:
        if (out and kid["type"] == "text" and out[-1][0]["type"] == "text"
                and isinstance(kid.get("text"), str) and isinstance(out[-1][0].get("text"), str)
                and _marks(kid, kw) == _marks(out[-1][0], out[-1][1])):
            prev, pw = out[-1]
            out[-1] = ({**prev, "text": prev["text"] + kid["text"]}, pw)
        else:
            out.append((kid, kw))
    return out


def date_text(stamp: str | None) -> str:
    """An ADF date (milliseconds since the epoch, as text) as an ISO date in UTC."""
    try:
        seconds = int(float(stamp or "")) / 1000
        return _dt.datetime.fromtimestamp(seconds, _dt.UTC).date().isoformat()
    except (ValueError, OverflowError, OSError):
        return stamp or ""
