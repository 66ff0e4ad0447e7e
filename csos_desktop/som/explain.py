"""One sentence per flag, with the numbers behind it, for a compliance officer.

e.g. "Oxycodone (9143): 4,800 units this order, 4.1× the 12-month median of 1,170;
policy limit 3×."
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from csos_desktop.domain.catalogue import DrugFamily
from csos_desktop.domain.dea_codes import DEA_CODES
from csos_desktop.som.flags import FlagCode

Figures = Mapping[str, float | str]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def family_label(drug_code: int | None, families: Mapping[int, DrugFamily]) -> str:
    """``Oxycodone (9143)``: from the catalogue, else the DEA code table, else the bare code."""
    if drug_code is None:
        return "Order"
    family = families.get(drug_code)
    if family:
        return family.label
    listed = DEA_CODES.get(drug_code)
    return f"{listed.name} ({drug_code})" if listed else f"Drug code {drug_code}"


def explain(code: FlagCode, figures: Figures, family: str) -> str:
    """The sentence for one flag; ``family`` is its family label (ignored for order-wide flags)."""
    return _TEMPLATES[code](figures, family)


def units(x: float) -> str:
    """``4,800``; one decimal for a small non-whole median such as 2.5 patches."""
    if math.isinf(x) or math.isnan(x):
        return "none"
    if x < 100 and x != round(x):
        return f"{x:,.1f}"
    return f"{x:,.0f}"


def times(x: float) -> str:
    return "an unbounded multiple" if math.isinf(x) else f"{x:.1f}×"


def limit(x: float) -> str:
    return f"{x:g}×"


def months(days: float) -> str:
    """``12 months`` for 365 days, ``11 months`` for 335, ``45 days`` below two months."""
    d = int(days)
    if d >= 60:
        return f"{round(d / 30.44)} months"
    return f"{d} days"


def period(days: float) -> str:
    """``12-month`` / ``45-day``: the adjective form of :func:`months`."""
    return months(days).replace(" months", "-month").replace(" days", "-day")


def tail_in_words(p: float) -> str:
    """``1 in 2,400`` for a small probability (two significant figures)."""
    if p <= 1e-9:
        return "less than 1 in a billion"
    n = 1.0 / p
    digits = max(0, math.floor(math.log10(n)) - 1)
    return f"1 in {round(n, -digits):,.0f}"


def _f(figures: Figures, name: str) -> float:
    return float(figures[name])


def _order_units(g: Figures, fam: str) -> str:
    head = f"{fam}: {units(_f(g, 'units'))} units this order, {times(_f(g, 'ratio'))} the"
    span = months(_f(g, "lookback_days"))
    if _f(g, "thin") and _f(g, "baseline") == _f(g, "floor"):
        base = (
            f" policy floor of {units(_f(g, 'floor'))} units used while history is thin"
            f" ({int(_f(g, 'history_orders'))} orders in {span})"
        )
    elif _f(g, "thin"):
        n = int(_f(g, "history_orders"))
        base = f" median of only {n} orders in {span}, {units(_f(g, 'baseline'))}"
    else:
        base = f" {period(_f(g, 'lookback_days'))} median of {units(_f(g, 'baseline'))}"
    return f"{head}{base}; policy limit {limit(_f(g, 'limit'))}."


def _window_units(g: Figures, fam: str) -> str:
    w = int(_f(g, "window_days"))
    head = (
        f"{fam}: {units(_f(g, 'units'))} units in the last {w} days including this order,"
        f" {times(_f(g, 'ratio'))} the"
    )
    if _f(g, "thin") and _f(g, "baseline") == _f(g, "floor"):
        floor = units(_f(g, "floor"))
        base = f" policy floor of {floor} units per {w} days used while history is thin"
    elif _f(g, "baseline") > _f(g, "window_median"):
        # Most past windows this short held no order: the usual single order is the yardstick.
        base = f" median single order of {units(_f(g, 'baseline'))}"
    else:
        past = months(_f(g, "windows") * w)
        base = f" median {w}-day total of {units(_f(g, 'baseline'))} over the previous {past}"
    return f"{head}{base}; policy limit {limit(_f(g, 'limit'))}."


def _burst(g: Figures, fam: str) -> str:
    w = int(_f(g, "window_days"))
    if _f(g, "thin"):
        source = "the policy expects while history is thin"
    else:
        source = f"expected from the {period(_f(g, 'lookback_days'))} rate"
    return (
        f"{fam}: {int(_f(g, 'orders'))} orders in the last {w} days including this one,"
        f" {times(_f(g, 'ratio'))} the {_f(g, 'expected'):.1f} {source}"
        f" (chance under normal ordering {tail_in_words(_f(g, 'tail'))});"
        f" policy limit {limit(_f(g, 'limit'))}."
    )


def _within(days: int) -> str:
    """A span of days in words: orders placed the same day are not 'in 0 days'."""
    if days <= 0:
        return "on the same day"
    return f"in {days} {'day' if days == 1 else 'days'}"


def _reorder_pace(g: Figures, fam: str) -> str:
    k, span = int(_f(g, "orders")), int(_f(g, "span_days"))
    fastest = int(_f(g, "fastest_days"))
    past = (
        f"the fastest {k} orders in the past {months(_f(g, 'lookback_days'))} took {fastest} days"
        if fastest >= 0
        else f"it was never ordered {k} times in the past {months(_f(g, 'lookback_days'))}"
    )
    return (
        f"{fam}: {k} orders {_within(span)} including this one,"
        f" {times(_f(g, 'pace'))} the usual pace of one order every"
        f" {units(_f(g, 'usual_gap_days'))} days ({past}); policy limit {limit(_f(g, 'limit'))}."
    )


def _new_family(g: Figures, fam: str) -> str:
    return (
        f"{fam}: first order of this drug family by this purchaser"
        f" ({units(_f(g, 'units'))} units) after {int(_f(g, 'purchaser_orders'))} orders"
        " of other families; policy: a new family is reviewed."
    )


def _strength_form(g: Figures, fam: str) -> str:
    return (
        f"{fam}: {g['variant'] or 'this strength/form'} has not been ordered before;"
        f" the previous {int(_f(g, 'family_orders'))} orders of this family were"
        f" {g['seen'] or 'of other strengths or forms'}."
    )


def _schedule_ii_share(g: Figures, fam: str) -> str:
    w = int(_f(g, "window_days"))
    previous = months(_f(g, "lookback_days") - w)
    return (
        f"Schedule II share of dosage units: {100 * _f(g, 'recent_share'):.0f}% in the last"
        f" {w} days including this order against {100 * _f(g, 'base_share'):.0f}% over the"
        f" previous {previous}, up {_f(g, 'shift'):.0f} points"
        f" (odds {times(_f(g, 'odds_ratio'))} as high); policy limit {limit(_f(g, 'limit'))}."
    )


def _cadence(g: Figures, fam: str) -> str:
    day = WEEKDAYS[int(_f(g, "weekday"))]
    return (
        f"Order placed on a {day}: {int(_f(g, 'same_weekday'))} of {int(_f(g, 'orders'))}"
        f" orders in the past {months(_f(g, 'lookback_days'))} were placed on a {day}"
        f" ({100 * _f(g, 'share'):.0f}%); policy: under {100 * _f(g, 'limit'):g}% is unusual."
    )


_TEMPLATES: dict[FlagCode, Callable[[Figures, str], str]] = {
    FlagCode.ORDER_UNITS: _order_units,
    FlagCode.WINDOW_UNITS: _window_units,
    FlagCode.BURST: _burst,
    FlagCode.REORDER_PACE: _reorder_pace,
    FlagCode.NEW_FAMILY: _new_family,
    FlagCode.STRENGTH_FORM: _strength_form,
    FlagCode.SCHEDULE_II_SHARE: _schedule_ii_share,
    FlagCode.CADENCE: _cadence,
}
