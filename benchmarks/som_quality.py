"""SOM quality on synthetic history with planted anomalies: recall, precision, false alarms.

Generates pharmacies with ``csos sandbox gen-history``'s generator, scores every
order after the warm-up year against everything before it (as the distributor
does in batch), and prints one JSON object:

- recall per planted anomaly code: an anomaly counts as found when any of its
  orders carries a flag of the matching check (size: either size check);
- precision per kind: share of orders flagged with that kind that belong to a
  planted anomaly of that kind (strict: a burst also raises the 30-day size
  check, which counts against size here), and the share that belong to any
  planted anomaly or its aftermath;
- false-alarm rate: share of normal orders with any flag. Normal means not part
  of an anomaly and not within the policy window (30 days) after one of the
  same pharmacy, whose figures an anomaly legitimately disturbs; the rate
  including those orders is printed too.

Usage: python benchmarks/som_quality.py [--pharmacies N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict

import numpy as np

from csos_desktop.domain.catalogue import bundled_catalogue
from csos_desktop.sandbox.history import GeneratorConfig, SyntheticHistory, generate_history
from csos_desktop.som.evaluate import BatchScores, score
from csos_desktop.som.flags import KIND_BITS, FlagCode, FlagKind
from csos_desktop.som.history import day_number
from csos_desktop.som.loaders import bundled_policy

AFTERMATH_DAYS = 30
TARGETS = {
    FlagCode.ORDER_UNITS: 0.95,
    FlagCode.BURST: 0.95,
    FlagCode.NEW_FAMILY: 0.9,
    FlagCode.SCHEDULE_II_SHARE: 0.9,
}


def _matches(code: FlagCode, flag_code: FlagCode) -> bool:
    if code.kind in (FlagKind.SIZE, FlagKind.FREQUENCY):
        return flag_code.kind is code.kind
    return flag_code is code


def measure(data: SyntheticHistory, scores: BatchScores) -> dict[str, object]:
    index = {oid: i for i, oid in enumerate(scores.order_ids)}
    codes_of = {i: {f.code for f in flags} for i, flags in scores.flags.items()}
    kind_of_order: dict[int, set[FlagKind]] = defaultdict(set)
    recall: dict[str, dict[str, float]] = {}
    by_code: dict[FlagCode, list[bool]] = defaultdict(list)
    aftermath: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for a in data.anomalies:
        rows = [index[o] for o in a.order_ids if o in index]
        if not rows:
            continue  # planted in the warm-up window: not scored
        found = any(_matches(a.code, c) for r in rows for c in codes_of.get(r, ()))
        by_code[a.code].append(found)
        for r in rows:
            kind_of_order[r].add(a.code.kind)
        last = day_number(a.last_day)
        aftermath[a.purchaser_dea].append((last, last + AFTERMATH_DAYS))
    for code, hits in by_code.items():
        recall[code.value] = {"planted": len(hits), "recall": round(float(np.mean(hits)), 4)}

    planted = np.zeros(len(scores), dtype=bool)
    planted[list(kind_of_order)] = True
    after = np.asarray(
        [
            any(a <= d <= b for a, b in aftermath.get(dea, ()))
            for dea, d in zip(scores.purchaser_dea, scores.day.tolist(), strict=True)
        ]
    )
    flagged = scores.kinds > 0
    normal = ~planted & ~after
    precision = {}
    for kind, bit in KIND_BITS.items():
        with_kind = np.flatnonzero(scores.kinds & bit)
        right = sum(kind in kind_of_order.get(int(i), ()) for i in with_kind)
        related = int((planted | after)[with_kind].sum())
        n = len(with_kind)
        precision[kind.value] = {
            "flagged_orders": n,
            "precision": round(right / n, 4) if n else None,
            "precision_any_anomaly_or_aftermath": round(related / n, 4) if n else None,
        }
    normal_codes: dict[str, int] = defaultdict(int)
    for i in np.flatnonzero(normal & flagged):
        for c in codes_of[int(i)]:
            normal_codes[c.value] += 1
    return {
        "recall": recall,
        "precision": precision,
        "normal_orders": int(normal.sum()),
        "false_alarm_rate": round(float(flagged[normal].mean()), 5),
        "false_alarms_by_code": dict(sorted(normal_codes.items())),
        "false_alarm_rate_incl_aftermath": round(float(flagged[~planted].mean()), 5),
        "intercept_rate_normal": round(float((scores.decision_rank[normal] == 2).mean()), 5),
        "targets_met": all(
            recall.get(c.value, {}).get("recall", 0.0) >= t for c, t in TARGETS.items()
        )
        and float(flagged[normal].mean()) <= 0.01,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pharmacies", type=int, default=600)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    catalogue = bundled_catalogue()
    config = GeneratorConfig(seed=args.seed, pharmacies=args.pharmacies, anomalies_per_pharmacy=2.0)
    t0 = time.perf_counter()
    data = generate_history(catalogue, config)
    split = day_number(config.start) + config.warmup_days
    h = data.history
    t1 = time.perf_counter()
    scores = score(
        h.select(h.day < split),
        h.select(h.day >= split),
        bundled_policy(),
        catalogue.families,
        customer_classes=data.customer_classes,
    )
    t2 = time.perf_counter()
    result = {
        "benchmark": "som_quality",
        "seed": args.seed,
        "pharmacies": args.pharmacies,
        "history_lines": len(h),
        "scored_orders": len(scores),
        "generate_s": round(t1 - t0, 2),
        "score_s": round(t2 - t1, 2),
        **measure(data, scores),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
