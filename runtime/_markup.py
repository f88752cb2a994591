"""Text conversions for html_to_markdown() and markdown_to_html(): the common subset trackers share."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

__all__ = ["html_to_markdown", "markdown_to_html"]

_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "pre", "blockquote", "table", "tr"}
_INLINE = {"strong": "**", "b": "**", "em": "_", "i": "_", "del": "~~", "s": "~~"}


class _ToMarkdown(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list] = []  # [kind, counter]
        self.href: list[str | None] = []
        self.pre = 0
        self.quote = 0

    def _nl(self, n: int = 2) -> None:
        """End the current block with n newlines in all (looks only at the tail: no quadratic joins)."""
        have = 0
        for piece in reversed(self.out):
            body = piece.rstrip("\n")
            have += len(piece) - len(body)
            if body.strip():
                self.out.append("\n" * max(0, n - have))
                return

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag in _INLINE:
            self.out.append(_INLINE[tag])
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag == "a":
            self.href.append(a.get("href"))
            self.out.append("[")
        elif tag == "br":
            self.out.append("  \n")
        elif tag in ("ul", "ol"):
            self._nl(1 if self.lists else 2)
            self.lists.append([tag, 0])
        elif tag == "li":
            self._nl(1)
            depth = max(0, len(self.lists) - 1)
            kind = self.lists[-1] if self.lists else ["ul", 0]
            kind[1] += 1
            self.out.append("  " * depth + (f"{kind[1]}. " if kind[0] == "ol" else "- "))
        elif tag == "pre":
            self._nl()
            self.pre += 1
            self.out.append("```\n")
        elif tag == "blockquote":
            self._nl()
            self.quote += 1
        elif tag in _BLOCKS:
            self._nl()
            if tag[0] == "h" and tag[1:].isdigit():
                self.out.append("#" * int(tag[1:]) + " ")
        elif tag == "img":
            self.out.append(f"![{a.get('alt') or ''}]({a.get('src') or ''})")

    def handle_endtag(self, tag: str) -> None:
        if tag in _INLINE:
            self.out.append(_INLINE[tag])
        elif tag == "code" and not self.pre:
            self.out.append("`")
        elif tag == "a":
            href = self.href.pop() if self.href else None
            self.out.append(f"]({href})" if href else "]")
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._nl()
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self.out.append("\n```")
            self._nl()
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self._nl()
        elif tag in _BLOCKS:
            self._nl()

    def handle_data(self, data: str) -> None:
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
            if not "".join(self.out[-1:]).strip() and self.out and self.out[-1].endswith("\n"):
                data = data.lstrip()
            if self.quote:
                data = data.replace("\n", "\n> ")
                if not self.out or self.out[-1].endswith("\n"):
                    data = "> " + data
        self.out.append(data)


def html_to_markdown(text: str) -> str:
    parser = _ToMarkdown()
    parser.feed(text)
    parser.close()
    out = "".join(parser.out)
    return re.sub(r"\n{3,}", "\n\n", out).strip()


_INLINE_MD = [
    (re.compile(r"`([^`\n]+)`"), r"<code>\1</code>"),
    (re.compile(r"!\[([^\]\n]*)\]\(([^)\s]+)\)"), r'<img alt="\1" src="\2">'),
    (re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)"), r'<a href="\2">\1</a>'),
    (re.compile(r"\*\*([^*\n]+)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])[*_]([^*_\n]+)[*_](?![\w*])"), r"<em>\1</em>"),
    (re.compile(r"~~([^~\n]+)~~"), r"<del>\1</del>"),
]
_HEADING = re.compile(r"(#{1,6})\s+(.*)")
_ITEM = re.compile(r"(\s*)([-*+]|\d+[.)])\s+(.*)")


def _inline(text: str) -> str:
    text = html.escape(text, quote=False)
    for rx, repl in _INLINE_MD:
        text = rx.sub(repl, text)
    return text


def markdown_to_html(text: str) -> str:
    """Paragraphs, headings, lists, fenced code, quotes, emphasis, code and links; all text HTML-escaped."""
    out: list[str] = []
    para: list[str] = []
    lists: list[str] = []
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0

    def flush() -> None:
        if para:
            out.append("<p>" + "<br>".join(_inline(p) for p in para) + "</p>")
            para.clear()

    def close_lists() -> None:
        while lists:
            out.append(f"</{lists.pop()}>")

    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            flush()
            close_lists()
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            out.append("<pre><code>" + html.escape("\n".join(lines[i + 1:j]), quote=False) + "</code></pre>")
            i = j + 1
            continue
        heading, item = _HEADING.fullmatch(line), _ITEM.fullmatch(line)
        if not line.strip():
            flush()
            close_lists()
        elif heading:
            flush()
            close_lists()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif item:
            flush()
            kind = "ol" if item.group(2)[0].isdigit() else "ul"
            if not lists or lists[-1] != kind:
                close_lists()
                out.append(f"<{kind}>")
                lists.append(kind)
            out.append(f"<li>{_inline(item.group(3))}</li>")
        elif line.startswith(">"):
            flush()
            close_lists()
            out.append(f"<blockquote>{_inline(line[1:].strip())}</blockquote>")
        else:
            close_lists()
            para.append(line.strip())
        i += 1
    flush()
    close_lists()
    return "\n".join(out)
