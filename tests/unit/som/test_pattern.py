"""Deviation from the normal pattern: new family, new strength/form, schedule II mix, cadence."""

from __future__ import annotations

from datetime import timedelta

from csos_desktop.som.flags import Decision, FlagCode, Severity
from csos_desktop.som.history import HistoryLine

from .builders import (
    ALPRAZOLAM,
    FENTANYL,
    OXY,
    PHARMACY,
    VARIANT,
    after,
    codes,
    history,
    judge,
    order,
    weekly,
)


def test_a_family_never_ordered_before_is_flagged_for_an_established_purchaser() -> None:
    a = judge(order(after(52), {OXY: 1000, FENTANYL: 50}), history(weekly(52)))
    (flag,) = a.flags
    assert flag.code is FlagCode.NEW_FAMILY and flag.drug_code == FENTANYL
    assert flag.explanation == (
        "Fentanyl (9801): first order of this drug family by this purchaser (50 units) after"
        " 52 orders of other families; policy: a new family is reviewed."
    )


def test_a_new_customer_is_not_flagged_for_every_family_being_new() -> None:
    a = judge(order(after(3), {OXY: 900, FENTANYL: 50}), history(weekly(3)))
    assert a.flags == ()


def test_a_strength_or_form_never_ordered_is_flagged() -> None:
    er = {**VARIANT, OXY: "80 mg extended-release tablet"}
    a = judge(order(after(52), {OXY: 1000}, variant=er), history(weekly(52)))
    (flag,) = a.flags
    assert flag.code is FlagCode.STRENGTH_FORM
    assert flag.explanation == (
        "Oxycodone (9143): 80 mg extended-release tablet has not been ordered before;"
        " the previous 52 orders of this family were 10 mg tablet."
    )


def test_the_usual_strength_and_form_are_not_flagged() -> None:
    assert judge(order(after(52), {OXY: 1000}), history(weekly(52))).flags == ()


def test_a_shift_towards_schedule_ii_is_flagged_with_both_shares() -> None:
    usual = weekly(47, {OXY: 1000, ALPRAZOLAM: 3000})
    recent = weekly(4, {OXY: 1000, ALPRAZOLAM: 300}, start=after(47), prefix="r")
    a = judge(order(after(51), {OXY: 1000, ALPRAZOLAM: 300}), history(usual, recent))
    (flag,) = a.flags
    assert flag.code is FlagCode.SCHEDULE_II_SHARE and flag.severity is Severity.INTERCEPT
    assert flag.figures["base_share"] == 0.25
    assert flag.explanation.startswith(
        "Schedule II share of dosage units: 77% in the last 30 days including this order"
        " against 25% over the previous 11 months, up 52 points (odds 10.0× as high)"
    )


def test_an_order_without_schedule_ii_is_not_blamed_for_the_mix() -> None:
    usual = weekly(47, {OXY: 1000, ALPRAZOLAM: 3000})
    recent = weekly(4, {OXY: 1000, ALPRAZOLAM: 300}, start=after(47), prefix="r")
    a = judge(order(after(51), {ALPRAZOLAM: 300}), history(usual, recent))
    assert FlagCode.SCHEDULE_II_SHARE not in codes(a)


def test_an_order_on_a_saturday_from_a_monday_purchaser_is_unusual_cadence() -> None:
    saturday = after(52) - timedelta(days=2)
    a = judge(order(saturday, {OXY: 1000}), history(weekly(52)))
    (flag,) = a.flags
    assert flag.code is FlagCode.CADENCE and a.decision is Decision.WARN
    assert flag.explanation == (
        "Order placed on a Saturday: 0 of 52 orders in the past 12 months were placed on a"
        " Saturday (0%); policy: under 2% is unusual."
    )


def test_a_holiday_moving_the_monday_order_to_tuesday_is_not_unusual() -> None:
    a = judge(order(after(52) + timedelta(days=1), {OXY: 1000}), history(weekly(52)))
    assert FlagCode.CADENCE not in codes(a)


def test_pattern_checks_can_be_switched_off_by_policy() -> None:
    from .builders import policy

    off = policy(pattern={"new_family": "off", "cadence": "off"})
    h = history(weekly(52))
    assert judge(order(after(52), {OXY: 1000, FENTANYL: 50}), h, off).flags == ()
    extra = [HistoryLine("x", after(52) - timedelta(days=2), PHARMACY, OXY, 1000)]
    assert judge(order(after(52) - timedelta(days=2), {OXY: 1000}), history(extra), off).flags == ()
