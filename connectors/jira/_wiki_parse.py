"""Jira wiki markup (Data Center and REST v2 text) to ADF nodes, the tree the Markdown writer reads.

Read: `h1.`–`h6.`, `bq.`, `----`, `*`/`#`/`-` lists (nested `**`, `#*`), `||h||` / `|c|` tables, `{code:lang}`,
`{noformat}`, `{quote}`, `{panel}`; inline `*strong*`, `_em_`, `-strike-`, `+underline+`, `^sup^`, `~sub~`,
`??citation??` (as em), `{{mono}}`, the `{*}…{*}` forms for inside words, `[text|url]`, `[url]`,
`[~user]` / `[~accountid:ID]` mentions, `!image!` and `[^attachment]`, `\\\\` line breaks, `\\` escapes,
numeric entities such as `&#92;`, and `{color}` tags (dropped, text kept). Other macros stay as text.
"""

from __future__ import annotations

import re

from ._md_blocks import list_item, media_or_paragraph, merge_text, quote_node
from ._md_inline import EMOJI

__all__ = ["parse_wiki", "parse_wiki_inline", "MAX_NESTING"]

MAX_NESTING = 40
_MACRO = re.compile(r"\{(code|noformat|quote|panel)(?::([^}]*))?\}")
_HEADING = re.compile(r"h([1-6])\.(?:\s+(.*))?")
_BQ = re.compile(r"bq\.(?:\s+(.*))?")
_RULE = re.compile(r"-{4,}")
_LIST = re.compile(r"([*#]+|-)(?:\s+(.*))?")
_DELIMS = {"*": ("strong", None), "_": ("em", None), "-": ("strike", None), "+": ("underline", None),
           "^": ("subsup", "sup"), "~": ("subsup", "sub"), "?": ("em", None)}
_BRACED = re.compile(r"\{([*_\-+^~])\}")
_COLOR = re.compile(r"\{color(?::[^}]*)?\}")
_ENTITY = re.compile(r"&#(\d{1,7});")


def parse_wiki(text: str) -> list[dict]:
    """ADF block nodes for a wiki markup document."""
    return _blocks(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 0)


def _starts_block(line: str) -> bool:
    s = line.strip()
    return bool(_MACRO.match(s) or _HEADING.fullmatch(s) or _BQ.fullmatch(s) or _RULE.fullmatch(s)
                or _LIST.fullmatch(s) or s.startswith("|"))


def _blocks(lines: list[str], depth: int) -> list[dict]:
    if depth > MAX_NESTING:
        text = "\n".join(line.strip() for line in lines if line.strip())
        return [media_or_paragraph(parse_wiki_inline(text))] if text else []
    lines = list(lines)
    out: list[dict] = []
    i = 0
    while i < len(lines):
        s = lines[i].strip()
        if not s:
            i += 1
            continue
        m = _MACRO.match(s)
        if m:
            i = _macro(lines, i, m, depth, out)
            continue
        heading = _HEADING.fullmatch(s)
        if heading:
            out.append({"type": "heading", "attrs": {"level": int(heading.group(1))},
                        "content": parse_wiki_inline(heading.group(2) or "")})
            i += 1
            continue
        bq = _BQ.fullmatch(s)
        if bq:
            out.append(quote_node([media_or_paragraph(parse_wiki_inline(bq.group(1) or ""))]))
            i += 1
            continue
        if _RULE.fullmatch(s):
            out.append({"type": "rule"})
            i += 1
            continue
        if _LIST.fullmatch(s):
            i = _list(lines, i, out)
            continue
        if s.startswith("|"):
            i = _table(lines, i, out)
            continue
        para = [s]
        i += 1
        while i < len(lines) and lines[i].strip() and not _starts_block(lines[i]):
            para.append(lines[i].strip())
            i += 1
        out.append(media_or_paragraph(parse_wiki_inline("\n".join(para))))
    return out


def _macro(lines: list[str], i: int, m: re.Match, depth: int, out: list[dict]) -> int:
    """Read `{name}…{name}` (possibly on one line); text after the closing tag is read as a new line."""
    name, params = m.group(1), m.group(2) or ""
    close = "{" + name + "}"
    rest = lines[i].strip()[m.end():]
    body: list[str] = []
    j = i
    at = rest.find(close)
    if at >= 0:
        body.append(rest[:at])
        after = rest[at + len(close):]
    else:
        if rest.strip():
            body.append(rest)
        after = ""
        j += 1
        while j < len(lines):
            at = lines[j].find(close)
            if at >= 0:
                if lines[j][:at].strip():
                    body.append(lines[j][:at])
                after = lines[j][at + len(close):]
                break
            body.append(lines[j])
            j += 1
    if after.strip():
        lines[j] = after
    else:
        j += 1
    if name in ("code", "noformat"):
        node: dict = {"type": "codeBlock", "content": []}
        lang = _language(params) if name == "code" else None
        if lang:
            node["attrs"] = {"language": lang}
        text = "\n".join(body)
        if text:
            node["content"] = [{"type": "text", "text": text}]
        out.append(node)
        return j
    kids = _blocks(body, depth + 1)
    title = re.search(r"(?:^|\|)\s*title=([^|]*)", params)
    if name == "panel" and title and title.group(1).strip():
        kids.insert(0, {"type": "paragraph", "content": [
            {"type": "text", "text": title.group(1).strip(), "marks": [{"type": "strong"}]}]})
    out.append(quote_node(kids))
    return j


