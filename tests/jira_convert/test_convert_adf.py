"""ADF ↔ Markdown: every node type with its exact Markdown, Markdown → ADF shapes, round trips, errors."""

from __future__ import annotations

import pytest

from connectors.jira.adf import adf_to_markdown, markdown_to_adf
from rulelang.errors import PayloadError


def doc(*content: dict) -> dict:
    return {"type": "doc", "version": 1, "content": list(content)}


def p(*content: dict) -> dict:
    return {"type": "paragraph", "content": list(content)}


def t(text: str, *marks: str, href: str | None = None) -> dict:
    node: dict = {"type": "text", "text": text}
    ms = [{"type": m} for m in marks]
    if href is not None:
        ms.append({"type": "link", "attrs": {"href": href}})
    if ms:
        node["marks"] = ms
    return node


def item(*content: dict) -> dict:
    return {"type": "listItem", "content": list(content)}


def cell(kind: str, *content: dict) -> dict:
    return {"type": kind, "attrs": {}, "content": list(content)}


# -- ADF → Markdown, one construct at a time ---------------------------------------------------------

ADF_CASES = [
    ("paragraphs", doc(p(t("one")), p(t("two"))), "one\n\ntwo"),
    ("headings", doc(*[{"type": "heading", "attrs": {"level": n}, "content": [t(f"H{n}")]} for n in range(1, 7)]),
     "# H1\n\n## H2\n\n### H3\n\n#### H4\n\n##### H5\n\n###### H6"),
    ("emphasis", doc(p(t("a "), t("bold", "strong"), t(" "), t("it", "em"), t(" "), t("gone", "strike"),
                       t(" "), t("both", "strong", "em"))),
     "a **bold** *it* ~~gone~~ ***both***"),
    ("inline code", doc(p(t("run "), t("make test", "code"), t(" now"))), "run `make test` now"),
    ("code with backticks", doc(p(t("a`b", "code"))), "``a`b``"),
    ("link", doc(p(t("see "), t("the docs", href="https://example.com/a_(b)"), t("."))),
     "see [the docs](https://example.com/a_(b))."),
    ("bold link", doc(p(t("x", "strong", href="https://e.com"))), "[**x**](https://e.com)"),
    ("link with spaces", doc(p(t("x", href="https://e.com/a b"))), "[x](<https://e.com/a b>)"),
    ("mention", doc(p(t("ping "), {"type": "mention", "attrs": {"id": "5b10ac8d82e05b22cc7d4000",
                                                                "text": "@Ada Lovelace", "accessLevel": ""}})),
     "ping @[Ada Lovelace](accountid:5b10ac8d82e05b22cc7d4000)"),
    ("emoji", doc(p(t("ok "), {"type": "emoji", "attrs": {"shortName": ":thumbsup:", "id": "1f44d", "text": "👍"}})),
     "ok :thumbsup:"),
    ("emoji without short name", doc(p({"type": "emoji", "attrs": {"text": "👍"}})), "👍"),
    ("hard break", doc(p(t("line one"), {"type": "hardBreak"}, t("line two"))), "line one\nline two"),
    ("empty line in a paragraph", doc(p(t("a"), {"type": "hardBreak"}, {"type": "hardBreak"}, t("b"))),
     "a\n\\\nb"),
    ("rule", doc(p(t("above")), {"type": "rule"}, p(t("below"))), "above\n\n---\n\nbelow"),
    ("bullet list nested", doc({"type": "bulletList", "content": [
        item(p(t("one")), {"type": "bulletList", "content": [item(p(t("one.a"))), item(p(t("one.b")))]}),
        item(p(t("two")))]}),
     "- one\n  - one.a\n  - one.b\n- two"),
    ("ordered list with start", doc({"type": "orderedList", "attrs": {"order": 3}, "content": [
        item(p(t("three"))), item(p(t("four")), {"type": "orderedList", "content": [item(p(t("inner")))]})]}),
     "3. three\n4. four\n   1. inner"),
    ("list item with two paragraphs", doc({"type": "bulletList", "content": [item(p(t("a")), p(t("b")))]}),
     "- a\n\n  b"),
    ("code block", doc({"type": "codeBlock", "attrs": {"language": "python"},
                        "content": [t("def f():\n    return 1")]}),
     "```python\ndef f():\n    return 1\n```"),
    ("code block holding a fence", doc({"type": "codeBlock", "content": [t("```\nx\n```")]}),
     "````\n```\nx\n```\n````"),
    ("blockquote", doc({"type": "blockquote", "content": [p(t("quoted")), p(t("twice"))]}),
     "> quoted\n>\n> twice"),
    ("panel", doc({"type": "panel", "attrs": {"panelType": "warning"},
                   "content": [{"type": "heading", "attrs": {"level": 3}, "content": [t("Careful")]},
                               p(t("hot"))]}),
     "> ### Careful\n>\n> hot"),
    ("table", doc({"type": "table", "attrs": {"layout": "default"}, "content": [
        {"type": "tableRow", "content": [cell("tableHeader", p(t("Name"))), cell("tableHeader", p(t("Value")))]},
        {"type": "tableRow", "content": [cell("tableCell", p(t("a|b"))),
                                         cell("tableCell", p(t("x")), p(t("y", "strong")))]},
        {"type": "tableRow", "content": [cell("tableCell", p(t("first"), {"type": "hardBreak"}, t("second"))),
                                         cell("tableCell", p())]}]}),
     "| Name | Value |\n| --- | --- |\n| a\\|b | x<br>**y** |\n| first<br>second |  |"),
    ("media single", doc({"type": "mediaSingle", "attrs": {"layout": "center"}, "content": [
        {"type": "media", "attrs": {"id": "f0e1d2c3", "type": "file", "collection": "jira-10000", "alt": "shot.png"}}]}),
     "![shot.png](f0e1d2c3)"),
    ("media group", doc({"type": "mediaGroup", "content": [
        {"type": "media", "attrs": {"id": "aaa", "type": "file", "collection": ""}},
        {"type": "media", "attrs": {"type": "external", "url": "https://e.com/i.png"}}]}),
     "![attachment](aaa) ![attachment](https://e.com/i.png)"),
    ("status and date", doc(p({"type": "status", "attrs": {"text": "IN REVIEW", "color": "blue"}}, t(" by "),
                              {"type": "date", "attrs": {"timestamp": "1718409600000"}})),
     "IN REVIEW by 2024-06-15"),
    ("inline card", doc(p({"type": "inlineCard", "attrs": {"url": "https://e.com/x"}})),
     "[https://e.com/x](https://e.com/x)"),
    ("unknown nodes keep their text", doc({"type": "bodiedExtension", "attrs": {"extensionKey": "x"},
                                           "content": [p(t("inside")), {"type": "futureBlock", "content": [
                                               p(t("deeper")), {"type": "futureInline", "attrs": {"text": "atom"}}]}]}),
     "inside\n\ndeeper\n\natom"),
    ("unknown inline node", doc(p(t("a "), {"type": "sparkle", "content": [t("glitter")]}, t(" b"))),
     "a glitter b"),
    ("expand", doc({"type": "expand", "attrs": {"title": "Details"}, "content": [p(t("hidden"))]}),
     "**Details**\n\nhidden"),
    ("task list", doc({"type": "taskList", "attrs": {"localId": "1"}, "content": [
        {"type": "taskItem", "attrs": {"localId": "2", "state": "DONE"}, "content": [t("done")]},
        {"type": "taskItem", "attrs": {"localId": "3", "state": "TODO"}, "content": [t("todo")]}]}),
     "- [x] done\n- [ ] todo"),
    ("underline and colour keep their text", doc(p(t("under", "underline"), t(" "),
                                                   {"type": "text", "text": "red",
                                                    "marks": [{"type": "textColor", "attrs": {"color": "#f00"}}]})),
     "under red"),
    ("escapes", doc(p(t("2 * 3 = 6, a_b, _c_, [x], `y`, #1, <b>, :smile:, 10:30:45"))),
     "2 \\* 3 = 6, a_b, \\_c\\_, \\[x\\], \\`y\\`, #1, \\<b>, \\:smile:, 10:30:45"),
    ("line start escapes", doc(p(t("# not a heading")), p(t("- not a list")), p(t("1. not a list")),
                               p(t("> not a quote"))),
     "\\# not a heading\n\n\\- not a list\n\n1\\. not a list\n\n\\> not a quote"),
    ("two lists in a row stay two", doc({"type": "bulletList", "content": [item(p(t("a")))]},
                                        {"type": "bulletList", "content": [item(p(t("b")))]}),
     "- a\n\n* b"),
]


