"""Sample order data other tests can import (the same order as resources/samples/order.json)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from csos_desktop.domain.order import Order, OrderInvalid, Problem, parse_order_input

#: The moment sample orders are "created" at, and the id they get.
SAMPLE_NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
SAMPLE_ORDER_ID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
PURCHASER_DEA = "AB1234563"
SUPPLIER_DEA = "RK0452716"


def sample_order_input() -> dict[str, Any]:
    """Valid CLI input: a pharmacy orders a schedule II, a schedule IV and a non-controlled item.

    A fresh dict on every call, so a test may change it freely.
    """
    return {
        "schema": "csos-order/1",
        "order_number": "26X000123",
        "purchaser": {
            "name": "Main Street Pharmacy",
            "address": {
                "street": "120 Main Street",
                "city": "Springfield",
                "state": "IL",
                "postal_code": "62701",
            },
            "dea_number": PURCHASER_DEA,
        },
        "supplier": {
            "name": "Keystone Wholesale Drug Co.",
            "address": {
                "street": "4500 Industrial Parkway",
                "city": "Columbus",
                "state": "OH",
                "postal_code": "43219-1234",
            },
            "dea_number": SUPPLIER_DEA,
        },
        "lines": [
            {
                "line_no": 1,
                "ndc": "0406-0552-01",
                "item_name": "Oxycodone Hydrochloride",
                "strength": "5 mg",
                "dosage_form": "tablet",
                "package_size": 100,
                "quantity": 2,
                "schedule": "2",
            },
            {
                "line_no": 2,
                "ndc": "59762-3720-1",
                "item_name": "Alprazolam",
                "strength": "0.5 mg",
                "dosage_form": "tablet",
                "package_size": 100,
                "quantity": 1,
                "schedule": "4",
            },
            {
                "line_no": 3,
                "ndc": "65862-017-05",
                "item_name": "Amoxicillin",
                "strength": "500 mg",
                "dosage_form": "capsule",
                "package_size": 500,
                "quantity": 3,
                "schedule": None,
            },
        ],
    }


def sample_order() -> Order:
    """The sample input as an unsigned Order, created at SAMPLE_NOW with SAMPLE_ORDER_ID."""
    return parse_order_input(sample_order_input(), now=SAMPLE_NOW, new_id=lambda: SAMPLE_ORDER_ID)


def problems_of(data: Any) -> dict[str, str]:
    """field -> rule for every problem ``parse_order_input`` reports on ``data``."""
    with pytest.raises(OrderInvalid) as e:
        parse_order_input(data, now=SAMPLE_NOW)
    return {p.field: p.rule for p in e.value.problems}


def only_problem(data: Any) -> Problem:
    """The one problem ``parse_order_input`` reports on ``data``."""
    with pytest.raises(OrderInvalid) as e:
        parse_order_input(data, now=SAMPLE_NOW)
    assert len(e.value.problems) == 1, e.value.problems
    return e.value.problems[0]