def _language(params: str) -> str | None:
    for part in params.split("|"):
        key, eq, value = part.partition("=")
        if not eq and key.strip():
            return key.strip()
        if key.strip() == "language" and value.strip():
            return value.strip()
    return None


def _list(lines: list[str], i: int, out: list[dict]) -> int:
    entries: list[list[str]] = []
    while i < len(lines):
        s = lines[i].strip()
        if not s:
            break
        m = _LIST.fullmatch(s)
        if m and not _RULE.fullmatch(s):
            entries.append([m.group(1).replace("-", "*"), m.group(2) or ""])
        elif entries and not _starts_block(s):
            entries[-1][1] += "\n" + s
        else:
            break
        i += 1
    roots: list[dict] = []
    stack: list[tuple[str, dict]] = []  # (marker prefix, list node)
    for prefix, text in entries:
        while stack and not prefix.startswith(stack[-1][0]):
            stack.pop()
        while not stack or len(stack[-1][0]) < len(prefix):
            level = len(stack[-1][0]) if stack else 0
            node = {"type": "orderedList" if prefix[level] == "#" else "bulletList", "content": []}
            if stack:
                parent = stack[-1][1]
                if not parent["content"]:
                    parent["content"].append(list_item([]))
                parent["content"][-1]["content"].append(node)
            else:
                roots.append(node)
            stack.append((prefix[:level + 1], node))
        stack[-1][1]["content"].append(list_item([media_or_paragraph(parse_wiki_inline(text))]))
    out.extend(roots)
    return i


def _cells(s: str) -> list[tuple[bool, str]]:
    cells = []
    i, n = 0, len(s)
    while i < n:
        header = s.startswith("||", i)
        i += 2 if header else 1
        j = i
        while j < n and s[j] != "|":
            j = _skip(s, j)
        if j >= n and not s[i:].strip():
            break
        cells.append((header, s[i:j].strip()))
        i = j
    return cells


def _table(lines: list[str], i: int, out: list[dict]) -> int:
    rows = []
    while i < len(lines) and lines[i].strip().startswith("|"):
        cells = _cells(lines[i].strip())
        rows.append({"type": "tableRow", "content": [
            {"type": "tableHeader" if header else "tableCell",
             "content": [{"type": "paragraph", "content": parse_wiki_inline(text)}]}
            for header, text in cells]})
        i += 1
    out.append({"type": "table", "content": rows})
    return i


def _skip(s: str, j: int) -> int:
    """The index after the escape, `{{code}}` or `[link]` at j (or j + 1), so their | and ] do not count."""
    if s[j] == "\\":
        return j + 2
    if s.startswith("{{", j):
        end = _find(s, "}}", j + 2)
        return end + 2 if end > j + 2 else j + 2
    if s[j] == "[":
        end = _find(s, "]", j + 1)
        return end + 1 if end >= 0 else j + 1
    return j + 1


def _find(s: str, what: str, j: int) -> int:
    """The next unescaped `what` on this line, or -1."""
    while j < len(s) and s[j] != "\n":
        if s[j] == "\\":
            j += 2
            continue
        if s.startswith(what, j):
            return j
        j += 1
    return -1


def _can_open(s: str, i: int, width: int) -> bool:
    prev = s[i - 1] if i else ""
    nxt = s[i + width] if i + width < len(s) else ""
    return not prev.isalnum() and bool(nxt) and not nxt.isspace()


def _closer(s: str, i: int, delim: str) -> int:
    """Where the delimiter opened at i closes on the same line, or -1."""
    start = j = i + len(delim)
    while j < len(s) and s[j] != "\n":
        if j > start and s.startswith(delim, j) and not s[j - 1].isspace() and \
                (j + len(delim) >= len(s) or not s[j + len(delim)].isalnum()):
            return j
        j = _skip(s, j)
    return -1


def _mark(nodes: list[dict], mark: dict) -> list[dict]:
    out = []
    for node in nodes:
        if node["type"] == "text" and not any(m["type"] == mark["type"] for m in node.get("marks", [])):
            node = {**node, "marks": node.get("marks", []) + [mark]}
        out.append(node)
    return out


def _unescape(text: str) -> str:
    text = re.sub(r"\\(.)", r"\1", text)
    return _ENTITY.sub(lambda m: chr(int(m.group(1))) if int(m.group(1)) < 0x110000 else m.group(), text)


