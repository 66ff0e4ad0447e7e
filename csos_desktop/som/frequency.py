"""Unusual frequency: orders of a family in the recent window against the baseline rate.

The expected count is the purchaser's rate for the family over the look-back
before the recent window, scaled to the window (never below the policy's
minimum; the policy's thin-history value while history is thin). A flag needs
both a large multiple of the expected count and a small Poisson tail
probability, so a purchaser who orders once a month is not flagged for
ordering twice.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from csos_desktop.som.detection import Context, Detection, detected, established
from csos_desktop.som.flags import FlagCode

F64 = NDArray[np.float64]

# Terms of the upper tail summed beyond k; they shrink geometrically once k > λ.
_TAIL_TERMS = 400


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


def detect_frequency(ctx: Context) -> list[Detection]:
    ev = ctx.ledger.events
    rows = np.flatnonzero(ev.query)
    p = ev.purchaser[rows]
    day = ev.day[rows].astype(np.int64)
    width = ctx.param(lambda c: c.frequency.window_days, p).astype(np.int64)
    lookback = ctx.param(lambda c: c.history.lookback_days, p).astype(np.int64)
    first = ev.groups.start[rows]
    first_day = ev.day[first].astype(np.int64)

    window_start = ev.groups.first_on_or_after(rows, day - width + 1)
    count = rows - window_start + 1  # this order included
    base_from = np.maximum(day - lookback + 1, first_day)
    base_days = day - width - base_from + 1
    base_count = window_start - ev.groups.first_on_or_after(rows, base_from)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(base_days > 0, base_count / base_days, 0.0)
    thin = ~established(rows - first, day - first_day, ctx, p) | (base_days < width)
    expected = np.where(
        thin,
        ctx.param(lambda c: c.frequency.thin_expected_orders, p),
        np.fmax(rate * width, ctx.param(lambda c: c.frequency.min_expected_orders, p)),
    )
    ratio = count / expected
    warn_at = ctx.param(lambda c: c.frequency.warn_multiplier, p)
    stop_at = ctx.param(lambda c: c.frequency.intercept_multiplier, p)
    tail = np.ones(len(rows))
    candidate = ratio >= warn_at
    tail[candidate] = poisson_upper_tail(count[candidate], expected[candidate])
    warn = candidate & (tail <= ctx.param(lambda c: c.frequency.warn_tail_probability, p))
    intercept = (
        warn
        & (ratio >= stop_at)
        & (tail <= ctx.param(lambda c: c.frequency.intercept_tail_probability, p))
    )
    return [
        detected(
            FlagCode.BURST,
            ev.order_row[rows],
            ev.drug_code[rows],
            warn,
            intercept,
            {
                "orders": count,
                "expected": expected,
                "ratio": ratio,
                "tail": tail,
                "limit": np.where(intercept, stop_at, warn_at),
                "window_days": width,
                "thin": thin,
                "lookback_days": lookback,
            },
        )
    ]
