"""Untrusted JSON: parse_json's limits and its error messages (position or key path)."""

from __future__ import annotations

import pytest

from rulelang.errors import PayloadError
from runtime.payload import PayloadLimits, check_document, parse_json


def code_and_message(data, limits: PayloadLimits | None = None) -> tuple[str, str]:
    with pytest.raises(PayloadError) as info:
        parse_json(data, "p.json", limits or PayloadLimits())
    d = info.value.diagnostic
    return d.code, info.value.render().splitlines()[0]


def test_valid_documents_come_back_as_plain_json() -> None:
    assert parse_json(b'\xef\xbb\xbf{"a": [1, 2.5, "x", null, true]}', "p.json") == {"a": [1, 2.5, "x", None, True]}


@pytest.mark.parametrize("data, code, message", [
    (b'{"a": 1,\n "b": }', "P601", "p.json:2:7: error P601: p.json is not valid JSON: Expecting value"),
    (b'{"a": \xff}', "P601", "p.json:1:7: error P601: p.json is not UTF-8 (byte 0xff)"),
    ('{"a": [1, NaN]}', "P604", "p.json:1:11: error P604: p.json: NaN is not a JSON number"),
    ('{"a": -Infinity}', "P604", "p.json:1:7: error P604: p.json: -Infinity is not a JSON number"),
    ('{"a": 1e999}', "P606", "p.json:1:7: error P606: p.json: number 1e999 is out of range"),
    ('{"a": 9223372036854775808}', "P606", "p.json:1:7: error P606: p.json: integer out of range (integers are "
                                           "64-bit)"),
    ('{"a": 1, "b": {"c": 1, "c": 2}}', "P607", "p.json:1:24: error P607: p.json: duplicate key 'c' in one object"),
    ('{"a": {"b": ["\\udc00"]}}', "P605", "error P605: p.json: lone surrogate (invalid Unicode) in the text at "
                                          "$.a.b[0]"),
    ('{"a": {"we ird": {"\\ud83d": 1}}}', "P605", 'error P605: p.json: lone surrogate (invalid Unicode) in a key at '
                                                  '$.a["we ird"]'),
])
def test_refused_with_a_clear_message(data, code: str, message: str) -> None:
    assert code_and_message(data) == (code, message)


def test_size_depth_and_count_limits() -> None:
    assert code_and_message(b"[" * 10 + b"]" * 10, PayloadLimits(max_depth=5))[0] == "P603"
    assert code_and_message(b"[" * 100_000 + b"]" * 100_000)[0] == "P603"  # json's own recursion limit
    assert code_and_message(b'{"a": "' + b"x" * 100 + b'"}', PayloadLimits(max_bytes=50))[0] == "P602"
    assert code_and_message('{"a": "' + "x" * 100 + '"}', PayloadLimits(max_text=10)) == (
        "P602", "error P602: p.json: text too long at $.a (100 characters)")
    assert code_and_message("[" + ",".join("1" * 20) + "]", PayloadLimits(max_items=10))[0] == "P602"


def test_check_document_refuses_python_objects() -> None:
    with pytest.raises(PayloadError, match=r"a set at \$\.x is not a JSON value"):
        check_document({"x": {1}}, "doc")
    with pytest.raises(PayloadError, match="P604|not a JSON number"):
        check_document({"x": [float("inf")]}, "doc")
