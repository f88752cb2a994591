"""Jira wiki markup ↔ Markdown: each construct with its exact output, round trips both ways, errors."""

from __future__ import annotations

import pytest

from connectors.jira.wiki import markdown_to_wiki, wiki_to_markdown
from rulelang.errors import PayloadError

WIKI_TO_MD = [
    ("headings", "h1. Title\nh3. Sub", "# Title\n\n### Sub"),
    ("emphasis", "*bold* _it_ -gone- {{mono}} +under+ ^sup^ ~sub~ ??cite??",
     "**bold** *it* ~~gone~~ `mono` under sup sub *cite*"),
    ("nested emphasis", "*bold _and it_*", "**bold *and it***"),
    ("emphasis inside a word", "un{*}believ{*}able", "un**believ**able"),
    ("dashes and stars that are text", "a - b -- c, 2*3*4, snake_case_name, e-mail",
     "a - b -- c, 2\\*3\\*4, snake_case_name, e-mail"),
    ("links", "[the docs|https://e.com/x] and [https://e.com/y] and [mailto:a@b.c]",
     "[the docs](https://e.com/x) and [https://e.com/y](https://e.com/y) and [mailto:a@b.c](mailto:a@b.c)"),
    ("bold link text", "[*Bold*|https://e.com]", "[**Bold**](https://e.com)"),
    ("mentions", "ask [~jsmith] or [~accountid:5b10ac8d82e05b22cc7d4000]",
     "ask @[jsmith](user:jsmith) or @[5b10ac8d82e05b22cc7d4000](accountid:5b10ac8d82e05b22cc7d4000)"),
    ("bullet lists nested", "* one\n** one.a\n** one.b\n* two", "- one\n  - one.a\n  - one.b\n- two"),
    ("dash list", "- a\n- b", "- a\n- b"),
    ("numbered and mixed lists", "# first\n#* bullet under first\n# second",
     "1. first\n   - bullet under first\n2. second"),
    ("list item continued on the next line", "* item\ncontinued", "- item\n  continued"),
    ("code with language", "{code:java}\nint x = 1;\n  return;\n{code}", "```java\nint x = 1;\n  return;\n```"),
    ("code with title parameter", "{code:title=Foo.sql|language=sql}select 1{code}", "```sql\nselect 1\n```"),
    ("noformat keeps markup", "{noformat}\n*not bold* [not a link]\n{noformat}",
     "```\n*not bold* [not a link]\n```"),
    ("quote", "{quote}\nfirst\n\nsecond\n{quote}", "> first\n>\n> second"),
    ("bq", "bq. quoted line", "> quoted line"),
    ("panel as quote", "{panel:title=Note|borderStyle=dashed}\nbody text\n{panel}", "> **Note**\n>\n> body text"),
    ("table", "||Name||Value||\n|a|b|\n|c\\\\d| |",
     "| Name | Value |\n| --- | --- |\n| a | b |\n| c<br>d |  |"),
    ("table cell with a link", "||H||\n|[x|https://e.com/a]|", "| H |\n| --- |\n| [x](https://e.com/a) |"),
    ("rule", "above\n\n----\n\nbelow", "above\n\n---\n\nbelow"),
    ("images and attachments", "!shot.png! !https://e.com/i.png|thumbnail! !f.png|alt=Front page! [^log.txt]",
     "![attachment](shot.png) ![attachment](https://e.com/i.png) ![Front page](f.png) ![attachment](log.txt)"),
    ("line breaks", "one\ntwo\\\\three", "one\ntwo\nthree"),
    ("escapes and entities", "\\*not bold\\* \\[x\\] a &#92; b", "\\*not bold\\* \\[x\\] a \\\\ b"),
    ("colour tags dropped, text kept", "{color:red}warning{color} text", "warning text"),
    ("unknown macros stay text", "{status:colour=Green}DONE{status}", "{status:colour=Green}DONE{status}"),
    ("emoji short names", "ok :smile:", "ok :smile:"),
]


@pytest.mark.parametrize("name, wiki, markdown", WIKI_TO_MD, ids=[c[0] for c in WIKI_TO_MD])
def test_wiki_to_markdown(name: str, wiki: str, markdown: str) -> None:
    assert wiki_to_markdown(wiki) == markdown