@pytest.mark.parametrize("name, adf, markdown", ADF_CASES, ids=[c[0] for c in ADF_CASES])
def test_adf_to_markdown(name: str, adf: dict, markdown: str) -> None:
    assert adf_to_markdown(adf) == markdown


@pytest.mark.parametrize("name, adf, markdown", ADF_CASES, ids=[c[0] for c in ADF_CASES])
def test_rendered_markdown_is_a_fixed_point(name: str, adf: dict, markdown: str) -> None:
    assert adf_to_markdown(markdown_to_adf(markdown)) == markdown


def test_none_and_empty() -> None:
    assert adf_to_markdown(None) == ""
    assert adf_to_markdown(doc()) == ""
    assert markdown_to_adf(None) == {"type": "doc", "version": 1, "content": []}
    assert markdown_to_adf("") == {"type": "doc", "version": 1, "content": []}


# -- Markdown → ADF shapes ---------------------------------------------------------------------------

def test_markdown_to_adf_inline_marks() -> None:
    got = markdown_to_adf("a **b** *c* ~~d~~ `e` [f](https://g.com) @[H I](accountid:42) :tada:")
    assert got["content"] == [p(
        t("a "), t("b", "strong"), t(" "), t("c", "em"), t(" "), t("d", "strike"), t(" "), t("e", "code"), t(" "),
        t("f", href="https://g.com"), t(" "), {"type": "mention", "attrs": {"id": "42", "text": "@H I"}}, t(" "),
        {"type": "emoji", "attrs": {"shortName": ":tada:"}})]


