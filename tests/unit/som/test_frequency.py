"""Unusual frequency (21 CFR 1301.74(b)): many more orders of a family than the usual rate."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from csos_desktop.som.flags import Decision, FlagCode
from csos_desktop.som.frequency import poisson_upper_tail
from csos_desktop.som.history import HistoryLine

from .builders import OXY, PHARMACY, START, after, codes, history, judge, order, weekly


def _exact_tail(k: int, lam: float) -> float:
    return 1.0 - sum(math.exp(-lam) * lam**i / math.factorial(i) for i in range(k))


@pytest.mark.parametrize(("k", "lam"), [(0, 2.0), (1, 0.5), (5, 4.3), (13, 4.3), (9, 1.0)])
def test_poisson_tail_matches_the_textbook_sum(k: int, lam: float) -> None:
    got = poisson_upper_tail(np.asarray([k]), np.asarray([lam]))[0]
    assert got == pytest.approx(_exact_tail(k, lam), rel=1e-9, abs=1e-15)


def test_tiny_tails_keep_their_precision() -> None:
    got = poisson_upper_tail(np.asarray([60]), np.asarray([4.0]))[0]
    assert 0 < got < 1e-30


def _burst(days: int) -> list[HistoryLine]:
    return [
        HistoryLine(f"b{i}", after(52) + timedelta(days=i), PHARMACY, OXY, 1000)
        for i in range(days)
    ]


def test_daily_orders_from_a_weekly_purchaser_are_a_burst() -> None:
    a = judge(order(after(52) + timedelta(days=12), {OXY: 1000}), history(weekly(52), _burst(12)))
    assert a.decision is not Decision.OK
    flag = next(f for f in a.flags if f.code is FlagCode.BURST)
    # The window with the smallest chance is reported: 12 daily orders + this one in 14 days.
    assert flag.figures["window_days"] == 14
    assert flag.figures["orders"] == 13
    assert flag.figures["expected"] == pytest.approx(14 / 7, rel=0.05)
    assert flag.explanation.startswith("Oxycodone (9143): 13 orders in the last 14 days")
    assert "expected from the 12-month rate" in flag.explanation


def test_the_usual_weekly_order_is_not_a_burst() -> None:
    a = judge(order(after(52), {OXY: 1000}), history(weekly(52)))
    assert FlagCode.BURST not in codes(a)


def test_a_monthly_purchaser_ordering_twice_in_a_month_is_not_a_burst() -> None:
    monthly = weekly(12, {OXY: 1000}, every_days=30)
    a = judge(order(START + timedelta(days=30 * 11 + 10), {OXY: 1000}), history(monthly))
    assert FlagCode.BURST not in codes(a)


def test_a_new_customer_ordering_a_few_times_a_week_is_not_a_burst() -> None:
    new = [
        HistoryLine(f"n{i}", START + timedelta(days=2 * i), PHARMACY, OXY, 500) for i in range(4)
    ]
    a = judge(order(START + timedelta(days=8), {OXY: 500}), history(new))
    assert a.flags == ()
