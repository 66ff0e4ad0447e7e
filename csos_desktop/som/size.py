"""Unusual size: this order's units of a family, and the rolling window's, against the baseline.

The order check compares an order's units with the median of the purchaser's
past orders of that family over the look-back; it also requires the units to
clear a Tukey fence (Q3 + k·IQR) so a purchaser whose orders swing widely is
not flagged on every large one. The window check compares the units of the
last N days (this order included) with the median N-day total of the past,
which catches an order split into several normal-looking ones (with the same
kind of fence over past windows). With thin
history the baseline is raised to the policy's floor instead of trusting a
handful of orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from csos_desktop.som.baseline import past_window_quantiles, window_quantiles
from csos_desktop.som.detection import Context, Detection, detected, established, windows
from csos_desktop.som.flags import FlagCode

IP = NDArray[np.intp]
F64 = NDArray[np.float64]

# Past windows a window total is compared with: a year of 7-day windows at most.
_MAX_PAST_WINDOWS = 52


@dataclass(frozen=True, eq=False)
class OrderBaseline:
    """For each judged event: the robust baseline of its family's past orders."""

    rows: IP  # event rows judged
    history_orders: IP  # past orders in the look-back (at most max_baseline_orders)
    q1: F64
    median: F64
    q3: F64
    thin: NDArray[np.bool_]
    base: F64  # what the units are divided by: the median, or the floor while thin
    floor: F64
    fence: F64  # units must also exceed this (Q3 + k·IQR); 0 while thin


def order_baseline(ctx: Context, rows: IP) -> OrderBaseline:
    """Median and quartiles of the past orders of each row's purchaser and family."""
    ev = ctx.ledger.events
    p = ev.purchaser[rows]
    day = ev.day[rows].astype(np.int64)
    lookback = ctx.param(lambda c: c.history.lookback_days, p).astype(np.int64)
    cap = ctx.param(lambda c: c.history.max_baseline_orders, p).astype(np.intp)
    tenure = day - ev.day[ev.groups.start[rows]]
    lo = np.maximum(ev.groups.first_on_or_after(rows, day - lookback + 1), rows - cap)
    n = rows - lo
    q1, med, q3 = window_quantiles(ev.units, lo, rows, (0.25, 0.5, 0.75))
    thin = ~established(n, tenure, ctx, p)
    floor = ctx.param(lambda c: c.size.thin_order_floor_units, p)
    base = np.where(thin, np.fmax(np.nan_to_num(med), floor), med)
    fence = np.where(thin, 0.0, q3 + ctx.param(lambda c: c.size.spread_fence, p) * (q3 - q1))
    return OrderBaseline(rows, n, q1, med, q3, thin, base, floor, fence)


def _window_check(
    ctx: Context, rows: IP, b: OrderBaseline, width: NDArray[np.int64], share: F64
) -> dict[str, NDArray[Any]]:
    """Units of the last ``width`` days against the median total of past windows as long.

    The baseline is never below the median order: in a window shorter than the
    family's gap between orders most past windows are empty, and one normal order
    in it is not unusual. ``share`` scales the thin floor, stated per the longest window.
    """
    ev = ctx.ledger.events
    p = ev.purchaser[rows]
    day = ev.day[rows].astype(np.int64)
    lookback = ctx.param(lambda c: c.history.lookback_days, p).astype(np.int64)
    window_lo = ev.groups.first_on_or_after(rows, day - width + 1)
    window_units = ev.csum[rows + 1] - ev.csum[window_lo]
    (w_q1, past, w_q3), used = past_window_quantiles(
        ev.groups,
        ev.csum,
        rows,
        day,
        width,
        np.minimum(lookback // width - 1, _MAX_PAST_WINDOWS),
        ev.day[ev.groups.start[rows]],
        (0.25, 0.5, 0.75),
    )
    thin = b.thin | (used < 3)
    floor = ctx.param(lambda c: c.size.thin_window_floor_units, p) * share
    window_median = past
    past = np.fmax(past, np.nan_to_num(b.median))
    base = np.where(thin, np.fmax(np.nan_to_num(past), floor), past)
    fence = np.where(thin, 0.0, w_q3 + ctx.param(lambda c: c.size.spread_fence, p) * (w_q3 - w_q1))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = window_units / base
    warn_at = ctx.param(lambda c: c.size.window_warn_multiplier, p)
    stop_at = ctx.param(lambda c: c.size.window_intercept_multiplier, p)
    # A window of one or two orders is the order check's business: two orders of a
    # four-weekly family fall into one 30-day window now and then, which says nothing.
    warn = (ratio >= warn_at) & (window_units > fence) & (rows - window_lo >= 2)
    return {
        "warn": warn,
        "intercept": warn & (ratio >= stop_at),
        "units": window_units,
        "baseline": base,
        "window_median": window_median,
        "ratio": ratio,
        "thin": thin,
        "window_days": width,
        "windows": used,
        "floor": floor,
        "warn_at": warn_at,
        "stop_at": stop_at,
    }


def detect_size(ctx: Context) -> list[Detection]:
    ev = ctx.ledger.events
    rows = np.flatnonzero(ev.query)
    p = ev.purchaser[rows]
    units = ev.units[rows]
    lookback = ctx.param(lambda c: c.history.lookback_days, p).astype(np.int64)
    b = order_baseline(ctx, rows)
    thin, base, fence, floor, n = b.thin, b.base, b.fence, b.floor, b.history_orders
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = units / base
    warn_at = ctx.param(lambda c: c.size.order_warn_multiplier, p)
    stop_at = ctx.param(lambda c: c.size.order_intercept_multiplier, p)
    warn = (ratio >= warn_at) & (units > fence)
    intercept = warn & (ratio >= stop_at)
    order_check = detected(
        FlagCode.ORDER_UNITS,
        ev.order_row[rows],
        ev.drug_code[rows],
        warn,
        intercept,
        {
            "units": units,
            "baseline": base,
            "ratio": ratio,
            "limit": np.where(intercept, stop_at, warn_at),
            "thin": thin,
            "history_orders": n,
            "lookback_days": lookback,
            "floor": floor,
        },
    )

    widths = windows(ctx, lambda c: c.size.windows_days, p)
    best: dict[str, NDArray[Any]] = {}
    for width in widths:
        found = _window_check(ctx, rows, b, width, width / widths[-1])
        if not best:
            best = found
        else:
            w, bw = found["warn"], best["warn"]
            better = (w & ~bw) | ((w == bw) & (found["ratio"] > best["ratio"]))
            best = {k: np.where(better, v, best[k]) for k, v in found.items()}
    w_warn = best.pop("warn").astype(np.bool_)
    w_intercept = best.pop("intercept").astype(np.bool_)
    window_check = detected(
        FlagCode.WINDOW_UNITS,
        ev.order_row[rows],
        ev.drug_code[rows],
        w_warn,
        w_intercept,
        {
            **best,
            "order_units": units,
            "limit": np.where(w_intercept, best["stop_at"], best["warn_at"]),
            "lookback_days": lookback,
        },
    )
    return [order_check, window_check]
