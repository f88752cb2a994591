"""Markdown block structure (paragraphs, headings, lists, code, quotes, rules, tables) to ADF block nodes."""

from __future__ import annotations

import re

from ._md_inline import EMOJI, MARK_ORDER, parse_inline

__all__ = ["EMOJI", "ITEM_LINE", "RULE_LINE", "parse_markdown", "sanitize_for_jira", "media_or_paragraph",
           "quote_node", "list_item", "merge_text", "MAX_NESTING"]

MAX_NESTING = 40  # deeper quote/list nesting is kept as plain paragraph text

_FENCE = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)")
_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*")
RULE_LINE = re.compile(r" {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})")
_QUOTE = re.compile(r" {0,3}>")
ITEM_LINE = re.compile(r"( *)([-+*]|\d{1,9}[.)])([ \t]+|$)(.*)")
_BOX = re.compile(r"\[([ xX])\](?:[ \t]+|$)")
_DELIM_ROW = re.compile(r" {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")
# ADF content rules (Jira refuses documents that break them)
_QUOTE_OK = frozenset({"paragraph", "bulletList", "orderedList", "codeBlock", "mediaSingle", "mediaGroup"})
_PANEL_OK = _QUOTE_OK | {"heading", "rule"}
_ITEM_FIRST = frozenset({"paragraph", "codeBlock", "mediaSingle"})


