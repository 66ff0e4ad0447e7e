"""Order content rules (21 CFR 1305.21): every problem is reported with its field."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import csos_desktop
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.order import (
    Order,
    OrderInvalid,
    next_order_number,
    parse_order_input,
)
from tests.unit.domain.samples import (
    SAMPLE_NOW,
    only_problem,
    problems_of,
    sample_order,
    sample_order_input,
)


def test_sample_order_is_valid() -> None:
    order = sample_order()
    assert order.order_number == "26X000123"
    assert order.purchaser.name == "Main Street Pharmacy"
    assert order.lines[0].ndc.digits == "00406055201"
    assert order.created_at == SAMPLE_NOW
    assert order.date_signed is None


def test_sample_resource_file_is_the_sample_input() -> None:
    path = Path(csos_desktop.__file__).parent / "resources" / "samples" / "order.json"
    assert json.loads(path.read_text("utf-8")) == sample_order_input()


def test_order_id_and_creation_time_are_filled_in_when_absent() -> None:
    now = datetime(2026, 11, 25, 7, 30, 15, 999_999, tzinfo=timezone(timedelta(hours=-5)))
    order = parse_order_input(
        sample_order_input(), now=now, new_id=lambda: "0" * 8 + "-0000-4000-8000-" + "0" * 12
    )
    assert order.order_id == "00000000-0000-4000-8000-000000000000"
    assert order.created_at == datetime(2026, 11, 25, 12, 30, 15, tzinfo=UTC)
    assert order.created_at.utcoffset() == timedelta(0)


def test_a_given_order_id_and_creation_time_are_kept() -> None:
    data = sample_order_input()
    data["order_id"] = "6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B"
    data["created_at"] = "2026-11-24T08:00:00-05:00"
    order = parse_order_input(data, now=SAMPLE_NOW)
    assert order.order_id == "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
    assert order.created_at == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


def test_input_may_not_carry_a_date_signed() -> None:
    data = sample_order_input()
    data["date_signed"] = "2026-11-25"
    problem = only_problem(data)
    assert (problem.field, problem.rule) == ("date_signed", "date-signed-not-allowed")
    assert "set when the order is signed" in problem.message


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_order_input(sample_order_input(), now=datetime(2026, 11, 25))


# -- 1305.21(b)(1): order number -------------------------------------------------------------


@pytest.mark.parametrize("number", ["26X00012", "26Y000123", "2026X0001", "26X00012-", "AAX000123"])
def test_order_number_must_be_year_x_and_six_characters(number: str) -> None:
    data = sample_order_input()
    data["order_number"] = number
    problem = only_problem(data)
    assert (problem.field, problem.rule) == ("order_number", "order-number-format")
    assert "the last two digits of the year" in problem.message


def test_order_number_is_read_in_capitals() -> None:
    data = sample_order_input()
    data["order_number"] = " 26x00ab12 "
    assert parse_order_input(data, now=SAMPLE_NOW).order_number == "26X00AB12"


def test_order_number_must_start_with_year_of_signing() -> None:
    with pytest.raises(OrderInvalid) as e:
        sample_order().with_date_signed(date(2027, 1, 2))
    [problem] = e.value.problems
    assert (problem.field, problem.rule) == ("order_number", "order-number-year")
    assert "signed in 2027; use an order number starting with 27X" in problem.message


def test_order_signed_in_the_year_of_its_number_gets_its_date() -> None:
    assert sample_order().with_date_signed(date(2026, 12, 31)).date_signed == date(2026, 12, 31)


def test_next_order_number_is_year_x_and_sequence() -> None:
    assert next_order_number(2026, 123) == "26X000123"
    assert next_order_number(2100, 999_999) == "00X999999"
    with pytest.raises(ValueError):
        next_order_number(2026, 1_000_000)
    with pytest.raises(ValueError):
        next_order_number(2026, 0)


# -- 1305.21(b)(2)-(5): purchaser and supplier --------------------------------------------------


def test_purchaser_dea_number_check_digit_is_checked() -> None:
    data = sample_order_input()
    data["purchaser"]["dea_number"] = "AB1234564"
    problem = only_problem(data)
    assert (problem.field, problem.rule) == ("purchaser.dea_number", "dea-check-digit")
    assert "check digit should be 3, not 4" in problem.message


def test_supplier_dea_number_must_have_a_registrant_type() -> None:
    data = sample_order_input()
    data["supplier"]["dea_number"] = "ZK0452716"
    problem = only_problem(data)
    assert (problem.field, problem.rule) == ("supplier.dea_number", "dea-registrant-type")


def test_supplier_dea_number_must_have_the_dea_format() -> None:
    data = sample_order_input()
    data["supplier"]["dea_number"] = "RK045271"
    assert problems_of(data) == {"supplier.dea_number": "dea-format"}


def test_dea_number_is_read_without_case_or_spaces() -> None:
    data = sample_order_input()
    data["purchaser"]["dea_number"] = " ab1234563 "
    assert parse_order_input(data, now=SAMPLE_NOW).purchaser.dea_number.value == "AB1234563"


def test_supplier_name_is_required() -> None:
    data = sample_order_input()
    del data["supplier"]["name"]
    problem = only_problem(data)
    assert (problem.field, problem.rule) == ("supplier.name", "missing")


def test_supplier_address_must_be_complete() -> None:
    data = sample_order_input()
    del data["supplier"]["address"]["city"]
    data["supplier"]["address"]["street"] = "   "
    assert problems_of(data) == {
        "supplier.address.city": "missing",
        "supplier.address.street": "empty-text",
    }


@pytest.mark.parametrize("state", ["Ohio", "XX", "O", ""])
def test_state_must_be_a_us_state_or_territory_code(state: str) -> None:
    data = sample_order_input()
    data["supplier"]["address"]["state"] = state
    problem = only_problem(data)
    assert (problem.field, problem.rule) == ("supplier.address.state", "state-code")


def test_state_code_is_read_in_capitals_and_territories_count() -> None:
    data = sample_order_input()
    data["purchaser"]["address"]["state"] = "pr"
    assert parse_order_input(data, now=SAMPLE_NOW).purchaser.address.state == "PR"


@pytest.mark.parametrize("zip_code", ["1234", "123456", "12345-12", "12345 6789", "ABCDE"])
def test_postal_code_must_be_zip_or_zip_plus_4(zip_code: str) -> None:
    data = sample_order_input()
    data["purchaser"]["address"]["postal_code"] = zip_code
    problem = only_problem(data)
    assert (problem.field, problem.rule) == ("purchaser.address.postal_code", "postal-code")


# -- unknown keys, wrong types, all problems at once ---------------------------------------------


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ((), "note"),
        (("purchaser",), "purchaser.note"),
        (("supplier", "address"), "supplier.address.note"),
        (("lines", 1), "lines[1].note"),
    ],
)
def test_unknown_keys_are_refused(where: tuple[str | int, ...], field: str) -> None:
    data = sample_order_input()
    target: Any = data
    for step in where:
        target = target[step]
    target["note"] = "anything"
    problem = only_problem(data)
    assert (problem.field, problem.rule) == (field, "unknown-key")


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("purchaser", ["x"], "purchaser"),
        ("lines", {"0": {}}, "lines"),
        ("lines", ["line"], "lines[0]"),
        ("order_number", 26000123, "order_number"),
        ("supplier", None, "supplier"),
    ],
)
def test_wrong_types_are_problems_not_crashes(key: str, value: object, field: str) -> None:
    data = sample_order_input()
    data[key] = value
    problem = only_problem(data)
    assert (problem.field, problem.rule) == (field, "wrong-type")


def test_address_of_the_wrong_type_is_a_problem() -> None:
    data = sample_order_input()
    data["purchaser"]["address"] = "120 Main Street, Springfield IL"
    assert problems_of(data) == {"purchaser.address": "wrong-type"}


def test_input_that_is_not_an_object_is_a_problem() -> None:
    assert problems_of(["not", "an", "order"]) == {"document": "wrong-type"}


def test_schema_must_be_csos_order_1() -> None:
    data = sample_order_input()
    data["schema"] = "csos-order/2"
    assert problems_of(data) == {"schema": "schema-version"}
    del data["schema"]
    assert problems_of(data) == {"schema": "missing"}


def test_every_problem_is_collected_not_just_the_first() -> None:
    data = sample_order_input()
    data["order_number"] = "2026-123"
    data["purchaser"]["dea_number"] = "AB1234564"
    data["supplier"]["address"]["postal_code"] = "4321"
    data["lines"][0]["ndc"] = "abc"
    data["lines"][1]["quantity"] = 0
    data["lines"][2]["schedule"] = "X"
    data["extra"] = 1
    assert problems_of(data) == {
        "order_number": "order-number-format",
        "purchaser.dea_number": "dea-check-digit",
        "supplier.address.postal_code": "postal-code",
        "lines[0].ndc": "ndc-format",
        "lines[1].quantity": "positive-integer",
        "lines[2].schedule": "schedule-unknown",
        "extra": "unknown-key",
    }


def test_order_invalid_message_lists_each_problem_on_its_own_line() -> None:
    data = sample_order_input()
    data["lines"][0]["quantity"] = 0
    data["purchaser"]["name"] = ""
    with pytest.raises(OrderInvalid) as e:
        parse_order_input(data, now=SAMPLE_NOW)
    lines = str(e.value).splitlines()
    assert lines[0] == "the order has 2 problems:"
    assert "purchaser.name: must not be empty" in lines
    assert "lines[0].quantity: must be at least 1 (number of packages), not 0" in lines
    assert isinstance(e.value, InputError) and e.value.exit_code == 2


# -- an Order built in code is checked too -------------------------------------------------------


def test_order_built_in_code_is_validated() -> None:
    order = sample_order()
    with pytest.raises(OrderInvalid) as e:
        Order(
            order_id="not-a-uuid",
            order_number=order.order_number,
            created_at=datetime(2026, 11, 25, 12, 0),  # naive
            purchaser=order.purchaser,
            supplier=order.supplier,
            lines=(),
        )
    assert {p.field: p.rule for p in e.value.problems} == {
        "order_id": "order-id-format",
        "created_at": "created-at-format",
        "lines": "no-lines",
    }


def test_creation_time_must_be_utc_in_whole_seconds() -> None:
    order = sample_order()
    for moment in (
        SAMPLE_NOW.replace(microsecond=5),
        SAMPLE_NOW.astimezone(timezone(timedelta(hours=1))),
    ):
        with pytest.raises(OrderInvalid, match="created_at: must be a UTC time in whole seconds"):
            Order(
                order.order_id,
                order.order_number,
                moment,
                order.purchaser,
                order.supplier,
                order.lines,
            )


def test_creation_time_in_input_needs_a_utc_offset() -> None:
    data = sample_order_input()
    data["created_at"] = "2026-11-25T12:00:00"
    problem = only_problem(data)
    assert (problem.field, problem.rule) == ("created_at", "created-at-format")
