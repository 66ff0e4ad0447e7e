"""Running a distributor's SOM batch: stage the input, score the partitions, merge in order."""

from __future__ import annotations

import csv
import heapq
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any, no_type_check

from csos_desktop.domain.catalogue import Catalogue
from csos_desktop.domain.errors import InputError
from csos_desktop.som.loaders import HistoryFileInvalid
from csos_desktop.som.policy import Policy
from csos_desktop.som.row_checks import ValueChecks
from csos_desktop.som_batch.stage import Staged, connect, stage
from csos_desktop.som_batch.worker import PartitionResult, score_partition

FLAGS_COLUMNS = ("order_id", "decision", "kinds", "explanation")
# About this many input bytes per partition: ~170,000 lines, which score in ~120 MB.
BYTES_PER_PARTITION = 8 * 2**20


class Engine(Enum):
    """Where partitions are scored: one after another here, or on Dask workers."""

    STREAM = "stream"
    DASK = "dask"


@dataclass(frozen=True)
class BatchSummary:
    orders: int
    ok: int
    warn: int
    intercept: int
    partitions: int
    history: Staged
    orders_staged: Staged
    notes: tuple[str, ...]


# Parquet packs a history line into about a sixth of the bytes CSV takes.
_PARQUET_FACTOR = 6


def partitions_for(*paths: Path) -> int:
    """Enough partitions that one holds about BYTES_PER_PARTITION of input (as CSV)."""
    size = sum(
        p.stat().st_size * (_PARQUET_FACTOR if p.suffix.lower() in (".parquet", ".pq") else 1)
        for p in paths
        if p.exists()
    )
    return max(1, math.ceil(size / BYTES_PER_PARTITION))


def score_files(
    history_path: Path,
    orders_path: Path,
    out_path: Path,
    *,
    catalogue: Catalogue,
    policy: Policy,
    today: date,
    customer_classes: Mapping[str, str] | None = None,
    skip_bad_rows: bool = False,
    engine: Engine = Engine.STREAM,
    scheduler: str | None = None,
    work_dir: Path | None = None,
    partitions: int | None = None,
) -> BatchSummary:
    """Judge every order of ``orders_path`` against ``history_path`` and the orders before it."""
    for p in (history_path, orders_path):
        if not p.is_file():
            raise InputError(f"cannot read {p}: no such file")
    n = partitions or partitions_for(history_path, orders_path)
    with tempfile.TemporaryDirectory(prefix="csos-som-", dir=work_dir) as tmp:
        root = Path(tmp)
        con = connect(root)
        try:
            checks = ValueChecks(catalogue, today)
            staged_h = stage(history_path, root / "history", checks, n, con)
            _refuse_bad(history_path, staged_h, skip_bad_rows)
            staged_o = stage(orders_path, root / "orders", checks, n, con)
            _refuse_bad(orders_path, staged_o, skip_bad_rows)
        finally:
            con.close()
        tasks = [
            (
                _if_exists(root / "history" / o.name),
                o,
                root / "results" / f"{o.stem}.csv",
            )
            for o in sorted((root / "orders").glob("part-*.parquet"))
        ]
        (root / "results").mkdir()
        classes = dict(customer_classes or {})
        families = dict(catalogue.families)
        if engine is Engine.DASK:
            results = _on_dask(tasks, policy, families, classes, scheduler)
        else:
            results = [score_partition(h, o, r, policy, families, classes) for h, o, r in tasks]
        _merge([r.path for r in results], out_path)
    return BatchSummary(
        sum(r.ok + r.warn + r.intercept for r in results),
        sum(r.ok for r in results),
        sum(r.warn for r in results),
        sum(r.intercept for r in results),
        n,
        staged_h,
        staged_o,
        checks.notes(),
    )


def _if_exists(path: Path) -> Path | None:
    return path if path.exists() else None


def _refuse_bad(path: Path, staged: Staged, skip: bool) -> None:
    if staged.problems and not skip:
        raise HistoryFileInvalid(str(path), staged.problems, total=staged.problem_count)


@no_type_check  # Dask's API is untyped; the LocalCluster test checks this instead
def _on_dask(
    tasks: list[tuple[Path | None, Path, Path]],
    policy: Policy,
    families: Mapping[int, Any],
    classes: Mapping[str, str],
    scheduler: str | None,
) -> list[PartitionResult]:
    """The same per-partition function on Dask workers; ``local:N`` starts N local workers."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise InputError(
            "the dask engine needs dask.distributed: pip install 'csos-desktop[som-scale]'"
        ) from exc
    if not scheduler:
        raise InputError("--engine dask needs --scheduler ADDRESS or --scheduler local:N")
    cluster = None
    if scheduler.startswith("local:"):
        workers = int(scheduler.split(":", 1)[1] or "2")
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = [
            client.submit(score_partition, h, o, r, policy, families, classes, pure=False)
            for h, o, r in tasks
        ]
        return list(client.gather(futures))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            yield int(row[0]), row[1:]


def _merge(paths: list[Path], out_path: Path) -> None:
    """All partitions' rows by the line each order started on: the input's order."""
    tmp = out_path.with_name(f".{out_path.name}.part-{os.getpid()}")
    try:
        with tmp.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(FLAGS_COLUMNS)
            for _, row in heapq.merge(*(_rows(p) for p in paths), key=lambda r: r[0]):
                w.writerow(row)
        os.replace(tmp, out_path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {out_path}: {exc.strerror}") from exc
