"""Properties that must hold for any history: scale invariance, stability under normal history."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from csos_desktop.som.flags import Assessment, FlagKind
from csos_desktop.som.history import History, HistoryLine
from csos_desktop.som.review import OrderUnderReview, ReviewLine

from .builders import ALPRAZOLAM, OXY, PHARMACY, START, VARIANT, judge, policy, policy_document

FAST = settings(max_examples=60, deadline=None)
units = st.integers(min_value=1, max_value=20_000)


def _history(per_order: list[tuple[int, int, int]]) -> History:
    """Orders ``gap`` days apart with oxycodone and alprazolam units."""
    day = START
    lines = []
    for i, (gap, oxy, alp) in enumerate(per_order):
        day += timedelta(days=gap)
        lines.append(HistoryLine(f"h{i}", day, PHARMACY, OXY, oxy, VARIANT[OXY]))
        lines.append(HistoryLine(f"h{i}", day, PHARMACY, ALPRAZOLAM, alp, VARIANT[ALPRAZOLAM]))
    return History.from_lines(lines)


def _order(h: History, gap: int, oxy: int, alp: int) -> OrderUnderReview:
    from csos_desktop.som.history import day_date

    on = day_date(int(h.day.max())) + timedelta(days=gap) if len(h) else START
    return OrderUnderReview(
        "o",
        PHARMACY,
        on,
        (
            ReviewLine(OXY, "0", "10 mg", "tablet", oxy),
            ReviewLine(ALPRAZOLAM, "0", "0.5 mg", "tablet", alp),
        ),
    )


def _scaled(o: OrderUnderReview, k: int) -> OrderUnderReview:
    lines = tuple(
        ReviewLine(x.drug_code, x.ndc, x.strength, x.dosage_form, x.units * k) for x in o.lines
    )
    return OrderUnderReview(o.order_id, o.purchaser_dea, o.as_of, lines)


def _verdict(a: Assessment) -> tuple[object, ...]:
    return a.decision, tuple((f.code, f.severity, f.drug_code) for f in a.flags)


def _assert_scale_invariant(
    rows: list[tuple[int, int, int]], gap: int, oxy: int, alp: int, k: int
) -> None:
    """Units of history and order, and the unit floors, times k: the same verdict."""
    h = _history(rows)
    o = _order(h, gap, oxy, alp)
    floors = policy_document()["defaults"]["size"]
    scaled_policy = policy(
        size={
            "thin_order_floor_units": floors["thin_order_floor_units"] * k,
            "thin_window_floor_units": floors["thin_window_floor_units"] * k,
        }
    )
    before = judge(o, h)
    after = judge(_scaled(o, k), h.with_units(h.units * k), scaled_policy)
    assert _verdict(before) == _verdict(after)


orders = st.lists(st.tuples(st.integers(1, 10), units, units), min_size=1, max_size=70)


@FAST
@given(orders, st.integers(0, 10), units, units, st.integers(2, 1000))
def test_scaling_history_order_and_unit_floors_together_leaves_the_decision_unchanged(
    rows: list[tuple[int, int, int]], gap: int, oxy: int, alp: int, k: int
) -> None:
    _assert_scale_invariant(rows, gap, oxy, alp, k)


@FAST
@given(
    st.lists(st.tuples(st.integers(3, 8), units, units), min_size=30, max_size=70),
    st.integers(0, 8),
    units,
    units,
    st.integers(2, 1000),
)
def test_scaling_an_established_history_and_the_order_leaves_the_decision_unchanged(
    rows: list[tuple[int, int, int]], gap: int, oxy: int, alp: int, k: int
) -> None:
    # 30+ orders over 90+ days: established, so no unit floor is involved at all.
    h = _history(rows)
    o = _order(h, gap, oxy, alp)
    assert _verdict(judge(o, h)) == _verdict(judge(_scaled(o, k), h.with_units(h.units * k)))


band = st.integers(800, 1250)  # within ±25% of 1,000 units: normal for this purchaser


@FAST
@given(
    st.lists(st.tuples(st.just(7), band, band), min_size=12, max_size=40),
    st.lists(st.tuples(st.just(7), band, band), min_size=1, max_size=40),
    band,
    band,
)
def test_adding_normal_history_never_creates_a_size_flag_on_a_normal_order(
    recent: list[tuple[int, int, int]], earlier: list[tuple[int, int, int]], oxy: int, alp: int
) -> None:
    short = _history(recent)
    longer = _history(earlier + recent)
    for h in (short, longer):
        a = judge(_order(h, 7, oxy, alp), h)
        assert FlagKind.SIZE not in a.kinds, a.explanation


@FAST
@given(
    st.lists(st.tuples(st.integers(1, 30), units, units), min_size=1, max_size=40),
    st.integers(0, 30),
    units,
    units,
    st.integers(2, 1000),
)
def test_scaling_leaves_decisions_unchanged_at_any_cadence(
    rows: list[tuple[int, int, int]], gap: int, oxy: int, alp: int, k: int
) -> None:
    # Gaps up to 30 days: weekly to four-weekly families, bursts and pauses between.
    _assert_scale_invariant(rows, gap, oxy, alp, k)
