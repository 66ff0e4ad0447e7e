"""Frequency against the family's own cadence, on several windows (21 CFR 1301.74(b))."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from csos_desktop.som.flags import FlagCode, FlagKind
from csos_desktop.som.history import HistoryLine
from csos_desktop.som.policy import PolicyInvalid

from .builders import OXY, PHARMACY, START, codes, history, judge, order, policy, weekly


def _every(days: int, n: int, units: int = 4000) -> list[HistoryLine]:
    return weekly(n, {OXY: units}, every_days=days)


def _extra(on: date, i: int, units: int = 4000) -> HistoryLine:
    return HistoryLine(f"x{i}", on, PHARMACY, OXY, units, "10 mg tablet")


def test_a_burst_in_a_28_day_family_is_flagged() -> None:
    past = _every(28, 14)  # a year of four-weekly orders
    first = START + timedelta(days=28 * 14)
    burst = [_extra(first, 0), _extra(first + timedelta(days=3), 1)]
    a = judge(order(first + timedelta(days=6), {OXY: 4000}), history(past, burst))
    assert FlagKind.FREQUENCY in a.kinds
    pace = next(f for f in a.flags if f.code is FlagCode.REORDER_PACE)
    assert pace.figures["orders"] == 3 and pace.figures["span_days"] == 6
    assert pace.figures["usual_gap_days"] == 28
    assert pace.figures["pace"] == pytest.approx(2 * 28 / 6)
    assert pace.explanation == (
        "Oxycodone (9143): 3 orders in 6 days including this one, 9.3× the usual pace of one"
        " order every 28 days (the fastest 3 orders in the past 12 months took 31 days);"
        " policy limit 8×."
    )
    assert FlagKind.SIZE not in a.kinds  # each order is normal-sized


def test_a_single_30_day_count_lets_that_burst_through() -> None:
    # Why the windows and the pace exist: the 30-day Poisson count alone sees 3 orders
    # against about one expected, a chance of 1 in 12 — not unusual enough.
    old = policy(frequency={"window_days": 30, "gap_warn_multiplier": None})
    past = _every(28, 14)
    first = START + timedelta(days=28 * 14)
    burst = [_extra(first, 0), _extra(first + timedelta(days=3), 1)]
    a = judge(order(first + timedelta(days=6), {OXY: 4000}), history(past, burst), old)
    assert FlagKind.FREQUENCY not in a.kinds


def test_four_orders_in_five_days_raise_the_7_day_count() -> None:
    past = _every(28, 14)
    first = START + timedelta(days=28 * 14)
    burst = [_extra(first + timedelta(days=i), i) for i in range(3)]
    a = judge(order(first + timedelta(days=4), {OXY: 4000}), history(past, burst))
    count = next(f for f in a.flags if f.code is FlagCode.BURST)
    assert count.figures["window_days"] == 7 and count.figures["orders"] == 4
    assert count.explanation.startswith("Oxycodone (9143): 4 orders in the last 7 days")


def test_a_normal_weekly_family_at_a_holiday_peak_is_not_flagged() -> None:
    # Weekly on Wednesdays through 2024; the order before Christmas is half as large
    # again, and Christmas Day's order moves to Thursday the 26th.
    start = date(2024, 1, 3)
    lines = []
    day, i = start, 0
    while day < date(2024, 12, 18):
        lines.append(HistoryLine(f"h{i}", day, PHARMACY, OXY, 1000 + 37 * (i % 5), "10 mg tablet"))
        day, i = day + timedelta(days=7), i + 1
    peak = judge(order(date(2024, 12, 18), {OXY: 1500}), history(lines))
    assert peak.flags == ()
    lines.append(HistoryLine("peak", date(2024, 12, 18), PHARMACY, OXY, 1500, "10 mg tablet"))
    moved = judge(order(date(2024, 12, 26), {OXY: 1000}), history(lines))
    assert moved.flags == ()
    back = judge(order(date(2025, 1, 1), {OXY: 1000}), history(lines))
    assert FlagKind.FREQUENCY not in back.kinds


def test_a_family_often_reordered_in_quick_succession_is_not_flagged_for_it_again() -> None:
    past = _every(28, 14)
    # Twice in the year the pharmacy topped up three times within six days.
    for n, base in enumerate((START + timedelta(days=100), START + timedelta(days=250))):
        past += [_extra(base + timedelta(days=d), 10 * n + d) for d in (0, 3, 6)]
    first = START + timedelta(days=28 * 14)
    again = [_extra(first, 90), _extra(first + timedelta(days=3), 91)]
    a = judge(order(first + timedelta(days=6), {OXY: 4000}), history(past, again))
    assert FlagCode.REORDER_PACE not in codes(a)


def test_window_days_may_be_one_length_or_a_list() -> None:
    assert policy(frequency={"window_days": 30}).classes[0].frequency.windows_days == (30,)
    p = policy(frequency={"window_days": [30, 7, 14]})
    assert p.classes[0].frequency.windows_days == (7, 14, 30)
    assert p.classes[0].frequency.window_days == 30
    for bad in ([], [7, 0], ["7"], 7.5):
        with pytest.raises(PolicyInvalid, match="window_days must be a whole number of days"):
            policy(frequency={"window_days": bad})
    with pytest.raises(PolicyInvalid, match="shorter than lookback"):
        policy(size={"window_days": [7, 400]})