def test_markdown_to_adf_blocks() -> None:
    got = markdown_to_adf("## Title\n\n- a\n  1. b\n\n```sql\nselect 1\n```\n\n> q\n\n---")
    assert got["content"] == [
        {"type": "heading", "attrs": {"level": 2}, "content": [t("Title")]},
        {"type": "bulletList", "content": [item(p(t("a")), {"type": "orderedList", "content": [item(p(t("b")))]})]},
        {"type": "codeBlock", "attrs": {"language": "sql"}, "content": [t("select 1")]},
        {"type": "blockquote", "content": [p(t("q"))]},
        {"type": "rule"},
    ]


def test_markdown_to_adf_table_and_media() -> None:
    got = markdown_to_adf("| h |\n| --- |\n| a<br>b |\n\n![shot.png](abc-123)\n\n![attachment](https://e.com/i.png)")
    assert got["content"] == [
        {"type": "table", "content": [
            {"type": "tableRow", "content": [{"type": "tableHeader", "content": [p(t("h"))]}]},
            {"type": "tableRow", "content": [
                {"type": "tableCell", "content": [p(t("a"), {"type": "hardBreak"}, t("b"))]}]}]},
        {"type": "mediaSingle", "attrs": {"layout": "center"}, "content": [
            {"type": "media", "attrs": {"type": "file", "id": "abc-123", "collection": "", "alt": "shot.png"}}]},
        {"type": "mediaSingle", "attrs": {"layout": "center"}, "content": [
            {"type": "media", "attrs": {"type": "external", "url": "https://e.com/i.png"}}]},
    ]


def test_markdown_to_adf_is_valid_for_jira() -> None:
    # ADF forbids other marks next to `code`, a heading in a list item, and a heading in a blockquote
    got = markdown_to_adf("**`x`**\n\n- # h\n\n> # h")
    assert got["content"][0] == p(t("x", "code"))
    assert got["content"][1] == {"type": "bulletList", "content": [item(p(t("h", "strong")))]}
    assert got["content"][2]["type"] == "panel"


