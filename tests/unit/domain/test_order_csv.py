"""Importing orders from a spreadsheet: rows grouped into orders, problems named by row."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from csos_desktop.domain.order import parse_order_input
from csos_desktop.domain.order_csv import COLUMNS, OrderCsvInvalid, orders_from_csv
from tests.unit.domain.samples import SAMPLE_NOW, sample_order_input


def csv_of(orders: dict[str, dict[str, Any]]) -> str:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=COLUMNS)
    w.writeheader()
    for ref, o in orders.items():
        for line in o["lines"]:
            row = {"order_ref": ref, "order_number": o.get("order_number", "")}
            for who in ("purchaser", "supplier"):
                p = o[who]
                row |= {f"{who}_name": p["name"], f"{who}_dea": p["dea_number"]}
                row |= {f"{who}_{k}": v for k, v in p["address"].items()}
            row |= {
                k: ("" if line[k] is None else line[k])
                for k in (
                    "line_no",
                    "ndc",
                    "item_name",
                    "strength",
                    "dosage_form",
                    "package_size",
                    "quantity",
                    "schedule",
                )
            }
            w.writerow(row)
    return out.getvalue()


def test_rows_with_one_order_ref_form_one_order() -> None:
    second = sample_order_input()
    del second["order_number"]
    text = csv_of({"A": sample_order_input(), "B": second})
    orders = orders_from_csv(text, now=SAMPLE_NOW)
    assert len(orders) == 2
    assert "order_number" not in orders[1]  # the store assigns it
    first = parse_order_input(orders[0], now=SAMPLE_NOW)
    assert [line.line_no for line in first.lines] == [1, 2, 3]
    assert first.lines[2].schedule is None  # blank schedule: non-controlled


def test_a_bad_ndc_is_reported_with_its_row_and_column() -> None:
    data = sample_order_input()
    data["lines"][1]["ndc"] = "12345"
    with pytest.raises(OrderCsvInvalid) as err:
        orders_from_csv(csv_of({"A": data}), now=SAMPLE_NOW)
    assert any(p.startswith("row 3, ndc:") for p in err.value.problems)


def test_non_numbers_and_disagreeing_order_fields_are_reported_by_row() -> None:
    text = csv_of({"A": sample_order_input()})
    rows = text.splitlines()
    rows[2] = rows[2].replace("Keystone Wholesale Drug Co.", "Other Wholesaler")
    rows[3] = rows[3].replace(",500,3,", ",five hundred,3,")
    with pytest.raises(OrderCsvInvalid) as err:
        orders_from_csv("\n".join(rows) + "\n", now=SAMPLE_NOW)
    problems = err.value.problems
    assert any(p.startswith("row 3: supplier_name differ") for p in problems)
    assert any(p.startswith("row 4, package_size:") for p in problems)


def test_missing_columns_are_named() -> None:
    with pytest.raises(OrderCsvInvalid, match="missing column"):
        orders_from_csv("order_ref,ndc\nA,1234-5678-90\n", now=SAMPLE_NOW)


def test_a_purchaser_dea_problem_names_every_row_of_the_order() -> None:
    data = sample_order_input()
    data["purchaser"]["dea_number"] = "AB1234564"
    with pytest.raises(OrderCsvInvalid) as err:
        orders_from_csv(csv_of({"A": data}), now=SAMPLE_NOW)
    assert any(p.startswith("rows 2, 3, 4, purchaser_dea") for p in err.value.problems)
