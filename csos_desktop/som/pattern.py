"""Deviation from the normal pattern: new families, new strengths/forms, schedule II mix, cadence.

Pattern checks apply only to established purchasers (the policy's minimum
orders and days): for a new customer everything is new, and flagging it all
would bury the one warning that matters.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from csos_desktop.som.detection import Context, Detection, detected, established
from csos_desktop.som.flags import FlagCode

IP = NDArray[np.intp]


def _warn_intercept(
    hit: NDArray[np.bool_], setting: NDArray[np.float64]
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Rows that hit, split by the policy's severity setting (rank 1 warn, 2 intercept)."""
    return hit & (setting >= 1), hit & (setting >= 2)


def _order_established(ctx: Context, order_row: IP) -> NDArray[np.bool_]:
    orders = ctx.ledger.orders
    start = orders.groups.start[order_row]
    return established(
        order_row - start,
        orders.day[order_row] - orders.day[start],
        ctx,
        orders.purchaser[order_row],
    )


def detect_new_family(ctx: Context) -> Detection:
    ev = ctx.ledger.events
    rows = np.flatnonzero(ev.query)
    p = ev.purchaser[rows]
    order_row = ev.order_row[rows]
    setting = ctx.param(lambda c: c.pattern.new_family.rank, p)
    hit = (rows == ev.groups.start[rows]) & _order_established(ctx, order_row)
    warn, intercept = _warn_intercept(hit, setting)
    orders = ctx.ledger.orders
    return detected(
        FlagCode.NEW_FAMILY,
        order_row,
        ev.drug_code[rows],
        warn,
        intercept,
        {"units": ev.units[rows], "purchaser_orders": order_row - orders.groups.start[order_row]},
    )


def detect_strength_form(ctx: Context) -> Detection:
    led = ctx.ledger
    ev = led.events
    lines = np.flatnonzero(led.line_new_variant & ev.query[led.line_event])
    # One flag per order, family and new strength/form, however many lines carry it.
    key = led.line_event[lines].astype(np.int64) * (len(led.history.variants) + 1)
    _, keep = np.unique(key + led.history.variant[lines], return_index=True)
    lines = lines[np.sort(keep)]
    rows = led.line_event[lines]
    p = ev.purchaser[rows]
    start = ev.groups.start[rows]
    family_orders = rows - start
    hit = established(family_orders, ev.day[rows] - ev.day[start], ctx, p)
    warn, intercept = _warn_intercept(
        hit, ctx.param(lambda c: c.pattern.strength_form_change.rank, p)
    )
    found = detected(
        FlagCode.STRENGTH_FORM,
        ev.order_row[rows],
        ev.drug_code[rows],
        warn,
        intercept,
        {"family_orders": family_orders},
    )
    flagged = (warn | intercept).nonzero()[0]
    new = [led.history.variants[v] for v in led.history.variant[lines[flagged]]]
    seen = [_variants_before(ctx, int(r)) for r in rows[flagged]]
    return Detection(
        found.code,
        found.order_row,
        found.drug_code,
        found.severity,
        found.figures,
        {"variant": new, "seen": seen},
    )


def _variants_before(ctx: Context, event_row: int) -> str:
    """Strengths/forms the purchaser ordered of this family before this event."""
    led = ctx.ledger
    start = int(led.events.groups.start[event_row])
    mask = (led.line_event >= start) & (led.line_event < event_row)
    labels = sorted({led.history.variants[v] for v in np.unique(led.history.variant[mask])})
    return ", ".join(label for label in labels if label)


