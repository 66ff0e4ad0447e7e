"""SOM speed: one order before signing, and a distributor's batch, against a pandas baseline.

Prints one JSON object:

- ``single``: one order judged against 5 years of one pharmacy's history
  (``evaluate``), p50/p95 over repeated runs (target p95 <= 5 ms);
- ``batch``: ~1,000,000 order lines from 2,000 pharmacies, each order judged
  against a year of history plus the orders before it (``score``), wall time
  (target <= 10 s on 2 cores) and peak traced memory;
- ``pandas_baseline``: a straightforward per-order pandas/Python loop computing
  only the size and frequency figures (median of past orders, 30-day units and
  order count) for a sample of the same orders; its per-order time, scaled to
  the whole batch, against the batch time (target ratio >= 20).

Usage: python benchmarks/som_speed.py [--pharmacies 2000] [--lines 1000000] [--sample 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import time
import tracemalloc
from datetime import timedelta

import numpy as np
import pandas as pd

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


def pandas_baseline(past: History, orders: History, sample: int) -> tuple[float, int]:
    """Seconds per order for a plain per-order loop over pandas frames (size + frequency only)."""
    both = History.concat(past, orders)
    df = pd.DataFrame(
        {
            "order": both.order,
            "day": both.day,
            "purchaser": both.purchaser,
            "drug_code": both.drug_code,
            "units": both.units,
        }
    )
    by_purchaser = {p: g for p, g in df.groupby("purchaser")}
    offset = len(past.order_ids)
    codes = np.unique(orders.order + offset)
    picked = codes[np.linspace(0, len(codes) - 1, min(sample, len(codes))).astype(int)]
    t = time.perf_counter()
    for code in picked:
        p = int(both.purchaser[both.order == code][0])
        g = by_purchaser[p]
        mine = g[g.order == code]
        d = int(mine.day.iloc[0])
        prior = g[(g.day < d) | ((g.day == d) & (g.order < code))]
        for fam, units in mine.groupby("drug_code").units.sum().items():
            f = prior[prior.drug_code == fam]
            year = f[f.day > d - 365].groupby("order").units.sum()
            median = float(year.median()) if len(year) else float("nan")
            month = f[f.day > d - 30]
            _ratio = units / median if median else float("inf")
            _window = int(month.units.sum()) + int(units)
            _count = month.order.nunique() + 1
    return (time.perf_counter() - t) / len(picked), len(picked)


def batch(pharmacies: int, n_lines: int, sample: int) -> dict[str, object]:
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
    per_order, sampled = pandas_baseline(past, orders, sample)
    baseline_s = per_order * len(scores)
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
            "sampled_orders": sampled,
            "ms_per_order": round(per_order * 1000, 3),
            "extrapolated_batch_s": round(baseline_s, 1),
            "speedup": round(baseline_s / score_s, 1),
            "target_speedup": 20,
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pharmacies", type=int, default=2000)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=205)
    args = ap.parse_args()
    result: dict[str, object] = {"benchmark": "som_speed", "single": single_order(args.repeats)}
    result.update(batch(args.pharmacies, args.lines, args.sample))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
