"""1305.22(g): packages and date received per line, linked to the signed order."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.order import Order
from csos_desktop.domain.receipt import (
    Receipt,
    ReceiptInvalid,
    ReceiptLine,
    build_receipt,
    fully_received,
)
from tests.unit.domain.samples import sample_order

SIGNED_ON = date(2026, 11, 25)
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
DIGEST = "ab" * 32
RID = "11111111-2222-4333-8444-555555555555"


def signed_order() -> Order:
    return sample_order().with_date_signed(SIGNED_ON)


def receipt(
    lines: list[ReceiptLine], earlier: list[Receipt] | None = None, rid: str = RID
) -> Receipt:
    return build_receipt(
        signed_order(), DIGEST, lines, earlier=earlier or [], now=NOW, receipt_id=rid
    )


def rules(exc: pytest.ExceptionInfo[ReceiptInvalid]) -> set[str]:
    return {p.rule for p in exc.value.problems}


def test_partial_receipts_accumulate_until_the_order_is_received_in_full() -> None:
    first = receipt([ReceiptLine(1, 1, date(2026, 11, 27))])
    assert not fully_received(signed_order(), [first])
    second = receipt(
        [
            ReceiptLine(1, 1, date(2026, 11, 28)),
            ReceiptLine(2, 1, SIGNED_ON),
            ReceiptLine(3, 3, SIGNED_ON),
        ],
        [first],
        rid="11111111-2222-4333-8444-666666666666",
    )
    assert fully_received(signed_order(), [first, second])


def test_receiving_more_than_was_ordered_over_several_receipts_is_refused() -> None:
    first = receipt([ReceiptLine(1, 2, SIGNED_ON)])
    with pytest.raises(ReceiptInvalid, match="at most 0 more") as e:
        receipt([ReceiptLine(1, 1, SIGNED_ON)], [first])
    assert rules(e) == {"over-receipt"}


def test_a_date_received_before_the_order_was_signed_is_refused() -> None:
    with pytest.raises(ReceiptInvalid, match="before the order was signed") as e:
        receipt([ReceiptLine(1, 1, date(2026, 11, 24))])
    assert rules(e) == {"date-before-order"}


def test_a_date_received_in_the_future_is_refused() -> None:
    with pytest.raises(ReceiptInvalid) as e:
        receipt([ReceiptLine(1, 1, date(2026, 11, 29))])
    assert rules(e) == {"date-in-future"}


def test_a_line_not_on_the_order_is_refused_with_the_lines_it_has() -> None:
    with pytest.raises(ReceiptInvalid, match="its lines are 1, 2, 3"):
        receipt([ReceiptLine(9, 1, SIGNED_ON)])


def test_only_a_signed_order_can_be_received_against() -> None:
    with pytest.raises(ReceiptInvalid, match="only a signed order"):
        build_receipt(
            sample_order(),
            DIGEST,
            [ReceiptLine(1, 1, SIGNED_ON)],
            earlier=[],
            now=NOW,
            receipt_id=RID,
        )


def test_the_receipt_names_the_order_and_its_signature_and_reads_back_exactly() -> None:
    r = receipt([ReceiptLine(1, 2, SIGNED_ON), ReceiptLine(3, 1, date(2026, 11, 26))])
    data = r.canonical_bytes()
    doc = load_document(data)
    assert doc["schema"] == "csos-receipt/1"
    assert doc["order_id"] == signed_order().order_id
    assert doc["order_number"] == signed_order().order_number
    assert doc["order_signature_sha256"] == DIGEST
    assert Receipt.from_document(doc) == r
    assert Receipt.from_document(doc).canonical_bytes() == data


def test_a_receipt_document_with_an_extra_field_is_refused() -> None:
    doc = load_document(receipt([ReceiptLine(1, 1, SIGNED_ON)]).canonical_bytes())
    doc["note"] = "x"
    lines = doc["lines"]
    assert isinstance(lines, list)
    lines[0]["quantity_received"] = 0
    with pytest.raises(ReceiptInvalid) as e:
        Receipt.from_document(doc)
    assert rules(e) == {"unknown-key", "positive-integer"}


def test_the_same_line_twice_in_one_receipt_is_refused() -> None:
    with pytest.raises(ReceiptInvalid) as e:
        receipt([ReceiptLine(1, 1, SIGNED_ON), ReceiptLine(1, 1, SIGNED_ON)])
    assert "line-no-duplicate" in rules(e)
