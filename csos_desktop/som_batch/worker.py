"""Scoring one partition: the same :func:`csos_desktop.som.score` the pharmacy client runs.

Runs in this process or on a Dask worker; it reads its partition from the paths
it is given (shared storage on a cluster) and writes its rows, sorted by the
line each order started on, next to them.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from csos_desktop.domain.catalogue import DrugFamily
from csos_desktop.som.evaluate import score
from csos_desktop.som.flags import kinds_text
from csos_desktop.som.history import History
from csos_desktop.som.policy import Policy

RESULT_COLUMNS = ("line", "order_id", "decision", "kinds", "explanation")


@dataclass(frozen=True)
class PartitionResult:
    """Where one partition's rows went and how many orders got each decision."""

    path: Path
    ok: int
    warn: int
    intercept: int


def _encoded(column: Any) -> tuple[np.ndarray[Any, Any], tuple[str, ...]]:
    """Codes in order of first appearance (Arrow's dictionary encoding), and the labels."""
    d = column.combine_chunks().dictionary_encode()
    return d.indices.to_numpy().astype(np.int64), tuple(d.dictionary.to_pylist())


def read_partition(path: Path | None) -> tuple[History, np.ndarray[Any, Any]]:
    """A partition file as a History (rows in file order) and each row's input line."""
    if path is None or not path.exists():
        return History.empty(), np.zeros(0, dtype=np.int64)
    import pyarrow.parquet as pq

    t = pq.read_table(path)
    order, order_ids = _encoded(t["order_id"])
    purchaser, purchasers = _encoded(t["purchaser"])
    variant, variants = _encoded(t["variant"])
    history = History(
        order,
        t["day"].to_numpy().astype(np.int32),
        purchaser.astype(np.int32),
        t["drug_code"].to_numpy().astype(np.int32),
        variant.astype(np.int32),
        t["ndc"].to_numpy().astype(np.int64),
        t["units"].to_numpy().astype(np.int64),
        order_ids,
        purchasers,
        variants,
    )
    return history, t["line"].to_numpy().astype(np.int64)


def score_partition(
    history_path: Path | None,
    orders_path: Path,
    out_path: Path,
    policy: Policy,
    families: Mapping[int, DrugFamily],
    customer_classes: Mapping[str, str] | None,
) -> PartitionResult:
    """Score the orders of one partition against its history; write line-sorted rows."""
    history, _ = read_partition(history_path)
    orders, lines = read_partition(orders_path)
    scores = score(history, orders, policy, families, customer_classes=customer_classes)
    first_line = np.full(len(orders.order_ids), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_line, orders.order, lines)
    # Batch rows come in order of first appearance, which is the order of first lines.
    with out_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        for i, oid in enumerate(scores.order_ids):
            flagged = i in scores.flags
            w.writerow(
                (
                    int(first_line[i]),
                    oid,
                    scores.decision(i).value,
                    kinds_text(int(scores.kinds[i])),
                    scores.assessment(i).explanation if flagged else "",
                )
            )
    rank = scores.decision_rank
    return PartitionResult(
        out_path, int((rank == 0).sum()), int((rank == 1).sum()), int((rank == 2).sum())
    )
