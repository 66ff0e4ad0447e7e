"""Robust baselines over look-back windows: quantiles of past orders, medians of past windows.

Every statistic is computed row-wise from the same values in the same order
whether one order or a million are scored, so the client and the distributor
agree to the last bit.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from csos_desktop.som.ledger import Groups

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
IP = NDArray[np.intp]

# Rows per block when gathering windows into a matrix: bounds memory to a few
# tens of MB whatever the batch size.
_BLOCK_CELLS = 1_000_000
# Below this many rows threads cost more than they save.
_THREADED_ROWS = 50_000


def window_quantiles(values: I64, lo: IP, hi: IP, qs: Sequence[float]) -> list[F64]:
    """Quantiles (linear interpolation) of ``values[lo:hi]`` for each row; NaN where empty."""
    n = hi - lo
    out = [np.full(len(lo), np.nan) for _ in qs]
    width = int(n.max()) if len(n) else 0
    if width == 0:
        return out
    step = max(1, _BLOCK_CELLS // width)
    blocks = [slice(a, min(a + step, len(lo))) for a in range(0, len(lo), step)]

    def run(block: slice) -> None:
        mat = _sorted_windows(values, lo[block], n[block], width)
        for target, q in zip(out, qs, strict=True):
            target[block] = _quantile_of_sorted(mat, n[block], q)

    if len(lo) >= _THREADED_ROWS and len(blocks) > 1:
        # NumPy's sort releases the GIL, so blocks run in parallel on real cores.
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            list(pool.map(run, blocks))
    else:
        for block in blocks:
            run(block)
    return out


def _sorted_windows(values: I64, lo: IP, n: IP, width: int) -> F64:
    """Rows of ``values[lo:lo+n]`` padded with +inf to ``width`` columns, each sorted."""
    cols = np.arange(width)
    idx = lo[:, None] + cols[None, :]
    inside = cols[None, :] < n[:, None]
    mat = np.where(inside, values[np.minimum(idx, len(values) - 1)], np.inf)
    mat.sort(axis=1)
    return mat


def _quantile_of_sorted(mat: F64, n: IP, q: float) -> F64:
    pos = (np.maximum(n, 1) - 1) * q
    below = np.floor(pos).astype(np.intp)
    above = np.minimum(below + 1, np.maximum(n, 1) - 1)
    rows = np.arange(len(n))
    a, b = mat[rows, below], mat[rows, above]
    frac = pos - below
    with np.errstate(invalid="ignore"):
        value = a + frac * (b - a)
    return np.where(n > 0, np.where(frac == 0, a, value), np.nan)


def past_window_quantiles(
    groups: Groups,
    csum: I64,
    rows: IP,
    day: NDArray[np.integer],
    width: NDArray[np.integer],
    count: NDArray[np.integer],
    first_day: NDArray[np.integer],
    qs: Sequence[float],
) -> tuple[list[F64], IP]:
    """Quantiles of the totals of the ``count`` windows of ``width`` days before the current one.

    Window j (1..count) covers days ``day - width*(j+1) + 1 .. day - width*j``.
    Windows starting before ``first_day`` (before the history began) are left
    out rather than counted as empty. Returns the quantiles (NaN where no
    window) and how many windows they are over.
    """
    k = int(count.max()) if len(count) else 0
    totals = np.full((len(rows), max(k, 1)), np.inf)
    used = np.zeros(len(rows), dtype=np.intp)
    edge = groups.first_on_or_after(rows, day - width + 1)
    for j in range(1, k + 1):
        start_day = day - width * (j + 1) + 1
        start = groups.first_on_or_after(rows, start_day)
        ok = (j <= count) & (start_day >= first_day)
        totals[:, j - 1] = np.where(ok, csum[edge] - csum[start], np.inf)
        used += ok
        edge = start
    totals.sort(axis=1)
    return [_quantile_of_sorted(totals, used, q) for q in qs], used
