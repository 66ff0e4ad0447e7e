"""The signed form of an order: document, canonical bytes, JSON Schema, strict reading."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

import csos_desktop
from csos_desktop.domain.canonical import canonical_bytes, load_document
from csos_desktop.domain.order import Order, OrderInvalid
from tests.unit.domain.samples import sample_order
from tests.unit.domain.strategies import FAST, json_objects, json_values, orders

SCHEMA_PATH = Path(csos_desktop.__file__).parent / "resources" / "schemas" / "csos-order-1.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def signed_document() -> dict[str, Any]:
    return sample_order().with_date_signed(date(2026, 11, 25)).to_document()


def rules_of(doc: Any) -> dict[str, str]:
    with pytest.raises(OrderInvalid) as e:
        Order.from_document(doc)
    return {p.field: p.rule for p in e.value.problems}


def test_document_carries_every_1305_21_field() -> None:
    doc = signed_document()
    assert doc["schema"] == "csos-order/1"
    assert doc["order_number"] == "26X000123"
    assert doc["created_at"] == "2026-11-25T12:00:00Z"
    assert doc["date_signed"] == "2026-11-25"
    assert doc["purchaser"] == {
        "name": "Main Street Pharmacy",
        "address": {
            "street": "120 Main Street",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62701",
        },
        "dea_number": "AB1234563",
    }
    assert doc["lines"][0] == {
        "line_no": 1,
        "ndc": "00406055201",
        "item_name": "Oxycodone Hydrochloride",
        "strength": "5 mg",
        "dosage_form": "tablet",
        "package_size": 100,
        "quantity": 2,
        "schedule": "2",
    }
    assert doc["lines"][2]["schedule"] is None


def test_unsigned_document_has_no_date_signed_key() -> None:
    assert "date_signed" not in sample_order().to_document()


def test_document_round_trips_exactly() -> None:
    for order in (sample_order(), sample_order().with_date_signed(date(2026, 11, 25))):
        assert Order.from_document(order.to_document()) == order
        data = order.canonical_bytes()
        assert data == canonical_bytes(order.to_document())
        again = Order.from_document(load_document(data))
        assert again == order and again.canonical_bytes() == data


@FAST
@given(orders())
def test_generated_orders_round_trip_through_canonical_bytes(order: Order) -> None:
    data = order.canonical_bytes()
    again = Order.from_document(load_document(data))
    assert again == order
    assert again.canonical_bytes() == data


def test_order_number_year_is_checked_when_reading_a_signed_document() -> None:
    doc = signed_document()
    doc["date_signed"] = "2027-01-04"
    assert rules_of(doc) == {"order_number": "order-number-year"}


@pytest.mark.parametrize(
    ("path", "value", "field", "rule"),
    [
        (("lines", 0, "ndc"), "00406-0552-01", "lines[0].ndc", "ndc-format"),
        (("lines", 0, "schedule"), "II", "lines[0].schedule", "schedule-unknown"),
        (("purchaser", "dea_number"), "ab1234563", "purchaser.dea_number", "dea-format"),
        (("supplier", "address", "state"), "oh", "supplier.address.state", "state-code"),
        (("order_number",), "26x000123", "order_number", "order-number-format"),
        (("created_at",), "2026-11-25T12:00:00+00:00", "created_at", "created-at-format"),
        (("created_at",), "2026-11-25T12:00:00.5Z", "created_at", "created-at-format"),
        (("date_signed",), "2026-11-31", "date_signed", "date-format"),
        (("order_id",), "6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B", "order_id", "order-id-format"),
    ],
)
def test_signed_document_is_read_strictly(
    path: tuple[str | int, ...], value: object, field: str, rule: str
) -> None:
    doc = signed_document()
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert rules_of(doc) == {field: rule}


@pytest.mark.parametrize("key", ["order_id", "created_at", "schema", "lines"])
def test_signed_document_needs_every_key(key: str) -> None:
    doc = signed_document()
    del doc[key]
    assert rules_of(doc) == {key: "missing"}


def test_signed_document_with_an_unexpected_key_is_refused() -> None:
    doc = signed_document()
    doc["lines"][0]["lot"] = "A1"
    doc["comment"] = "added after signing"
    assert rules_of(doc) == {"lines[0].lot": "unknown-key", "comment": "unknown-key"}


def test_text_is_kept_exactly_as_signed() -> None:
    doc = signed_document()
    doc["purchaser"]["name"] = " Main Street Pharmacy "
    assert Order.from_document(doc).purchaser.name == " Main Street Pharmacy "


# -- the JSON Schema in resources/schemas ----------------------------------------------------


def test_schema_accepts_the_sample_documents(validator: jsonschema.Draft202012Validator) -> None:
    validator.validate(sample_order().to_document())
    validator.validate(signed_document())


@FAST
@given(orders())
def test_schema_accepts_every_document_to_document_produces(
    validator: jsonschema.Draft202012Validator, order: Order
) -> None:
    validator.validate(order.to_document())


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.update(extra=1),
        lambda d: d["purchaser"]["address"].update(country="US"),
        lambda d: d["lines"][0].update(ndc="00406-0552-01"),
        lambda d: d["lines"][0].update(quantity=1.5),
        lambda d: d["lines"][0].update(package_size=0),
        lambda d: d["lines"][0].update(schedule="6"),
        lambda d: d["lines"][0].pop("schedule"),
        lambda d: d["supplier"].update(dea_number="ZK0452716"),
        lambda d: d.update(lines=[]),
        lambda d: d.update(schema="csos-order/2"),
        lambda d: d.update(created_at="2026-11-25 12:00:00"),
        lambda d: d["purchaser"].update(name="  "),
        lambda d: d["purchaser"]["address"].update(state="Ohio"),
    ],
)
def test_schema_rejects_broken_documents(
    validator: jsonschema.Draft202012Validator, breakage: Any
) -> None:
    doc = signed_document()
    breakage(doc)
    assert not validator.is_valid(doc)
    with pytest.raises(OrderInvalid):
        Order.from_document(doc)


# -- reading never crashes ---------------------------------------------------------------------


@FAST
@given(json_objects)
def test_reading_arbitrary_json_raises_only_order_invalid(doc: dict[str, Any]) -> None:
    with pytest.raises(OrderInvalid):
        Order.from_document(doc)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


@FAST
@given(st.data())
def test_reading_a_damaged_document_raises_only_order_invalid(data: st.DataObject) -> None:
    doc = copy.deepcopy(signed_document())
    path = data.draw(st.sampled_from(_paths(doc)))
    target: Any = doc
    for step in path[:-1]:
        target = target[step]
    if data.draw(st.booleans()):
        target[path[-1]] = data.draw(json_values)
    elif isinstance(target, dict):
        del target[path[-1]]
    else:
        target.pop(path[-1])
    try:
        order = Order.from_document(doc)
    except OrderInvalid as e:
        assert e.problems
    else:
        # The damage happened to leave a valid order: then it must be exactly the document.
        assert order.to_document() == doc
