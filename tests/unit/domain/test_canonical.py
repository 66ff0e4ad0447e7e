"""Canonical bytes (RFC 8785): what is signed is exactly what is read back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given

from csos_desktop.domain.canonical import (
    MalformedDocument,
    canonical_bytes,
    load_document,
    parse_json_input,
)
from csos_desktop.domain.errors import InputError
from tests.unit.domain.strategies import FAST, json_objects


def test_keys_are_sorted_and_whitespace_removed() -> None:
    assert (
        canonical_bytes({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'.encode()
    )


def test_rfc8785_orders_keys_by_utf16_code_units() -> None:
    # U+1F600 is a surrogate pair (D83D...) and sorts before U+FB01 in UTF-16.
    assert canonical_bytes({"\ufb01": 1, "\U0001f600": 2}) == '{"😀":2,"ﬁ":1}'.encode()


@FAST
@given(json_objects)
def test_canonical_bytes_round_trip_through_load_document(doc: dict[str, Any]) -> None:
    data = canonical_bytes(doc)
    assert canonical_bytes(load_document(data)) == data
    assert load_document(data) == doc


@FAST
@given(json_objects)
def test_pretty_printed_documents_are_refused(doc: dict[str, Any]) -> None:
    pretty = json.dumps(doc, indent=1, ensure_ascii=True).encode()
    if pretty == canonical_bytes(doc):
        return  # e.g. {} is the same either way
    with pytest.raises(MalformedDocument):
        load_document(pretty)


@pytest.mark.parametrize(
    "data",
    [
        b'{"b":1,"a":2}',  # keys out of order
        b'{"a": 2}',  # whitespace
        b'{"a":2}\n',  # trailing newline
        b'{"a":"\\u00e9"}',  # escaped where canonical JSON writes the character
        b'{"a":-0}',  # canonical zero has no sign
    ],
)
def test_document_not_in_canonical_form_is_refused(data: bytes) -> None:
    with pytest.raises(MalformedDocument, match=r"not in canonical form \(RFC 8785\); it may have"):
        load_document(data)


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(MalformedDocument, match="'a' more than once"):
        load_document(b'{"a":1,"a":2}')


def test_duplicate_keys_in_nested_objects_are_refused() -> None:
    with pytest.raises(MalformedDocument, match="more than once"):
        load_document(b'{"x":[{"k":1,"k":1}]}')


@pytest.mark.parametrize("data", [b'{"a":1.5}', b'{"a":1e3}', b'{"a":1.0}'])
def test_decimal_numbers_are_refused(data: bytes) -> None:
    with pytest.raises(MalformedDocument, match="whole numbers only"):
        load_document(data)


@pytest.mark.parametrize("data", [b'{"a":NaN}', b'{"a":Infinity}'])
def test_non_json_constants_are_refused(data: bytes) -> None:
    with pytest.raises(MalformedDocument, match="not JSON"):
        load_document(data)


@pytest.mark.parametrize("data", [b"[1,2]", b'"text"', b"3", b"null"])
def test_top_level_must_be_an_object(data: bytes) -> None:
    with pytest.raises(MalformedDocument, match="must be a JSON object"):
        load_document(data)


def test_invalid_utf8_is_refused() -> None:
    with pytest.raises(MalformedDocument, match="not valid UTF-8"):
        load_document(b'{"a":"\xff"}')


def test_invalid_json_is_refused() -> None:
    with pytest.raises(MalformedDocument, match="not valid JSON"):
        load_document(b'{"a":')


def test_byte_order_mark_is_refused() -> None:
    with pytest.raises(MalformedDocument):
        load_document(b'\xef\xbb\xbf{"a":1}')


def test_lone_surrogate_escape_is_refused() -> None:
    with pytest.raises(MalformedDocument):
        load_document(b'{"a":"\\ud800"}')


def test_integer_beyond_json_precision_is_refused() -> None:
    with pytest.raises(MalformedDocument):
        load_document(b'{"a":9007199254740993}')
    with pytest.raises(MalformedDocument, match="cannot be canonicalised"):
        canonical_bytes({"a": 2**60})


def test_deep_nesting_is_refused_not_crashed() -> None:
    with pytest.raises(MalformedDocument):
        load_document(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}")


def test_malformed_document_is_an_input_error() -> None:
    with pytest.raises(InputError):
        load_document(b"")


def test_the_input_reader_is_strict_about_keys_and_constants_but_not_about_layout() -> None:
    assert parse_json_input(b'\xef\xbb\xbf{ "b": 1.5,\n  "a": [1, 2] }') == {"b": 1.5, "a": [1, 2]}
    with pytest.raises(MalformedDocument, match="'a' more than once"):
        parse_json_input(b'{"a": 1, "b": {"a": 2}, "a": 3}')
    with pytest.raises(MalformedDocument, match="NaN, which is not JSON"):
        parse_json_input(b'{"quantity": NaN}')
    with pytest.raises(MalformedDocument, match="not valid UTF-8"):
        parse_json_input(b'{"name": "\xff"}')
    with pytest.raises(MalformedDocument, match="line 2"):
        parse_json_input(b'{"a": 1,\n}')