MD_TO_WIKI = [
    ("headings", "# T\n\n###### six", "h1. T\n\nh6. six"),
    ("emphasis", "**b** *i* ~~s~~ `c`", "*b* _i_ -s- {{c}}"),
    ("emphasis inside a word", "un**believ**able", "un{*}believ{*}able"),
    ("link", "[docs](https://e.com/x)", "[docs|https://e.com/x]"),
    ("bare link", "[https://e.com](https://e.com)", "[https://e.com]"),
    ("mentions", "@[Ada](accountid:5b10) @[jsmith](user:jsmith)", "[~accountid:5b10] [~jsmith]"),
    ("lists", "- a\n  - b\n    1. c\n- d", "* a\n** b\n**# c\n* d"),
    ("code", "```python\nx = {1}\n```", "{code:python}\nx = {1}\n{code}"),
    ("code without language", "```\nplain\n```", "{noformat}\nplain\n{noformat}"),
    ("quote", "> q1\n>\n> q2", "{quote}\nq1\n\nq2\n{quote}"),
    ("table", "| A | B |\n| --- | --- |\n| 1 | x<br>y |\n| 2 |  |", "||A||B||\n|1|x\\\\y|\n|2| |"),
    ("rule and image", "---\n\n![attachment](shot.png)", "----\n\n!shot.png!"),
    ("line break and empty line", "a\nb\n\\\nc", "a\nb\n\\\\c"),
    ("escapes", "2 \\* 3 = 6, {braces}, [x], a|b, back\\\\slash, snake_case, -x-",
     "2 * 3 = 6, \\{braces\\}, \\[x\\], a\\|b, back&#92;slash, snake_case, \\-x\\-"),
    ("line start escapes", "\\# not a list\n\nh1. not a heading", "\\# not a list\n\nh1&#46; not a heading"),
    ("bang before text", "wow!nice and done!", "wow\\!nice and done!"),
    # A brace in a target is escaped: `{quote}` there would close the quote around it.
    ("braces in targets inside a quote", "> ![attachment]({quote}) [a](http://x/{quote}) @[q](accountid:{q})",
     "{quote}\n!\\{quote\\}! [a|http://x/\\{quote\\}] [~accountid:\\{q\\}]\n{quote}"),
]


@pytest.mark.parametrize("name, markdown, wiki", MD_TO_WIKI, ids=[c[0] for c in MD_TO_WIKI])
def test_markdown_to_wiki(name: str, markdown: str, wiki: str) -> None:
    assert markdown_to_wiki(markdown) == wiki


MD_ROUND_TRIPS = [
    "# Title\n\nText with **bold**, *em*, ~~strike~~, `code` and a [link](https://example.com/a?b=1).",
    "- one\n- two\n  - two.a\n    - deep\n- three",
    "1. first\n2. second\n   - nested bullet",
    "```java\nclass A {}\n\n// end\n```",
    "```\n*raw* {text}\n```",
    "> quote line\n> second line\n>\n> - listed",
    "| A | B |\n| --- | --- |\n| 1 | `x` |\n| **2** | [l](https://e.com) |",
    "@[jsmith](user:jsmith) and @[5b10ac8d](accountid:5b10ac8d) :smile:",
    "![attachment](shot.png) ![Front page](front.png)",
    "line one\nline two\n\\\nafter an empty line",
    "---",
    "Escaped: \\*not em\\*, \\[not a link\\], a_b, \\_c\\_, braces {x}, pipe a|b, back\\\\slash",
    "un**believ**able and *it*alic",
    "\\# hash\n\n\\- dash\n\n1\\. one",
]


@pytest.mark.parametrize("markdown", MD_ROUND_TRIPS)
def test_markdown_wiki_markdown_round_trip(markdown: str) -> None:
    assert wiki_to_markdown(markdown_to_wiki(markdown)) == markdown


WIKI_ROUND_TRIPS = [
    "h2. Steps\n\n# open the page\n# click *Save*\n\n{code:sql}\nselect 1;\n{code}",
    "||Key||Value||\n|a|[x|https://e.com]|",
    "{quote}\nsaid _this_\n{quote}",
    "[~jsmith] see [docs|https://e.com/d] and {{mono}}",
    "!shot.png!",
]


@pytest.mark.parametrize("wiki", WIKI_ROUND_TRIPS)
def test_wiki_markdown_wiki_round_trip(wiki: str) -> None:
    assert markdown_to_wiki(wiki_to_markdown(wiki)) == wiki


def test_none_and_empty() -> None:
    assert wiki_to_markdown(None) == ""
    assert wiki_to_markdown("") == ""
    assert markdown_to_wiki(None) == ""
    assert markdown_to_wiki("") == ""


def test_unclosed_code_runs_to_the_end() -> None:
    assert wiki_to_markdown("{code}\nx = 1") == "```\nx = 1\n```"


def test_text_after_a_closing_tag_is_kept() -> None:
    assert wiki_to_markdown("{quote}q{quote} after") == "> q\n\nafter"


def test_list_of_a_task_list_keeps_the_boxes() -> None:
    assert markdown_to_wiki("- [x] done\n- [ ] todo") == "* \\[x\\] done\n* \\[ \\] todo"


def test_wiki_refuses_non_text() -> None:
    with pytest.raises(PayloadError, match="fields.description: expected wiki markup text, got object"):
        wiki_to_markdown({"x": 1}, where="fields.description")  # type: ignore[arg-type]
    with pytest.raises(PayloadError, match="markdown: expected text"):
        markdown_to_wiki(5)  # type: ignore[arg-type]
