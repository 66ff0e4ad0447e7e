"""Pure rules: 1305.29 due dates, first shipments, CLI-free pieces of the distributor."""

from __future__ import annotations

from datetime import date

import pytest

from csos_desktop.sandbox.distributor.fulfilment import (
    FulfilmentMode,
    balance_due_by,
    first_containers,
)
from csos_desktop.sandbox.distributor.problems import ApiProblem
from csos_desktop.sandbox.distributor.reports import due_by, federal_holidays, is_business_day
from csos_desktop.sandbox.distributor.som_hook import NoOpSomPolicy, default_policy


@pytest.mark.parametrize(
    ("shipped", "due"),
    [
        (date(2025, 3, 3), date(2025, 3, 5)),  # Monday → Wednesday
        (date(2025, 3, 6), date(2025, 3, 10)),  # Thursday → Monday (weekend skipped)
        (date(2025, 3, 8), date(2025, 3, 11)),  # Saturday → Tuesday
        (date(2025, 7, 3), date(2025, 7, 8)),  # Independence Day skipped
        (date(2025, 11, 26), date(2025, 12, 1)),  # Thanksgiving skipped
    ],
)
def test_filled_order_report_is_due_within_two_business_days(shipped: date, due: date) -> None:
    assert due_by(shipped) == due


def test_federal_holidays_are_observed_on_the_nearest_weekday() -> None:
    days = federal_holidays(2026)
    assert date(2026, 7, 3) in days  # 4 July 2026 is a Saturday
    assert date(2026, 5, 25) in days and date(2026, 11, 26) in days
    assert not is_business_day(date(2026, 1, 19))  # Martin Luther King Jr. Day
    assert len(days) == 11


@pytest.mark.parametrize(
    ("mode", "ordered", "first"),
    [
        (FulfilmentMode.SHIP_ALL, 3, 3),
        (FulfilmentMode.PARTIAL, 3, 1),
        (FulfilmentMode.PARTIAL, 1, 0),
        (FulfilmentMode.BACKORDER, 5, 0),
    ],
)
def test_first_shipment_per_mode(mode: FulfilmentMode, ordered: int, first: int) -> None:
    assert first_containers(mode, ordered) == first


def test_balance_may_ship_until_60_days_after_signing() -> None:
    from datetime import UTC, datetime

    signed = datetime(2026, 1, 1, 23, 0, tzinfo=UTC)
    assert balance_due_by(signed, datetime(2026, 1, 2, tzinfo=UTC)) == date(2026, 3, 2)


def test_shipping_window_runs_from_receipt_when_the_signing_time_is_later() -> None:
    """A signing time ahead of the distributor's clock cannot stretch the 60 days."""
    from datetime import UTC, datetime

    received = datetime(2026, 1, 1, 23, 58, tzinfo=UTC)
    signed = datetime(2026, 1, 2, 0, 2, tzinfo=UTC)  # within the 5-minute skew allowed
    assert balance_due_by(signed, received) == date(2026, 3, 2)
    assert balance_due_by(None, received) == date(2026, 3, 2)


def test_problem_document_follows_rfc_9457() -> None:
    body = ApiProblem(409, "idempotency-conflict", "used", extra=1).to_json("/v1/orders")
    assert body == {
        "type": "urn:csos-desktop:problem:idempotency-conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "used",
        "code": "idempotency-conflict",
        "instance": "/v1/orders",
        "extra": 1,
    }


def test_without_a_published_policy_the_hook_is_the_named_no_op() -> None:
    policy = default_policy(None, None)
    assert isinstance(policy, NoOpSomPolicy) and policy.name == "no-op"