def detect_schedule_ii_share(ctx: Context) -> Detection:
    orders = ctx.ledger.orders
    rows = np.flatnonzero(orders.query)
    p = orders.purchaser[rows]
    day = orders.day[rows].astype(np.int64)
    width = ctx.param(lambda c: c.pattern.schedule_ii_window_days, p).astype(np.int64)
    lookback = ctx.param(lambda c: c.history.lookback_days, p).astype(np.int64)
    first_day = orders.day[orders.groups.start[rows]].astype(np.int64)
    base_from = np.maximum(day - lookback + 1, first_day)
    recent = orders.groups.first_on_or_after(rows, day - width + 1)
    base = orders.groups.first_on_or_after(rows, base_from)
    units, c2 = orders.csum_units, orders.csum_schedule_ii
    recent_total, recent_c2 = units[rows + 1] - units[recent], c2[rows + 1] - c2[recent]
    base_total, base_c2 = units[recent] - units[base], c2[recent] - c2[base]
    with np.errstate(divide="ignore", invalid="ignore"):
        recent_share = np.where(recent_total > 0, recent_c2 / recent_total, 0.0)
        base_share = np.where(base_total > 0, base_c2 / base_total, 0.0)
    shift = 100.0 * (recent_share - base_share)
    odds_ratio = _odds(recent_share) / _odds(base_share)
    own_c2 = c2[rows + 1] - c2[rows]
    usable = (
        _order_established(ctx, rows)
        & (base_total > 0)
        & (own_c2 > 0)
        & (day - width - base_from + 1 >= width)
        & (shift >= ctx.param(lambda c: c.pattern.schedule_ii_min_points, p))
    )
    warn_at = ctx.param(lambda c: c.pattern.schedule_ii_warn_odds_ratio, p)
    stop_at = ctx.param(lambda c: c.pattern.schedule_ii_intercept_odds_ratio, p)
    warn = usable & (odds_ratio >= warn_at)
    intercept = warn & (odds_ratio >= stop_at)
    return detected(
        FlagCode.SCHEDULE_II_SHARE,
        rows,
        None,
        warn,
        intercept,
        {
            "recent_share": recent_share,
            "base_share": base_share,
            "shift": shift,
            "odds_ratio": odds_ratio,
            "limit": np.where(intercept, stop_at, warn_at),
            "window_days": width,
            "lookback_days": lookback,
        },
    )


def _odds(share: NDArray[np.float64]) -> NDArray[np.float64]:
    """Odds of a dosage unit being schedule II; shares are kept off 0 and 1 so odds stay finite."""
    clipped = np.clip(share, 0.005, 0.995)
    return clipped / (1.0 - clipped)


def detect_cadence(ctx: Context) -> Detection:
    orders = ctx.ledger.orders
    rows = np.flatnonzero(orders.query)
    p = orders.purchaser[rows]
    day = orders.day[rows].astype(np.int64)
    weekday_all = (orders.day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    counts = np.zeros((len(orders.day) + 1, 7), dtype=np.int32)
    counts[np.arange(1, len(orders.day) + 1), weekday_all] = 1
    np.cumsum(counts, axis=0, out=counts)
    lookback = ctx.param(lambda c: c.history.lookback_days, p).astype(np.int64)
    lo = orders.groups.first_on_or_after(rows, day - lookback + 1)
    weekday = weekday_all[rows]
    # A business-day order the day after a usual weekday (Monday after Friday) is how a
    # holiday moves a weekly order: it counts as usual.
    before = np.where(weekday < 5, np.where(weekday == 0, 4, weekday - 1), weekday)
    same = counts[rows, weekday] - counts[lo, weekday]
    usual = same + np.where(before != weekday, counts[rows, before] - counts[lo, before], 0)
    total = rows - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total > 0, usual / total, 1.0)
    min_orders = ctx.param(lambda c: c.history.min_orders, p)
    hit = (
        _order_established(ctx, rows)
        & (total >= min_orders)
        & (share < ctx.param(lambda c: c.pattern.cadence_min_weekday_share, p))
    )
    warn, intercept = _warn_intercept(hit, ctx.param(lambda c: c.pattern.cadence.rank, p))
    return detected(
        FlagCode.CADENCE,
        rows,
        None,
        warn,
        intercept,
        {
            "weekday": weekday,
            "same_weekday": same,
            "orders": total,
            "share": share,
            "limit": ctx.param(lambda c: c.pattern.cadence_min_weekday_share, p),
            "lookback_days": lookback,
        },
    )


def detect_pattern(ctx: Context) -> list[Detection]:
    return [
        detect_new_family(ctx),
        detect_strength_form(ctx),
        detect_schedule_ii_share(ctx),
        detect_cadence(ctx),
    ]