def test_commonmark_emphasis_rules() -> None:
    assert markdown_to_adf("snake_case_name")["content"] == [p(t("snake_case_name"))]
    assert markdown_to_adf("***x***")["content"] == [p(t("x", "strong", "em"))]
    assert markdown_to_adf("_x_ and __y__")["content"] == [p(t("x", "em"), t(" and "), t("y", "strong"))]
    assert markdown_to_adf("a * b * c")["content"] == [p(t("a * b * c"))]


def test_line_breaks_read_three_ways() -> None:
    want = [p(t("a"), {"type": "hardBreak"}, t("b"))]
    for text in ("a\nb", "a\\\nb", "a  \nb"):
        assert markdown_to_adf(text)["content"] == want


def test_user_mentions_from_wiki_are_text_in_adf() -> None:
    assert markdown_to_adf("@[jsmith](user:jsmith)")["content"] == [p(t("@jsmith"))]


# -- round trips ---------------------------------------------------------------------------------------

ROUND_TRIPS = [
    "plain text",
    "# Heading\n\nText with **bold**, *em*, ~~strike~~, `code` and a [link](https://example.com/x?a=1&b=2).",
    "- one\n- two\n  - two.a\n    - deep\n- three",
    "1. first\n2. second",
    "7. seven\n8. eight",
    "- [x] done\n- [ ] to do\n  - [ ] nested",
    "```js\nconst a = 1;\n\nconsole.log(a);\n```",
    "> quote line\n> second line\n>\n> - listed",
    "| A | B |\n| --- | --- |\n| 1 | `x\\|y` |\n| **2** | [l](https://e.com) |",
    "@[Ada Lovelace](accountid:5b10ac8d82e05b22cc7d4000) said :smile: and ![trace.log](10042)",
    "line one\nline two\n\\\nafter an empty line",
    "---",
    "Escaped: \\*not em\\*, \\[not a link\\](x), a_b\\_, \\_c\\_",
    "2024\\. was a year\n\\- and a dash",
    "- item\n\n  ```\n  code in item\n  ```",
    "***both*** and **bold *nested em* bold**",
]


@pytest.mark.parametrize("markdown", ROUND_TRIPS)
def test_markdown_adf_markdown_round_trip(markdown: str) -> None:
    assert adf_to_markdown(markdown_to_adf(markdown)) == markdown


# -- errors --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad, where", [
    ("text", "doc: expected an ADF node (object), got text"),
    ({"content": []}, "doc.type: expected text, got null"),
    (doc(p({"type": "text", "text": 5})), "doc.content[0].content[0].text: expected text, got number"),
    (doc({"type": "paragraph", "content": {"x": 1}}), "doc.content[0].content: expected an array, got object"),
    (doc(p({"type": "text", "text": "x", "marks": "strong"})), "doc.content[0].content[0].marks: expected an array"),
    (doc({"type": "heading", "attrs": {"level": "two"}}), "doc.content[0].attrs.level: expected a number, got text"),
    (doc(p({"type": "text", "text": "x", "marks": [{"type": "link", "attrs": {"href": ["x"]}}]})),
     "doc.content[0].content[0].marks[0].attrs.href: expected text, got array"),
])
def test_malformed_adf_names_the_key(bad: object, where: str) -> None:
    with pytest.raises(PayloadError) as err:
        adf_to_markdown(bad)  # type: ignore[arg-type]
    assert where in str(err.value)


def test_deep_nesting_is_refused_not_a_crash() -> None:
    node: dict = p(t("x"))
    for _ in range(300):
        node = {"type": "blockquote", "content": [node]}
    with pytest.raises(PayloadError, match="nested more than"):
        adf_to_markdown(doc(node))


def test_deep_markdown_nesting_becomes_text() -> None:
    got = adf_to_markdown(markdown_to_adf(">" * 500 + " x"))
    assert got.endswith("x")


def test_markdown_to_adf_refuses_non_text() -> None:
    with pytest.raises(PayloadError, match="markdown: expected text or null, got number"):
        markdown_to_adf(3)  # type: ignore[arg-type]
