"""The supplier reads a `csos-lost-order/1` statement strictly (1305.26)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from csos_desktop.domain.notices import LostOrderStatement, NoticeInvalid

STATEMENT = LostOrderStatement(
    statement_id="0b7e3c52-4a39-4c61-9a8e-5a4f3cf0d6a1",
    order_id="3f1c2e4b-5d6a-4b7c-8d9e-0f1a2b3c4d5e",
    order_number="26X000123",
    order_date=date(2026, 11, 2),
    order_signature_sha256="ab" * 32,
    purchaser_dea="AB1234563",
    supplier_dea="RK0452716",
    explanation="the distributor never received it",
    replacement_order_id="9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    replacement_order_number="26X000124",
    signed_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
)


def _doc() -> dict[str, object]:
    return dict(json.loads(STATEMENT.canonical_bytes()))


def test_a_signed_statement_reads_back_as_the_same_statement() -> None:
    assert LostOrderStatement.from_document(_doc()) == STATEMENT


def test_a_statement_whose_text_is_not_its_fields_is_refused() -> None:
    doc = _doc()
    doc["explanation"] = "another explanation entirely"
    with pytest.raises(NoticeInvalid, match="statement"):
        LostOrderStatement.from_document(doc)


def test_unknown_and_missing_keys_and_a_bad_dea_number_are_refused() -> None:
    doc = _doc()
    doc["ship_to"] = "elsewhere"
    del doc["order_date"]
    doc["purchaser_dea"] = "AB1234567"
    with pytest.raises(NoticeInvalid) as refused:
        LostOrderStatement.from_document(doc)
    text = str(refused.value)
    assert "ship_to" in text and "order_date" in text and "purchaser_dea" in text
