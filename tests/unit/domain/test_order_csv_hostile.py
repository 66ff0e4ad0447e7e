"""Spreadsheet cells an importer must refuse by row, never with a traceback."""

from __future__ import annotations

import pytest

from csos_desktop.domain.order_csv import OrderCsvInvalid, orders_from_csv
from tests.unit.domain.samples import SAMPLE_NOW, sample_order_input
from tests.unit.domain.test_order_csv import csv_of


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("quantity", "²", "is not a whole number"),  # str.isdigit() says yes, int() says no
        ("package_size", "١٠٠", "is not a whole number"),  # Arabic-Indic digits
        ("quantity", "9" * 5000, "is not a whole number"),  # int() refuses over 4,300 digits
        ("item_name", "A" * (128 * 1024 + 1), "over 128 KiB"),  # csv's field limit
    ],
)
def test_hostile_cells_are_named_by_row(field: str, value: str, says: str) -> None:
    data = sample_order_input()
    data["lines"][0][field] = value
    with pytest.raises(OrderCsvInvalid) as err:
        orders_from_csv(csv_of({"A": data}), now=SAMPLE_NOW)
    assert says in str(err.value) and "row 2" in str(err.value)


def test_a_header_cell_over_the_field_limit_is_refused() -> None:
    with pytest.raises(OrderCsvInvalid, match="row 1"):
        orders_from_csv("x" * (200 * 1024) + "\n", now=SAMPLE_NOW)


@pytest.mark.parametrize(
    "text",
    [
        b'{"\\ud800":1,"schema":"csos-order/1"}',  # found by `make fuzz`: a surrogate key
        b'{"schema":"csos-order/1","x":{"a\\udaf6b":[]}}',
    ],
)
def test_a_lone_surrogate_in_a_key_is_a_malformed_document(text: bytes) -> None:
    from csos_desktop.domain.canonical import MalformedDocument, load_document

    with pytest.raises(MalformedDocument, match="not valid Unicode"):
        load_document(text)