def parse_markdown(text: str) -> list[dict]:
    """ADF block nodes for a Markdown document."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = _blocks(text.split("\n"), 0)
    _number_tasks(blocks, [0])
    return blocks


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _fence(line: str) -> re.Match | None:
    m = _FENCE.fullmatch(line)
    if m and m.group(2)[0] == "`" and "`" in m.group(3):
        return None  # a backtick fence's info string has no backticks (it is inline code otherwise)
    return m


def _is_table(lines: list[str], i: int) -> bool:
    return (lines[i].lstrip().startswith("|") and _indent(lines[i]) <= 3 and i + 1 < len(lines)
            and "-" in lines[i + 1] and _DELIM_ROW.fullmatch(lines[i + 1]) is not None)


def _starts_block(lines: list[str], i: int) -> bool:
    """Does lines[i] interrupt a paragraph?"""
    line = lines[i]
    if _indent(line) > 3:
        return False
    item = ITEM_LINE.fullmatch(line)
    return bool(_fence(line) or _HEADING.fullmatch(line) or RULE_LINE.fullmatch(line) or _QUOTE.match(line)
                or (item and item.group(4).strip()) or _is_table(lines, i))


def _paragraph(text: str) -> dict:
    return media_or_paragraph(parse_inline(text))


def media_or_paragraph(nodes: list[dict]) -> dict:
    """A paragraph, or a mediaSingle / mediaGroup when it holds nothing but images."""
    media = [n for n in nodes if n["type"] == "mediaInline"]
    if media and all(n["type"] == "mediaInline" or (n["type"] == "text" and not n["text"].strip()
                                                   and not n.get("marks")) for n in nodes):
        items = [{"type": "media", "attrs": n["attrs"]} for n in media]
        if len(items) == 1:
            return {"type": "mediaSingle", "attrs": {"layout": "center"}, "content": items}
        return {"type": "mediaGroup", "content": items}
    return {"type": "paragraph", "content": nodes}


def _blocks(lines: list[str], depth: int) -> list[dict]:
    if depth > MAX_NESTING:
        text = "\n".join(line.strip() for line in lines if line.strip())
        return [_paragraph(text)] if text else []
    out: list[dict] = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if _indent(line) <= 3:
            fence = _fence(line)
            if fence:
                i = _code(lines, i, fence, out)
                continue
            heading = _HEADING.fullmatch(line)
            if heading:
                out.append({"type": "heading", "attrs": {"level": len(heading.group(1))},
                            "content": parse_inline(heading.group(2) or "")})
                i += 1
                continue
            if RULE_LINE.fullmatch(line):
                out.append({"type": "rule"})
                i += 1
                continue
            if _QUOTE.match(line):
                i = _quote(lines, i, depth, out)
                continue
            if ITEM_LINE.fullmatch(line):
                i = _list(lines, i, depth, out)
                continue
            if _is_table(lines, i):
                i = _table(lines, i, out)
                continue
        para = [line.strip()]
        i += 1
        while i < n and lines[i].strip() and not _starts_block(lines, i):
            para.append(lines[i].strip())
            i += 1
        out.append(_paragraph("\n".join(para)))
    return out


def _code(lines: list[str], i: int, fence: re.Match, out: list[dict]) -> int:
    indent, marks = len(fence.group(1)), fence.group(2)
    info = fence.group(3).split()
    body = []
    i += 1
    while i < len(lines):
        stripped = lines[i].strip()
        if stripped and stripped[0] == marks[0] and len(stripped) >= len(marks) and \
                stripped == marks[0] * len(stripped) and _indent(lines[i]) <= 3:
            i += 1
            break
        line = lines[i]
        body.append(line[min(indent, _indent(line)):])
        i += 1
    node: dict = {"type": "codeBlock"}
    if info:
        node["attrs"] = {"language": info[0]}
    text = "\n".join(body)
    node["content"] = [{"type": "text", "text": text}] if text else []
    out.append(node)
    return i


def _quote(lines: list[str], i: int, depth: int, out: list[dict]) -> int:
    inner = []
    while i < len(lines) and lines[i].strip() and _QUOTE.match(lines[i]):
        rest = lines[i].lstrip(" ")[1:]
        inner.append(rest[1:] if rest[:1] in (" ", "\t") else rest)
        i += 1
    out.append(quote_node(_blocks(inner, depth + 1)))
    return i


def quote_node(kids: list[dict]) -> dict:
    """A blockquote, or an info panel when it holds what a blockquote may not (headings, rules)."""
    kids = kids or [{"type": "paragraph", "content": []}]
    if not all(k["type"] in _QUOTE_OK for k in kids) and all(k["type"] in _PANEL_OK for k in kids):
        return {"type": "panel", "attrs": {"panelType": "info"}, "content": kids}
    return {"type": "blockquote", "content": kids}


def _list(lines: list[str], i: int, depth: int, out: list[dict]) -> int:
    first = ITEM_LINE.fullmatch(lines[i])
    assert first is not None
    marker = first.group(2)
    ordered = marker[0].isdigit()
    kind = marker[-1]
    bodies: list[list[str]] = []
    n = len(lines)
    while i < n:
        m = ITEM_LINE.fullmatch(lines[i])
        if not m or _indent(lines[i]) > 3 or m.group(2)[-1] != kind or m.group(2)[0].isdigit() != ordered \
                or RULE_LINE.fullmatch(lines[i]):
            break
        ind, mark, space, rest = len(m.group(1)), m.group(2), m.group(3), m.group(4)
        if not rest.strip() or len(space.expandtabs(4)) > 4:
            width, body = ind + len(mark) + 1, [rest.strip()]
        else:
            width, body = ind + len(mark) + len(space), [rest]
        j = i + 1
        while j < n:
            line = lines[j]
            if not line.strip():
                k = j
                while k < n and not lines[k].strip():
                    k += 1
                if k < n and _indent(lines[k]) >= width:
                    body.extend([""] * (k - j))
                    j = k
                    continue
                break
            if _indent(line) >= width:
                body.append(line[width:])
            elif body[-1].strip() and not _starts_block(lines, j) and not ITEM_LINE.fullmatch(line):
                body.append(line.strip())  # a lazy continuation line
            else:
                break
            j += 1
        bodies.append(body)
        i = j
        k = i
        while k < n and not lines[k].strip():
            k += 1
        if k < n and ITEM_LINE.fullmatch(lines[k]) and k > i:
            i = k
        elif k > i:
            break
    tasks = None if ordered else _task_list(bodies, depth)
    if tasks is not None:
        out.append(tasks)
        return i
    items = [list_item(_blocks(body, depth + 1)) for body in bodies]
    node: dict = {"type": "orderedList" if ordered else "bulletList", "content": items}
    if ordered and int(marker[:-1]) != 1:
        node["attrs"] = {"order": int(marker[:-1])}
    out.append(node)
    return i


def _task_list(bodies: list[list[str]], depth: int) -> dict | None:
    """A GitHub task list (every item starts with [ ] or [x]) as an ADF taskList, or None."""
    content: list[dict] = []
    for body in bodies:
        box = _BOX.match(body[0])
        if not box:
            return None
        blocks = _blocks([body[0][box.end():]] + body[1:], depth + 1)
        if blocks and (blocks[0]["type"] != "paragraph" or any(b["type"] != "taskList" for b in blocks[1:])):
            return None
        state = "TODO" if box.group(1) == " " else "DONE"
        content.append({"type": "taskItem", "attrs": {"localId": "", "state": state},
                        "content": blocks[0]["content"] if blocks else []})
        content.extend(blocks[1:])
    return {"type": "taskList", "attrs": {"localId": ""}, "content": content}


def _number_tasks(nodes: list[dict], counter: list[int]) -> None:
    """Give task lists and items local ids, numbered in document order so the same text gives the same ADF."""
    for node in nodes:
        if node["type"] in ("taskList", "taskItem"):
            counter[0] += 1
            node["attrs"]["localId"] = f"task-{counter[0]}"
        _number_tasks(node.get("content", []), counter)


def list_item(blocks: list[dict]) -> dict:
    """A listItem holding these blocks, made valid: a paragraph first, headings turned into bold text."""
    kids = []
    for kid in blocks:
        if kid["type"] == "heading":  # a list item holds no headings: keep the text, bold
            kid = {"type": "paragraph", "content": [_bold(t) for t in kid.get("content", [])]}
        kids.append(kid)
    if not kids or kids[0]["type"] not in _ITEM_FIRST:
        kids.insert(0, {"type": "paragraph", "content": []})
    return {"type": "listItem", "content": kids}


def _bold(node: dict) -> dict:
    if node["type"] != "text" or any(m["type"] in ("strong", "code") for m in node.get("marks", [])):
        return node
    marks = node.get("marks", []) + [{"type": "strong"}]
    return {**node, "marks": sorted(marks, key=lambda m: MARK_ORDER.get(m["type"], 9))}


def _split_cells(line: str) -> list[str]:
    """A table row's cells; `\\|` is a literal pipe (also inside code), as in GitHub's tables."""
    cells, cur = [], []
    s = line.strip()
    i, closed = 0, False
    while i < len(s):
        c = s[i]
        closed = c == "|"
        if c == "\\" and s[i + 1:i + 2] == "|":
            cur.append("|")
            i += 2
            continue
        if closed:
            cells.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    if not closed:
        cells.append("".join(cur))
    if s.startswith("|"):
        cells = cells[1:]
    return [c.strip() for c in cells] or [""]


def _table(lines: list[str], i: int, out: list[dict]) -> int:
    rows = [_split_cells(lines[i])]
    i += 2
    while i < len(lines) and lines[i].lstrip().startswith("|") and _indent(lines[i]) <= 3:
        rows.append(_split_cells(lines[i]))
        i += 1
    width = max(len(r) for r in rows)
    content = []
    for r, row in enumerate(rows):
        cell_type = "tableHeader" if r == 0 else "tableCell"
        cells = [{"type": cell_type, "content": [{"type": "paragraph", "content": parse_inline(c, cell=True)}]}
                 for c in row + [""] * (width - len(row))]
        content.append({"type": "tableRow", "content": cells})
    out.append({"type": "table", "content": content})
    return i


def sanitize_for_jira(nodes: list[dict]) -> list[dict]:
    """The parsed tree made acceptable to Jira: code marks stand alone (links aside), private attributes go."""
    out = []
    for node in nodes:
        node = dict(node)
        if node["type"] == "text" and any(m["type"] == "code" for m in node.get("marks", [])):
            node["marks"] = [m for m in node["marks"] if m["type"] in ("code", "link")]
        if node["type"] == "mention" and node.get("attrs", {}).get("_scheme"):
            # a Data Center user name means nothing to Jira Cloud: keep it as text
            node = {"type": "text", "text": node["attrs"].get("text", "")}
        if "content" in node:
            node["content"] = sanitize_for_jira(node["content"])
        out.append(node)
    return merge_text(out)


def merge_text(nodes: list[dict]) -> list[dict]:
    """Adjacent text nodes with the same marks as one."""
    out: list[dict] = []
    for node in nodes:
        if (out and node["type"] == "text" and out[-1]["type"] == "text"
                and out[-1].get("marks", []) == node.get("marks", [])):
            out[-1] = {**out[-1], "text": out[-1]["text"] + node["text"]}
        else:
            out.append(node)
    return out
