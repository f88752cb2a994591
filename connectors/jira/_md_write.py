"""Inline Markdown writing for the ADF renderer: escaping, code spans, link targets, emphasis placement."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ._md_inline import EMOJI, parse_inline

__all__ = ["InlineWriter", "escape", "escape_label", "md_dest", "code_span"]

_MARK_ORDER = {"link": 0, "strong": 1, "em": 2, "strike": 3}
_OPEN = {"strong": "**", "em": "*", "strike": "~~", "link": "["}
_LINE_START = re.compile(r"[#>+=|-]")
_ORDERED = re.compile(r"^(\d{1,9})([.)])")
_ENTITY = re.compile(r"&#?\w+;")
_EMOJI_START = re.compile(r":[A-Za-z0-9_+\-]*")  # what follows could finish it as an emoji
_EMOJI_CHAR = re.compile(r"[A-Za-z0-9_+\-]")
_DELIMS = frozenset({"**", "*", "~~"})
_KIND_OF = {"**": "strong", "*": "em", "~~": "strike"}
_KINDS = frozenset({"strong", "em", "strike", "code"})
_BLANK = ("sp", "br")
_PLAIN_DEST = re.compile(r"[^\s<>\\]+")


def escape(text: str, ctx: str, before: str | None = None, after: str | None = None) -> str:
    """Backslash-escape what the Markdown parser would otherwise read as syntax; `before` and `after`
    are the characters around the text (None: unknown, so escape as if anything could be there)."""
    out = []
    n = len(text)
    for i, c in enumerate(text):
        prev = text[i - 1] if i else (before or "")
        nxt = text[i + 1] if i + 1 < n else (after if after is not None else ":")
        if c in "\\`*[]~":
            c = "\\" + c
        elif c == "_" and not (prev.isalnum() and nxt.isalnum()):
            c = "\\_"
        elif c == "<" and (ctx == "cell" or nxt.isalpha() or nxt in ("/", "!", "?")):
            c = "\\<"
        elif c == "&" and _ENTITY.match(text, i):
            c = "\\&"
        elif c == ":" and not prev.isalnum() and (EMOJI.match(text, i) or (
                _EMOJI_START.fullmatch(text, i) and (nxt == ":" or _EMOJI_CHAR.fullmatch(nxt[:1])))):
            c = "\\:"
        elif c == "|" and ctx == "cell":
            c = "\\|"
        out.append(c)
    return "".join(out)


def escape_label(text: str) -> str:
    """Text for inside `[…]` (a link label, an image's alt text, a mention's name)."""
    return re.sub(r"([\\\[\]])", r"\\\1", text.replace("\n", " "))


def md_dest(url: str) -> str:
    """A link destination: bare when it can be, else in <…> (spaces, unbalanced parentheses)."""
    url = url.replace("\n", "").replace("\r", "")
    if _PLAIN_DEST.fullmatch(url) and _balanced(url):
        return url
    return "<" + re.sub(r"([\\<>])", r"\\\1", url) + ">"


def _balanced(url: str) -> bool:
    depth = 0
    for c in url:
        depth += (c == "(") - (c == ")")
        if depth < 0:
            return False
    return depth == 0


def code_span(text: str) -> str:
    """Inline code whose backtick fence is longer than any backtick run inside it."""
    fence = "`" * (max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)
    pad = text[:1] == "`" or text[-1:] == "`" or (text[:1] == " " and text[-1:] == " " and text.strip(" "))
    return fence + (" " if pad else "") + text + (" " if pad else "") + fence


def _ends_unescaped(s: str, chars: str) -> bool:
    if not s or s[-1] not in chars:
        return False
    slashes = len(s[:-1]) - len(s[:-1].rstrip("\\"))
    return slashes % 2 == 0


class InlineWriter:
    """Writes inline Markdown, opening and closing emphasis so that no delimiter touches whitespace."""

    def __init__(self, ctx: str) -> None:
        self.ctx = ctx  # "para", "heading" or "cell"
        # [markdown, kind, pair]: kind "" text, "sp" spaces, "br" a break, "open" / "close" a delimiter
        self.out: list[list] = []
        self.stack: list[tuple[str, str, int]] = []
        self.line_start = ctx != "cell"
        self.future: list[list[tuple[str, str]] | None] = []  # each node's marks, to open long-running marks first
        self.index = 0
        self.pairs = 0
        self.raw: dict[int, tuple[str, bool, bool]] = {}  # id(token) → (its text, is code, starts a line)

    def _close_to(self, keep: int) -> None:
        if len(self.stack) <= keep:
            return
        trail = []
        while self.out and self.out[-1][1] in _BLANK:
            trail.append(self.out.pop())
        while len(self.stack) > keep:
            kind, href, pair = self.stack.pop()
            self.out.append(["](" + md_dest(href) + ")" if kind == "link" else _OPEN[kind], "close", pair])
        self.out.extend(reversed(trail))

    def _sync(self, marks: list[tuple[str, str]]) -> None:
        wanted: list[tuple[str, str]] = []
        for mark in sorted(marks, key=lambda m: _MARK_ORDER.get(m[0], 9)):
            if mark[0] in _MARK_ORDER and mark[0] not in (w[0] for w in wanted):
                wanted.append(mark)
        keep = 0
        while keep < len(self.stack) and self.stack[keep][:2] in wanted:
            keep += 1
        self._close_to(keep)
        for mark in sorted(wanted, key=self._run, reverse=True):
            if mark in (s[:2] for s in self.stack):
                continue
            self.pairs += 1
            self.out.append([_OPEN[mark[0]], "open", self.pairs])
            self.stack.append((*mark, self.pairs))

    def _run(self, mark: tuple[str, str]) -> int:
        """How many of the following nodes keep this mark (the longer it runs, the further out it opens)."""
        n = 0
        for marks in self.future[self.index + 1:]:
            if marks is None:
                continue
            if mark not in marks:
                break
            n += 1
        return n

    def _space(self, text: str) -> None:
        if text and not self.line_start:
            self.out.append([text, "sp", 0])

    def text(self, text: str, marks: list[tuple[str, str]]) -> None:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "code" in (m[0] for m in marks):
            text = text.replace("\n", " ")
            if text:
                self.atom(code_span(text), marks)
                self.raw[id(self.out[-1])] = (text, True, False)
            return
        for hard_break, leading, core, trailing in text_pieces(text):
            if hard_break:
                self.hard_break()
            self._space(leading)
            if not core:
                continue
            self._sync(marks)
            escaped = escape(core, self.ctx)
            if self.line_start and _LINE_START.match(escaped):
                escaped = "\\" + escaped
            self.out.append([escaped, "", 0])
            self.raw[id(self.out[-1])] = (core, False, self.line_start)
            self.line_start = False
            self._space(trailing)

    def atom(self, markdown: str, marks: list[tuple[str, str]]) -> None:
        self._sync(marks)
        if self.ctx == "cell":
            markdown = markdown.replace("|", "\\|")  # the table splitter turns \| back into |
        self.out.append([markdown, "", 0])
        self.line_start = False

    def hard_break(self) -> None:
        if self.ctx == "heading":
            self._space(" ")
            return
        while self.out and self.out[-1][1] == "sp":
            self.out.pop()  # spaces before a line break mean nothing
        if self.ctx == "cell":
            self.out.append(["<br>", "br", 0])
        else:  # a lone backslash keeps an empty line inside the paragraph
            self.out.append(["\\\n" if self.line_start else "\n", "br", 0])
            self.line_start = True

    def finish(self) -> str:
        self._close_to(0)
        while self.out and self.out[-1][1] in _BLANK:
            self.out.pop()
        if self.ctx != "para":
            while self.out and self.out[0][1] in _BLANK:
                self.out.pop(0)
        self._drop_unreadable()
        text = "".join(t for t, _, _ in self.out)
        if self.ctx == "cell":
            return text
        # "1" and ")" may come from two nodes: look for ordered-list markers on the finished lines
        return "\n".join(_ORDERED.sub(r"\1\\\2", line, count=1) for line in text.split("\n"))

    def _drop_unreadable(self) -> None:
        """Read the Markdown back; while some emphasis does not read as written (`1**:**` is not bold in
        CommonMark, and intra-word runs can pair up the wrong way), drop the pair at the first difference:
        the text always survives, a mark the syntax cannot express is lost."""
        for _ in range(self.pairs + 1):
            self._escape_in_place()
            self._guard_links()
            text = "".join(t[0] for t in self.out)
            got = [(c, m) for c, m in _read_back(parse_inline(text, cell=self.ctx == "cell")) if not c.isspace()]
            want = [(c, m, i) for c, m, i in self._expected() if not c.isspace()]
            bad = next((k for k, (g, w) in enumerate(zip(got, want, strict=False))
                        if g[0] != w[0] or (w[1] is not None and g[1] != w[1])), None)
            if bad is None and len(got) == len(want):
                return
            at = want[min(bad if bad is not None else len(want), len(want) - 1)][2] if want else 0
            pair = self._pair_near(at)
            if pair is None:
                return
            self.out = [t for t in self.out if t[2] != pair]

    def _escape_in_place(self) -> None:
        """Escape each text again knowing its real neighbours (a node's edges were escaped for the worst)."""
        for i, tok in enumerate(self.out):
            info = self.raw.get(id(tok))
            if info is None or info[1]:
                continue
            escaped = escape(info[0], self.ctx, self._beside(i, -1), self._beside(i, 1))
            tok[0] = "\\" + escaped if info[2] and _LINE_START.match(escaped) else escaped

    def _beside(self, i: int, step: int) -> str:
        j = i + step
        while 0 <= j < len(self.out):
            tok = self.out[j]
            if tok[0]:
                if tok[1] in _BLANK:
                    return " "
                info = self.raw.get(id(tok))
                if step > 0 and info is not None and not info[1]:
                    return info[0][0]  # its first character before any escape
                return tok[0][-1] if step < 0 else tok[0][0]
            j += step
        return ""

    def _guard_links(self) -> None:
        """A "!" or "@" right before a link's "[" would make it an image or a mention: escape it."""
        prev = None
        for tok in self.out:
            if tok[1] == "open" and tok[0] == "[" and prev is not None and prev[1] == "" \
                    and _ends_unescaped(prev[0], "!@"):
                prev[0] = prev[0][:-1] + "\\" + prev[0][-1]
            if tok[0]:
                prev = tok

    def _expected(self) -> list[tuple[str, frozenset | None, int]]:
        """(character, emphasis marks or None for "any", token index) for what the tokens say."""
        out: list[tuple[str, frozenset | None, int]] = []
        active: dict[int, str] = {}
        for i, (text, kind, pair) in enumerate(self.out):
            if kind == "open":
                active[pair] = _KIND_OF.get(text, "link")
            elif kind == "close":
                active.pop(pair, None)
            elif kind == "br":
                out.append(("\n", None, i))
            elif kind == "sp":
                out.extend((c, None, i) for c in text)
            else:
                raw = self.raw.get(id(self.out[i]))
                if raw is None:
                    out.append(("\0", None, i))
                else:
                    marks = frozenset(k for k in active.values() if k != "link") | ({"code"} if raw[1] else set())
                    out.extend((c, marks, i) for c in raw[0])
        return out

    def _pair_near(self, at: int) -> int | None:
        """The innermost emphasis pair open at token `at`, else the last one before it, else the first."""
        open_pairs: list[int] = []
        last = None
        for i, (text, kind, pair) in enumerate(self.out):
            if i > at:
                break
            if kind == "open" and text in _DELIMS:
                open_pairs.append(pair)
                last = pair
            elif kind == "close" and pair in open_pairs:
                open_pairs.remove(pair)
        if open_pairs:
            return open_pairs[-1]
        if last is not None:
            return last
        return next((t[2] for t in self.out if t[1] == "open" and t[0] in _DELIMS), None)


def _read_back(nodes: list[dict]) -> list[tuple[str, frozenset | None]]:
    out: list[tuple[str, frozenset | None]] = []
    for node in nodes:
        if node["type"] == "text":
            marks = frozenset(m["type"] for m in node.get("marks", []) if m["type"] in _KINDS)
            out.extend((c, marks) for c in node["text"])
        elif node["type"] == "hardBreak":
            out.append(("\n", None))
        else:
            out.append(("\0", None))
    return out


def text_pieces(text: str) -> Iterator[tuple[bool, str, str, str]]:
    """The lines of a text run for an inline writer (Markdown or wiki):
    (hard break before it, leading white space, the words, trailing white space)."""
    for i, line in enumerate(text.split("\n")):
        core = line.strip()
        if not core:
            yield bool(i), line, "", ""
        else:
            yield bool(i), line[:len(line) - len(line.lstrip())], core, line[len(line.rstrip()):]
