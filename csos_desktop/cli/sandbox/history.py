"""`csos sandbox gen-history`: synthetic order history for SOM (attaches to the sandbox group)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
import numpy as np

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.sandbox import sandbox
from csos_desktop.domain.catalogue import bundled_catalogue
from csos_desktop.domain.errors import InputError
from csos_desktop.sandbox.history import GeneratorConfig, SyntheticHistory, generate_history
from csos_desktop.som.history import History, day_number
from csos_desktop.som.loaders import HISTORY_COLUMNS


@contextmanager
def _csv_out(path: Path) -> Iterator[Any]:
    try:
        with path.open("w", newline="", encoding="utf-8") as f:
            yield csv.writer(f)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from exc


def write_history_csv(history: History, path: Path) -> None:
    """Rows in the history file format, in the order they are held."""
    dates = history.day.astype("datetime64[D]").astype(str)
    with _csv_out(path) as w:
        w.writerow(HISTORY_COLUMNS)
        for i in range(len(history)):
            w.writerow(
                (
                    history.order_ids[int(history.order[i])],
                    dates[i],
                    history.purchasers[int(history.purchaser[i])],
                    f"{int(history.ndc[i]):011d}",
                    int(history.drug_code[i]),
                    int(history.units[i]),
                )
            )


def _write_labels(data: SyntheticHistory, path: Path) -> None:
    with _csv_out(path) as w:
        w.writerow(
            (
                "order_id",
                "event_id",
                "anomaly",
                "kind",
                "code",
                "purchaser_dea",
                "drug_code",
                "cadence_days",
                "factor",
            )
        )
        for a in data.anomalies:
            for oid in a.order_ids:
                w.writerow(
                    (
                        oid,
                        a.event_id,
                        a.anomaly.value,
                        a.code.kind.value,
                        a.code.value,
                        a.purchaser_dea,
                        a.drug_code or "",
                        a.cadence_days or "",
                        f"{a.factor:.2f}",
                    )
                )


def _write_customers(data: SyntheticHistory, path: Path) -> None:
    with _csv_out(path) as w:
        w.writerow(("purchaser_dea", "customer_class"))
        w.writerows(sorted(data.customer_classes.items()))


@sandbox.command("gen-history")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="History CSV to write.",
)
@click.option("--pharmacies", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--days", default=730, show_default=True, type=click.IntRange(60, 20_000))
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="First day of the history (default: --days before today).",
)
@click.option(
    "--warmup-days",
    default=365,
    show_default=True,
    type=click.IntRange(0, 20_000),
    help="No anomaly is planted in the first days, so baselines can form.",
)
@click.option(
    "--anomalies",
    default=1.5,
    show_default=True,
    type=click.FloatRange(0, 50),
    help="Anomalies planted per pharmacy on average.",
)
@click.option(
    "--thin-share",
    default=0.1,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of pharmacies that open part-way through (thin history when scored).",
)
@click.option("--seed", default=7, show_default=True, type=int, help="Same seed, same history.")
@click.option(
    "--labels",
    "labels_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write the planted anomalies, one row per order.",
)
@click.option(
    "--customers",
    "customers_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write purchaser_dea,customer_class.",
)
@click.option(
    "--orders-out",
    "orders_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Put the last --orders-days in this file instead (to try `csos som score`).",
)
@click.option("--orders-days", default=90, show_default=True, type=click.IntRange(1, 20_000))
@run_cli
def gen_history(
    out_path: Path,
    pharmacies: int,
    days: int,
    start: datetime | None,
    warmup_days: int,
    anomalies: float,
    thin_share: float,
    seed: int,
    labels_path: Path | None,
    customers_path: Path | None,
    orders_path: Path | None,
    orders_days: int,
) -> None:
    """Write synthetic pharmacy order history with planted, labelled anomalies."""
    first = start.date() if start else date.fromordinal(date.today().toordinal() - days)
    config = GeneratorConfig(
        seed,
        pharmacies,
        first,
        days,
        min(warmup_days, days - 1),
        anomalies,
        thin_share=thin_share,
    )
    data = generate_history(bundled_catalogue(), config)
    h = data.history
    if orders_path is None:
        write_history_csv(h, out_path)
    else:
        split = day_number(first) + days - orders_days
        write_history_csv(h.select(h.day < split), out_path)
        write_history_csv(h.select(h.day >= split), orders_path)
    if labels_path:
        _write_labels(data, labels_path)
    if customers_path:
        _write_customers(data, customers_path)
    counts = np.unique([a.anomaly.value for a in data.anomalies], return_counts=True)
    planted = ", ".join(f"{n} {code}" for code, n in zip(*counts, strict=True)) or "none"
    click.echo(
        f"{len(h)} lines, {len(h.order_ids)} orders, {pharmacies} pharmacies"
        f" from {first} ({days} days); planted: {planted} -> {out_path}"
    )
