"""Order lines (21 CFR 1305.21(b)(7)-(9), (c)): item, package size, number of packages, schedule."""

from __future__ import annotations

import pytest

from csos_desktop.domain.order import parse_order_input
from csos_desktop.domain.schedule import Schedule
from tests.unit.domain.samples import (
    SAMPLE_NOW,
    only_problem,
    problems_of,
    sample_order,
    sample_order_input,
)

# -- 1305.21(b)(7)-(9): lines --------------------------------------------------------------------


def test_order_must_have_at_least_one_line() -> None:
    data = sample_order_input()
    data["lines"] = []
    assert problems_of(data) == {"lines": "no-lines"}


def test_line_numbers_must_be_positive() -> None:
    data = sample_order_input()
    data["lines"][1]["line_no"] = 0
    problem = only_problem(data)
    assert (problem.field, problem.rule) == ("lines[1].line_no", "positive-integer")


def test_line_numbers_must_be_unique() -> None:
    data = sample_order_input()
    data["lines"][2]["line_no"] = 1
    problem = only_problem(data)
    assert (problem.field, problem.rule) == ("lines[2].line_no", "line-no-duplicate")
    assert "line number 1 is used more than once" in problem.message


def test_line_ndc_must_be_valid() -> None:
    data = sample_order_input()
    data["lines"][2]["ndc"] = "6586201705"
    problem = only_problem(data)
    assert (problem.field, problem.rule) == ("lines[2].ndc", "ndc-format")
    assert "hyphens as printed on the package" in problem.message


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("item_name", "", "empty-text"),
        ("strength", 5, "wrong-type"),
        ("dosage_form", "tab\nlet", "text-control-char"),
        ("item_name", None, "wrong-type"),
    ],
)
def test_item_name_strength_and_form_are_non_empty_text(
    field: str, value: object, rule: str
) -> None:
    data = sample_order_input()
    data["lines"][0][field] = value
    problem = only_problem(data)
    assert (problem.field, problem.rule) == (f"lines[0].{field}", rule)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (0, "positive-integer"),
        (-3, "positive-integer"),
        (True, "wrong-type"),
        (1.0, "wrong-type"),
        ("2", "wrong-type"),
        (2**53, "positive-integer"),
    ],
)
def test_package_size_and_number_of_packages_are_positive_whole_numbers(
    value: object, rule: str
) -> None:
    for field, meaning in (
        ("package_size", "quantity in a single package"),
        ("quantity", "number of packages"),
    ):
        data = sample_order_input()
        data["lines"][1][field] = value
        problem = only_problem(data)
        assert (problem.field, problem.rule) == (f"lines[1].{field}", rule)
        assert meaning in problem.message


@pytest.mark.parametrize(
    ("given", "schedule"),
    [
        ("II", Schedule.II),
        ("2n", Schedule.II_NON_NARCOTIC),
        ("IIIN", Schedule.III_NON_NARCOTIC),
        (5, Schedule.V),
        ("1", Schedule.I),
        (None, None),
    ],
)
def test_schedules_are_normalised_from_the_input(given: object, schedule: Schedule | None) -> None:
    data = sample_order_input()
    data["lines"][0]["schedule"] = given
    assert parse_order_input(data, now=SAMPLE_NOW).lines[0].schedule is schedule


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("6", "schedule-unknown"),
        ("VI", "schedule-unknown"),
        (True, "wrong-type"),
        ([2], "wrong-type"),
    ],
)
def test_schedule_must_be_a_dea_schedule_or_null(value: object, rule: str) -> None:
    data = sample_order_input()
    data["lines"][0]["schedule"] = value
    problem = only_problem(data)
    assert (problem.field, problem.rule) == ("lines[0].schedule", rule)


def test_schedule_key_is_required_even_for_non_controlled_items() -> None:
    data = sample_order_input()
    del data["lines"][2]["schedule"]
    assert problems_of(data) == {"lines[2].schedule": "missing"}


def test_controlled_and_non_controlled_items_share_one_order() -> None:
    order = sample_order()  # 1305.21(c): schedule II, IV and a non-controlled line
    assert order.schedules == frozenset({Schedule.II, Schedule.IV})
    assert [line.schedule for line in order.lines] == [Schedule.II, Schedule.IV, None]
    assert order.total_packages == 2 + 1 + 3
