"""SOM speed: one order before signing, and a distributor's batch, against a pandas baseline.

Prints one JSON object:

- ``single``: one order judged against 5 years of one pharmacy's history
  (``evaluate``), p50/p95 over repeated runs (target p95 <= 5 ms);
- ``batch``: ~1,000,000 order lines from 2,000 pharmacies, each order judged
  against a year of history plus the orders before it (``score``), wall time
  (target <= 10 s on 2 cores) and peak traced memory;
- ``pandas_baseline``: the size and frequency figures only (median of the past
  year's order totals, 30-day units and order count) for every scored order, written
  as a pandas user would (one frame, grouped once, rolling time windows), timed on the
  same data in the same run; ``speedup`` is its time over ``score``'s.

Usage: python benchmarks/som_speed.py [--pharmacies 2000] [--lines 1000000] [--quick]
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from datetime import timedelta

import numpy as np
import pandas as pd
from harness import emit, parse_args  # benchmarks/ is on sys.path

from csos_desktop.domain.catalogue import bundled_catalogue
from csos_desktop.sandbox.history import GeneratorConfig, generate_history
from csos_desktop.som.evaluate import evaluate, score
from csos_desktop.som.history import History, day_date, day_number
from csos_desktop.som.loaders import bundled_policy
from csos_desktop.som.review import OrderUnderReview, ReviewLine


def _review_line(drug_code: int, variant: str, units: int) -> ReviewLine:
    """A line whose strength/form label reads back as ``variant``."""
    strength, _, form = variant.partition(" ")
    return ReviewLine(drug_code, "0", strength, form, units)


def single_order(repeats: int) -> dict[str, object]:
    catalogue = bundled_catalogue()
    config = GeneratorConfig(seed=1, pharmacies=8, days=5 * 365, anomalies_per_pharmacy=0)
    data = generate_history(catalogue, config)
    h = data.history
    busiest = int(np.bincount(h.purchaser).argmax())
    h = h.select(h.purchaser == busiest)
    dea = h.purchasers[busiest]
    last = h.order == h.order[-1]
    lines = tuple(
        _review_line(int(c), h.variants[int(v)], int(u) * 2)
        for c, v, u in zip(h.drug_code[last], h.variant[last], h.units[last], strict=True)
    )
    order = OrderUnderReview("bench", dea, day_date(int(h.day.max())) + timedelta(days=3), lines)
    policy = bundled_policy()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        evaluate(order, h, policy, catalogue.families, customer_class=data.customer_classes[dea])
        times.append(time.perf_counter() - t)
    ms = np.asarray(times[5:]) * 1000  # the first runs warm caches
    return {
        "history_lines": len(h),
        "history_orders": len(np.unique(h.order)),
        "order_lines": len(lines),
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p95_ms": round(float(np.percentile(ms, 95)), 3),
        "target_p95_ms": 5,
    }


def _split(h: History, first: int, n_lines: int) -> tuple[History, History]:
    """History before day ``first``; then ``n_lines`` lines of whole orders from that day on."""
    past = h.select(h.day < first)
    later = h.select(h.day >= first)
    if len(later) > n_lines:
        cut = n_lines
        while cut < len(later) and later.order[cut] == later.order[cut - 1]:
            cut += 1  # keep the last order whole
        later = later.select(np.arange(len(later)) < cut)
    return past, later


def pandas_baseline(past: History, orders: History) -> tuple[float, int]:
    """(seconds, orders) for the size and frequency figures of every scored order, written
    as a pandas user would: one frame, grouped once, rolling windows per purchaser × family.

    Per order and drug family: the median of that family's order totals in the year
    before (size), the units and the number of orders in the 30 days before (frequency).
    Fewer figures than ``score`` computes (no pattern checks, no policy): a floor for it.
    """
    both = History.concat(past, orders)
    offset = len(past.order_ids)
    t = time.perf_counter()
    lines = pd.DataFrame(
        {
            "order": both.order,
            "day": both.day,
            "purchaser": both.purchaser,
            "family": both.drug_code,
            "units": both.units,
        }
    )
    totals = lines.groupby(["purchaser", "family", "day", "order"], sort=True).units.sum()
    totals = totals.reset_index()
    # One instant per order: its day, then its place among that day's orders, so a window
    # closed on the left holds exactly the orders before it.
    totals["at"] = pd.to_datetime(totals.day, unit="D") + pd.to_timedelta(totals.order, unit="us")
    totals = totals.sort_values(["purchaser", "family", "at"])
    by_family = totals.groupby(["purchaser", "family"], sort=False)
    year = by_family.rolling("365D", on="at", closed="left").units
    month = by_family.rolling("30D", on="at", closed="left").units
    figures = pd.DataFrame(
        {
            "median": year.median().to_numpy(),
            "month_units": month.sum().to_numpy(),
            "month_orders": month.count().to_numpy(),
        },
        index=totals.index,
    )
    scored = totals.order >= offset
    figures = figures[scored.to_numpy()]
    _ratio = totals.units[scored] / figures["median"]
    seconds = time.perf_counter() - t
    return seconds, int(totals.order[scored].nunique())


def batch(pharmacies: int, n_lines: int) -> dict[str, object]:
    catalogue = bundled_catalogue()
    config = GeneratorConfig(seed=2, pharmacies=pharmacies, days=730, anomalies_per_pharmacy=1.0)
    t = time.perf_counter()
    data = generate_history(catalogue, config)
    generate_s = time.perf_counter() - t
    past, orders = _split(data.history, day_number(config.start) + 365, n_lines)
    policy = bundled_policy()
    classes = data.customer_classes
    t = time.perf_counter()
    scores = score(past, orders, policy, catalogue.families, customer_classes=classes)
    score_s = time.perf_counter() - t
    tracemalloc.start()
    score(past, orders, policy, catalogue.families, customer_classes=classes)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    baseline_s, baseline_orders = pandas_baseline(past, orders)
    return {
        "batch": {
            "pharmacies": pharmacies,
            "history_lines": len(past),
            "scored_lines": len(orders),
            "scored_orders": len(scores),
            "flagged_orders": int((scores.decision_rank > 0).sum()),
            "score_s": round(score_s, 2),
            "peak_traced_memory_mb": round(peak / 2**20, 1),
            "cpus": os.cpu_count(),
            "target_s": 10,
            "generate_s": round(generate_s, 1),
        },
        "pandas_baseline": {
            "what": "size and frequency figures only: group once, rolling windows",
            "orders": baseline_orders,
            "orders_missing": len(scores) - baseline_orders,
            "seconds": round(baseline_s, 2),
            "speedup": round(baseline_s / score_s, 2),
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pharmacies", type=int, default=2000)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=205)
    args = parse_args(ap, {"pharmacies": 20, "lines": 5000, "repeats": 15})
    result: dict[str, object] = {"benchmark": "som_speed", "single": single_order(args.repeats)}
    result.update(batch(args.pharmacies, args.lines))
    emit(result)


if __name__ == "__main__":
    main()
