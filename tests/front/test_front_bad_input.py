"""Hostile and odd input: binary, non-UTF-8, empty, huge, deeply nested, NUL, CRLF, tabs — a diagnostic, never a traceback."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from rulelang.cli import main
from rulelang.errors import ConfigError, RuleSyntaxError
from rulelang.parse import parse
from rulelang.program import load, load_file


def only(checked, code: str):
    assert [d.code for d in checked.diagnostics] == [code], checked.render()
    return checked.diagnostics[0]


def test_binary_file_is_refused_with_its_first_nul() -> None:
    d = only(load(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "logo.rules"), "S109")
    assert d.message == "NUL byte in rule text (is this a binary file?)"
    assert (d.span.line, d.span.col) == (3, 1)  # after "\x89PNG\r\n" and "\x1a\n"


def test_non_utf8_names_the_byte_and_its_position() -> None:
    checked = load(b"replica.key = issue.key\nreplica.summary = '\xe9t\xe9'\n", "latin1.rules")
    d = only(checked, "S109")
    assert d.message == "file is not UTF-8 text (byte 0xe9 at line 2, column 20)"
    assert (d.span.line, d.span.col) == (2, 20)
    assert checked.program is None and not checked.ok
    assert "\ufffd" in checked.render()  # the line is shown, the bad byte replaced


def test_nul_in_text_is_positioned_and_never_printed() -> None:
    checked = load("replica.key = issue.key\nreplica.summary = 'a\0b'\n", "nul.rules")
    d = only(checked, "S109")
    assert (d.span.line, d.span.col) == (2, 21)
    assert "\0" not in checked.render()


def test_empty_file_is_a_warning_not_an_error() -> None:
    for source in ("", b"", "\n\n", "// only a comment\n", "/* block */", "\ufeff"):
        checked = load(source, "empty.rules")
        assert [d.code for d in checked.diagnostics] == ["R205"]
        assert checked.ok and checked.program is not None and checked.program.stmts == ()


def test_utf8_bom_is_skipped() -> None:
    checked = load(b"\xef\xbb\xbfreplica.key = issue.key\n", "bom.rules")
    assert checked.ok and checked.diagnostics == []


def test_ten_megabytes_is_refused_quickly(tmp_path) -> None:
    big = "replica.key = issue.key\n" * (10 * 1024 * 1024 // 24 + 1)
    start = time.perf_counter()
    d = only(load(big, "big.rules"), "S110")
    assert d.message.startswith("rule text too large: 10,485,")
    d = only(load(big.encode(), "big.rules"), "S110")
    path = tmp_path / "big.rules"
    path.write_text(big)
    d = only(load_file(path), "S110")
    assert d.message.startswith("rule file too large: 10,485,")
    assert time.perf_counter() - start < 5


def test_ten_thousand_nested_brackets() -> None:
    for text in ("replica.custom = " + "(" * 10_000 + "1" + ")" * 10_000, "replica.x = " + "[" * 10_000,
                 "if true { " * 5_000, "replica.x = " + "{a: " * 10_000):
        start = time.perf_counter()
        d = only(load(text, "deep.rules"), "S111")
        assert d.message == "nesting too deep: more than 32 levels of brackets and blocks"
        assert time.perf_counter() - start < 2


def test_long_operator_chains_hit_the_expression_depth_limit() -> None:
    for text in ("replica.x = " + "a." * 2_000 + "b", "replica.x = " + "not " * 1_000 + "a",
                 "replica.x = " + "- " * 1_000 + "a", "replica.x = " + "a ?? " * 1_000 + "b",
                 "replica.x = " + "1 + " * 1_000 + "1"):
        d = only(load(text, "chain.rules"), "S111")
        assert d.message == "expression too deeply nested: more than 200 levels"


def test_interpolation_counts_toward_nesting() -> None:
    d = only(load('replica.x = "' + "${" + "(" * 40 + "1" + ")" * 40 + '}"', "i.rules"), "S111")
    assert d.span.col == 13 + 2 + 33  # the 33rd '(' inside the ${…}, in file columns


def test_lone_cr_line_ends() -> None:
    checked = load("replica.key = issue.key\rreplica.summary = issue.sumary\r", "mac.rules")
    d = only(checked, "R102")
    assert (d.span.line, d.span.col) == (2, 25)


def test_parse_raises_only_rulelang_errors() -> None:
    with pytest.raises(RuleSyntaxError):
        parse(b"\xff\xfe", "x.rules")
    with pytest.raises(RuleSyntaxError):
        parse("x = 1 && 2", "x.rules")


def test_unreadable_path_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError) as e:
        load_file(tmp_path / "missing.rules")
    assert e.value.diagnostic.code == "K700"
    assert "cannot read" in e.value.diagnostic.message and "missing.rules" in e.value.diagnostic.message


@pytest.mark.parametrize("content", [b"\x00\x01\x02\xff", b"\xff\xfe\xfd", b"", b"x = " + b"(" * 10_000,
                                     "replica.x = 'é'\r\n\tlet y = 1\r\n".encode()])
def test_cli_never_shows_a_traceback(tmp_path, content: bytes) -> None:
    path = tmp_path / "odd.rules"
    path.write_bytes(content)
    for fmt in ("text", "json", "sarif", "github"):
        result = CliRunner().invoke(main, ["lint", "--format", fmt, str(path)])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert result.exit_code in (0, 1)
        assert "Traceback" not in result.output