def parse_wiki_inline(s: str, depth: int = 0) -> list[dict]:
    """ADF inline nodes for wiki text (newlines are line breaks)."""
    out: list[dict] = []
    buf: list[str] = []
    i, n = 0, len(s)

    def flush() -> None:
        if buf:
            out.append({"type": "text", "text": "".join(buf)})
            buf.clear()

    while i < n:
        c = s[i]
        if c == "\\" or c == "\n":
            if c == "\n" or s.startswith("\\\\", i):
                flush()
                if out and out[-1]["type"] == "text" and c == "\n":
                    out[-1]["text"] = out[-1]["text"].rstrip()
                out.append({"type": "hardBreak"})
                i += 1 if c == "\n" else 2
                while c == "\n" and i < n and s[i] in " \t":
                    i += 1
            elif i + 1 < n:
                buf.append(s[i + 1])
                i += 2
            else:
                buf.append(c)
                i += 1
            continue
        found = _inline_at(s, i, depth) if depth < MAX_NESTING else None
        if found is not None:
            nodes, i = found
            flush()
            out.extend(nodes)
            continue
        m = _ENTITY.match(s, i)
        if m and int(m.group(1)) < 0x110000:
            buf.append(chr(int(m.group(1))))
            i = m.end()
            continue
        buf.append(c)
        i += 1
    flush()
    return merge_text([n for n in out if n["type"] != "text" or n["text"]])


def _inline_at(s: str, i: int, depth: int) -> tuple[list[dict], int] | None:
    """The construct starting at s[i] as (nodes, end), or None when s[i] is plain text."""
    c = s[i]
    if s.startswith("{{", i):
        end = _find(s, "}}", i + 2)
        if end > i + 2:
            return [{"type": "text", "text": _unescape(s[i + 2:end]), "marks": [{"type": "code"}]}], end + 2
    if c == "{":
        braced = _BRACED.match(s, i)
        if braced:
            end = _find(s, braced.group(), i + 3)
            if end > i + 3:
                kind, sub = _DELIMS[braced.group(1)]
                inner = parse_wiki_inline(s[i + 3:end], depth + 1)
                return _mark(inner, {"type": kind, "attrs": {"type": sub}} if sub else {"type": kind}), end + 3
        color = _COLOR.match(s, i)
        if color:
            return [], color.end()
    delim = "??" if s.startswith("??", i) else c if c in _DELIMS and c != "?" else ""
    if delim and _can_open(s, i, len(delim)):
        end = _closer(s, i, delim)
        if end > 0:
            kind, sub = _DELIMS[delim[0]]
            inner = parse_wiki_inline(s[i + len(delim):end], depth + 1)
            return _mark(inner, {"type": kind, "attrs": {"type": sub}} if sub else {"type": kind}), end + len(delim)
    if c == "[":
        end = _find(s, "]", i + 1)
        if end > i + 1:
            return _link(s[i + 1:end], depth), end + 1
    if c == "!" and i + 1 < len(s) and not s[i + 1].isspace():
        end = _find(s, "!", i + 1)
        if end > i + 1 and not s[end - 1].isspace() and s[i + 1:end].partition("|")[0].strip():
            return [_image(s[i + 1:end])], end + 1
    if c == ":" and (i == 0 or not s[i - 1].isalnum()):
        m = EMOJI.match(s, i)
        if m:
            return [{"type": "emoji", "attrs": {"shortName": m.group()}}], m.end()
    return None


def _split_bar(text: str) -> list[str]:
    parts, cur, j = [], [], 0
    while j < len(text):
        if text[j] == "\\" and j + 1 < len(text):
            cur.append(text[j:j + 2])
            j += 2
            continue
        if text[j] == "|":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(text[j])
        j += 1
    parts.append("".join(cur))
    return parts


def _link(content: str, depth: int) -> list[dict]:
    parts = _split_bar(content)
    label, target = (parts[0], parts[1]) if len(parts) > 1 else ("", parts[0])
    target = _unescape(target.strip())
    if target.startswith("~"):
        name = target[1:]
        scheme, _, ident = name.partition(":")
        attrs = {"id": ident, "text": "@" + (_unescape(label) or ident)} if scheme == "accountid" and ident \
            else {"id": name, "text": "@" + (_unescape(label) or name), "_scheme": "user"}
        return [{"type": "mention", "attrs": attrs}]
    if target.startswith("^") and target[1:].strip():
        return [_image(target[1:])]
    text = parse_wiki_inline(label, depth + 1) if label else [{"type": "text", "text": target}]
    link = {"type": "link", "attrs": {"href": target}}
    return [{**n, "marks": [m for m in n.get("marks", []) if m["type"] != "link"] + [link]}
            if n["type"] == "text" else n for n in text]


def _image(content: str) -> dict:
    target, _, params = content.partition("|")
    target = _unescape(target.strip())
    attrs: dict = {"type": "external", "url": target} if "://" in target else \
        {"type": "file", "id": target, "collection": ""}
    for param in params.split(","):
        key, _, value = param.partition("=")
        if key.strip() == "alt" and value.strip() and value.strip() != "attachment":
            attrs["alt"] = _unescape(value.strip())
    return {"type": "mediaInline", "attrs": attrs}
