"""Unusual size (21 CFR 1301.74(b)): an order, or a month, far above the purchaser's baseline."""

from __future__ import annotations

from datetime import timedelta

from csos_desktop.som.flags import Decision, FlagCode, Severity
from csos_desktop.som.history import HistoryLine

from .builders import ALPRAZOLAM, OXY, PHARMACY, START, after, codes, history, judge, order, weekly


def test_order_four_times_the_median_warns_with_the_numbers_behind_it() -> None:
    a = judge(order(after(52), {OXY: 4100}), history(weekly(52)))
    assert a.decision is Decision.WARN
    (flag,) = a.flags
    assert flag.code is FlagCode.ORDER_UNITS and flag.drug_code == OXY
    assert flag.figures["baseline"] == 1000 and flag.figures["ratio"] == 4.1
    assert flag.explanation == (
        "Oxycodone (9143): 4,100 units this order, 4.1× the 12-month median of 1,000;"
        " policy limit 2.75×."
    )


def test_order_within_the_multiplier_is_ok() -> None:
    a = judge(order(after(52), {OXY: 2500, ALPRAZOLAM: 600}), history(weekly(52)))
    assert a.decision is Decision.OK and a.flags == ()


def test_order_past_the_intercept_multiplier_is_intercepted() -> None:
    a = judge(order(after(52), {OXY: 7000}), history(weekly(52)))
    assert a.decision is Decision.INTERCEPT
    assert a.flags[0].severity is Severity.INTERCEPT
    assert "policy limit 6×" in a.flags[0].explanation


def test_purchaser_with_widely_swinging_orders_is_not_flagged_inside_its_spread() -> None:
    swinging = [
        HistoryLine(f"h{w}", START + timedelta(days=7 * w), PHARMACY, OXY, 300 if w % 2 else 1500)
        for w in range(52)
    ]
    a = judge(order(after(52), {OXY: 3000}), history(swinging))  # 3.3x the median of 900
    assert FlagCode.ORDER_UNITS not in codes(a)


def test_order_split_into_many_normal_ones_raises_the_window_check() -> None:
    daily = [
        HistoryLine(f"d{i}", after(52) + timedelta(days=i), PHARMACY, OXY, 2500) for i in range(8)
    ]
    a = judge(order(after(52) + timedelta(days=8), {OXY: 2500}), history(weekly(52), daily))
    assert FlagCode.WINDOW_UNITS in codes(a)
    assert FlagCode.ORDER_UNITS not in codes(a)
    window = next(f for f in a.flags if f.code is FlagCode.WINDOW_UNITS)
    # The shortest window holding the split order stands out most: a week of daily orders.
    assert "17,500 units in the last 7 days including this order" in window.explanation
    assert "the median 7-day total of 1,000 over the previous 12 months" in window.explanation


def test_new_customer_is_judged_against_the_policy_floor_not_two_orders() -> None:
    thin = history(weekly(2, {OXY: 100}))
    assert judge(order(after(2), {OXY: 900}), thin).decision is Decision.OK
    a = judge(order(after(2), {OXY: 3000}), thin)
    (flag,) = [f for f in a.flags if f.code is FlagCode.ORDER_UNITS]
    assert flag.figures["baseline"] == 1000 and flag.figures["thin"] == 1.0
    assert "policy floor of 1,000 units used while history is thin (2 orders in 12 months)" in (
        flag.explanation
    )


def test_first_order_of_a_new_customer_raises_no_flood_of_flags() -> None:
    a = judge(order(START, {OXY: 800, ALPRAZOLAM: 900}), history())
    assert a.decision is Decision.OK and a.flags == ()


def test_history_after_the_as_of_date_is_not_used() -> None:
    future_big = weekly(10, {OXY: 50_000}, start=after(60), prefix="f")
    a = judge(order(after(52), {OXY: 4100}), history(weekly(52), future_big))
    assert a.flags[0].figures["baseline"] == 1000
