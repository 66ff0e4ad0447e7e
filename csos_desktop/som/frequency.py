"""Unusual frequency: the count of a family's orders in several windows, and their pace.

Two checks, both against the purchaser's own history of the family:

- ``burst``: the orders in each recent window (e.g. 7, 14 and 30 days) against the
  family's rate over the look-back before that window, scaled to the window (never
  below the policy's minimum; the policy's thin-history value while history is
  thin; both are stated per the longest window and scaled down for shorter ones).
  A flag needs a large multiple of the expected count *and* a small Poisson tail
  probability, so a purchaser who orders once a month is not flagged for ordering
  twice. The window with the smallest tail is the one reported.
- ``reorder-pace``: the last k orders (k = 3 .. ``gap_max_orders``, this one
  included) against the family's usual gap between orders (the median gap over
  the look-back): k orders in ``span`` days is ``(k-1)·gap/span`` times the usual
  pace. A flag needs that multiple *and* a span shorter than any k orders took in
  the look-back, so a family that is sometimes ordered in quick succession is
  not flagged for doing it again. This catches a short burst in a family ordered
  every few weeks, which a 30-day count lets through.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from csos_desktop.som.baseline import window_quantiles
from csos_desktop.som.detection import Context, Detection, detected, established, windows
from csos_desktop.som.flags import FlagCode

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
IP = NDArray[np.intp]

# Terms of the upper tail summed beyond k; they shrink geometrically once k > λ.
_TAIL_TERMS = 400
# Span of k orders that were never observed: larger than any day difference.
_NEVER = np.int64(1) << 40


def poisson_upper_tail(k: NDArray[np.integer], lam: F64) -> F64:
    """P(X >= k) for X ~ Poisson(lam), summed directly so tiny tails keep their precision."""
    k = np.asarray(k, dtype=np.int64)
    lam = np.asarray(lam, dtype=np.float64)
    out = np.ones(k.shape)
    positive = k > 0
    if not positive.any():
        return out
    kk, ll = k[positive], lam[positive]
    top = int(kk.max()) + _TAIL_TERMS
    log_factorial = np.concatenate([[0.0], np.cumsum(np.log(np.arange(1, top + 1)))])
    i = kk[:, None] + np.arange(_TAIL_TERMS)[None, :]
    with np.errstate(divide="ignore"):
        log_terms = -ll[:, None] + i * np.log(ll)[:, None] - log_factorial[i]
    out[positive] = np.minimum(np.exp(log_terms).sum(axis=1), 1.0)
    return out


def detect_burst(ctx: Context) -> Detection:
    ev = ctx.ledger.events
    rows = np.flatnonzero(ev.query)
    p = ev.purchaser[rows]
    day = ev.day[rows].astype(np.int64)
    longest = ctx.param(lambda c: c.frequency.window_days, p).astype(np.int64)
    lookback = ctx.param(lambda c: c.history.lookback_days, p).astype(np.int64)
    first = ev.groups.start[rows]
    first_day = ev.day[first].astype(np.int64)
    base_from = np.maximum(day - lookback + 1, first_day)
    thin = ~established(rows - first, day - first_day, ctx, p) | (
        day - longest - base_from + 1 < longest
    )
    warn_at = ctx.param(lambda c: c.frequency.warn_multiplier, p)
    floor = ctx.param(lambda c: c.frequency.min_expected_orders, p)
    thin_expected = ctx.param(lambda c: c.frequency.thin_expected_orders, p)
    base_start = ev.groups.first_on_or_after(rows, base_from)

    best: dict[str, NDArray[Any]] = {}
    for width in windows(ctx, lambda c: c.frequency.windows_days, p):
        window_start = ev.groups.first_on_or_after(rows, day - width + 1)
        count = rows - window_start + 1  # this order included
        base_days = day - width - base_from + 1
        base_count = window_start - base_start
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(base_days > 0, base_count / base_days, 0.0)
        share = width / longest  # floors are stated per the longest window
        expected = np.where(thin, thin_expected * share, np.fmax(rate * width, floor * share))
        with np.errstate(divide="ignore"):
            ratio = count / expected
        tail = np.ones(len(rows))
        candidate = ratio >= warn_at
        tail[candidate] = poisson_upper_tail(count[candidate], expected[candidate])
        found = {
            "orders": count,
            "expected": expected,
            "ratio": ratio,
            "tail": tail,
            "window_days": width,
        }
        if not best:
            best = found
        else:
            better = tail < best["tail"]
            best = {k: np.where(better, v, best[k]) for k, v in found.items()}

    ratio, tail = best["ratio"], best["tail"]
    stop_at = ctx.param(lambda c: c.frequency.intercept_multiplier, p)
    warn = (ratio >= warn_at) & (tail <= ctx.param(lambda c: c.frequency.warn_tail_probability, p))
    intercept = (
        warn
        & (ratio >= stop_at)
        & (tail <= ctx.param(lambda c: c.frequency.intercept_tail_probability, p))
    )
    return detected(
        FlagCode.BURST,
        ev.order_row[rows],
        ev.drug_code[rows],
        warn,
        intercept,
        {
            **best,
            "limit": np.where(intercept, stop_at, warn_at),
            "thin": thin,
            "lookback_days": lookback,
        },
    )


def _spans(day: I64, start: IP, k: int) -> I64:
    """Per event: days from the (k-1)-th earlier order of its family to it (_NEVER if none)."""
    idx = np.arange(len(day))
    prev = idx - (k - 1)
    ok = prev >= start
    return np.where(ok, day - day[np.maximum(prev, 0)], _NEVER)


def detect_pace(ctx: Context) -> Detection:
    ev = ctx.ledger.events
    rows = np.flatnonzero(ev.query)
    p = ev.purchaser[rows]
    day_all = ev.day.astype(np.int64)
    day = day_all[rows]
    start_all = ev.groups.start
    first = start_all[rows]
    lookback = ctx.param(lambda c: c.history.lookback_days, p).astype(np.int64)
    cap = ctx.param(lambda c: c.history.max_baseline_orders, p).astype(np.intp)
    lo = np.maximum(ev.groups.first_on_or_after(rows, day - lookback + 1), rows - cap)
    past_orders = rows - lo
    gaps = np.zeros(len(day_all), dtype=np.int64)
    gaps[1:] = day_all[1:] - day_all[:-1]
    # Gaps between the past orders in the look-back: gaps[lo+1 .. rows-1].
    gap_lo = np.minimum(lo + 1, rows)
    (median_gap,) = window_quantiles(gaps, gap_lo, rows, (0.5,))
    usual = np.fmax(np.nan_to_num(median_gap), 1.0)

    max_k = max(c.frequency.gap_max_orders for c in ctx.policy.classes)
    k_limit = ctx.param(lambda c: c.frequency.gap_max_orders, p)
    pace = np.zeros(len(rows))
    orders = np.zeros(len(rows), dtype=np.int64)
    span = np.zeros(len(rows), dtype=np.int64)
    fastest = np.zeros(len(rows), dtype=np.int64)
    for k in range(3, max_k + 1):
        spans = _spans(day_all, start_all, k)
        now = spans[rows]
        # The fastest k consecutive orders among the past ones in the look-back.
        (past_min,) = window_quantiles(spans, np.minimum(lo + k - 1, rows), rows, (0.0,))
        past_min = np.where(np.isnan(past_min), _NEVER, past_min).astype(np.int64)
        this = np.where(
            (now < _NEVER) & (k <= k_limit) & (now < past_min),
            (k - 1) * usual / np.maximum(now, 1),
            0.0,
        )
        better = this > pace
        pace = np.where(better, this, pace)
        orders = np.where(better, k, orders)
        span = np.where(better, now, span)
        fastest = np.where(better, past_min, fastest)
    settled = established(past_orders, day - day_all[first], ctx, p) & (past_orders >= 2)
    warn_at = ctx.param(lambda c: c.frequency.gap_warn_multiplier, p)
    stop_at = ctx.param(lambda c: c.frequency.gap_intercept_multiplier, p)
    warn = settled & (pace >= warn_at)
    intercept = warn & (pace >= stop_at)
    return detected(
        FlagCode.REORDER_PACE,
        ev.order_row[rows],
        ev.drug_code[rows],
        warn,
        intercept,
        {
            "orders": orders,
            "span_days": span,
            "usual_gap_days": usual,
            "pace": pace,
            "fastest_days": np.where(fastest >= _NEVER, -1, fastest),
            "limit": np.where(intercept, stop_at, warn_at),
            "lookback_days": lookback,
        },
    )


def detect_frequency(ctx: Context) -> list[Detection]:
    return [detect_burst(ctx), detect_pace(ctx)]
