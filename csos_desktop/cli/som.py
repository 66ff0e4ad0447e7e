"""`csos som ...`: Suspicious Order Monitoring checks.

- ``check``: judge one ORDER.json against the pharmacy's history before signing;
- ``score``: judge a batch of orders, each against the history and the orders
  before it (the distributor's run), writing one row per order;
- ``report``: a chart of one family's orders, the baseline band and the order.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.domain.catalogue import Catalogue
from csos_desktop.domain.errors import InputError
from csos_desktop.som.evaluate import evaluate, score
from csos_desktop.som.explain import family_label
from csos_desktop.som.flags import Assessment, kinds_text
from csos_desktop.som.history import History
from csos_desktop.som.loaders import bundled_policy, load_history_csv, load_policy
from csos_desktop.som.policy import Policy
from csos_desktop.som.review import OrderUnderReview, review_from_order
from csos_desktop.som.series import FamilySeries, family_series

FLAGS_COLUMNS = ("order_id", "decision", "kinds", "explanation")

history_option = click.option(
    "--history",
    "history_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="History CSV: order_id,order_date,purchaser_dea,ndc,drug_code,dosage_units.",
)
policy_option = click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="SOM policy JSON published by the distributor (default: the built-in default policy).",
)
skip_option = click.option(
    "--skip-bad-rows",
    is_flag=True,
    help="Judge without history rows that cannot be used (they are still listed).",
)
as_of_option = click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Judge as of this date (default: today, the day the order would be signed).",
)
class_option = click.option(
    "--customer-class", help="Customer class to apply (default: as the policy assigns it)."
)


@click.group()
def som() -> None:
    """Suspicious Order Monitoring: size, frequency and pattern checks."""


def _today() -> date:
    return datetime.now(UTC).date()


def _policy(path: Path | None) -> Policy:
    return bundled_policy() if path is None else load_policy(path)


def _catalogue() -> Catalogue:
    from csos_desktop.services.orders.catalogue import installed_catalogue

    return installed_catalogue()


def _history(path: Path, catalogue: Catalogue, skip: bool) -> History:
    loaded = load_history_csv(path, catalogue, today=_today(), skip_bad_rows=skip)
    for problem in loaded.problems:
        click.echo(f"warning: {path}: {problem} (row not used)", err=True)
    for note in loaded.notes:
        click.echo(f"note: {path}: {note}", err=True)
    return loaded.history


def _review(order_path: Path, catalogue: Catalogue, as_of: datetime | None) -> OrderUnderReview:
    from csos_desktop.cli.order import read_order_input  # here: it pulls in the token stack

    order = read_order_input(order_path, datetime.now(UTC))
    return review_from_order(order, catalogue, as_of=as_of.date() if as_of else _today())


def format_assessment(a: Assessment) -> str:
    """The text `som check` prints: the decision, then one line per flag."""
    head = (
        f"{a.decision.value.upper()}: order {a.order_id} for {a.purchaser_dea} as of {a.as_of}"
        f" (policy {a.policy_id}, class {a.customer_class})"
    )
    lines = [head]
    lines += [f"  [{f.severity.value}] {f.kind.value}: {f.explanation}" for f in a.flags]
    if a.escalated:
        lines.append(f"  [intercept] {a.explanation.rsplit('. ', 1)[-1]}")
    if not a.flags:
        lines.append("  No size, frequency or pattern deviation from the history.")
    return "\n".join(lines)


@dataclass(frozen=True)
class _Judged:
    """What `check` and `report` both read and decide."""

    catalogue: Catalogue
    policy: Policy
    history: History
    review: OrderUnderReview
    assessment: Assessment


def _judge(
    order_path: Path,
    history_path: Path,
    policy_path: Path | None,
    as_of: datetime | None,
    customer_class: str | None,
    skip_bad_rows: bool,
) -> _Judged:
    """Read the order, history and policy, and judge the order."""
    catalogue = _catalogue()
    policy = _policy(policy_path)
    review = _review(order_path, catalogue, as_of)
    history = _history(history_path, catalogue, skip_bad_rows)
    a = evaluate(review, history, policy, catalogue.families, customer_class=customer_class)
    return _Judged(catalogue, policy, history, review, a)


@som.command("check")
@click.argument("order_path", metavar="ORDER.json", type=click.Path(path_type=Path, dir_okay=False))
@history_option
@policy_option
@as_of_option
@class_option
@skip_option
@click.option("--json", "as_json", is_flag=True, help="Print the assessment as JSON.")
@run_cli
def check(
    order_path: Path,
    history_path: Path,
    policy_path: Path | None,
    as_of: datetime | None,
    customer_class: str | None,
    skip_bad_rows: bool,
    as_json: bool,
) -> None:
    """Judge ORDER.json against the history before signing: ok, warn or intercept."""
    import json

    a = _judge(
        order_path, history_path, policy_path, as_of, customer_class, skip_bad_rows
    ).assessment
    click.echo(json.dumps(a.to_json(), indent=2) if as_json else format_assessment(a))


@som.command("score")
@click.option(
    "--history",
    "history_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="History: CSV or Parquet with order_id,order_date,purchaser_dea,ndc,drug_code,"
    "dosage_units.",
)
@click.option(
    "--orders",
    "orders_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Orders to judge, in the history's columns (CSV or Parquet); each is judged against"
    " the history before it plus the orders before it.",
)
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="FLAGS.csv to write: order_id,decision,kinds,explanation.",
)
@click.option(
    "--customers",
    "customers_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="CSV purchaser_dea,customer_class overriding the policy's assignment.",
)
@click.option(
    "--engine",
    type=click.Choice(["stream", "dask", "memory"]),
    default="stream",
    show_default=True,
    help="stream: read lazily, score partitions by purchaser one after another (memory bounded"
    " by a partition); dask: the same partitions on Dask workers; memory: all in memory.",
)
@click.option(
    "--scheduler",
    help="With --engine dask: the scheduler address (tcp://host:8786), or local:N for N"
    " local worker processes.",
)
@click.option(
    "--work-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where partitions are written (default: the system temp dir). On a cluster: shared"
    " storage every worker can read.",
)
@click.option(
    "--partitions", type=click.IntRange(1, 100_000), help="Partitions (default: by input size)."
)
@policy_option
@skip_option
@run_cli
def score_command(
    history_path: Path,
    orders_path: Path,
    out_path: Path,
    customers_path: Path | None,
    engine: str,
    scheduler: str | None,
    work_dir: Path | None,
    partitions: int | None,
    policy_path: Path | None,
    skip_bad_rows: bool,
) -> None:
    """Judge a batch of orders (the distributor's run) and write one row per order."""
    catalogue = _catalogue()
    policy = _policy(policy_path)
    classes = _customers(customers_path) if customers_path else None
    if engine == "memory":
        counts = _score_in_memory(
            history_path, orders_path, out_path, catalogue, policy, classes, skip_bad_rows
        )
    else:
        counts = _score_streaming(
            history_path,
            orders_path,
            out_path,
            catalogue,
            policy,
            classes,
            skip_bad_rows,
            engine,
            scheduler,
            work_dir,
            partitions,
        )
    click.echo(
        f"Scored {sum(counts)} orders: {counts[0]} ok, {counts[1]} warn,"
        f" {counts[2]} intercept -> {out_path}"
    )


def _score_in_memory(
    history_path: Path,
    orders_path: Path,
    out_path: Path,
    catalogue: Catalogue,
    policy: Policy,
    classes: dict[str, str] | None,
    skip_bad_rows: bool,
) -> tuple[int, int, int]:
    history = _history(history_path, catalogue, skip_bad_rows)
    orders = _history(orders_path, catalogue, skip_bad_rows)
    scores = score(history, orders, policy, catalogue.families, customer_classes=classes)
    try:
        with out_path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(FLAGS_COLUMNS)
            for i, oid in enumerate(scores.order_ids):
                a_flags = scores.flags.get(i, ())
                explanation = scores.assessment(i).explanation if a_flags else ""
                w.writerow(
                    [oid, scores.decision(i).value, kinds_text(int(scores.kinds[i])), explanation]
                )
    except OSError as exc:
        raise InputError(f"cannot write {out_path}: {exc.strerror}") from exc
    r = scores.decision_rank
    return int((r == 0).sum()), int((r == 1).sum()), int((r == 2).sum())


def _score_streaming(
    history_path: Path,
    orders_path: Path,
    out_path: Path,
    catalogue: Catalogue,
    policy: Policy,
    classes: dict[str, str] | None,
    skip_bad_rows: bool,
    engine: str,
    scheduler: str | None,
    work_dir: Path | None,
    partitions: int | None,
) -> tuple[int, int, int]:
    try:
        from csos_desktop.som_batch.engine import Engine, score_files
    except ImportError as exc:
        raise InputError(
            f"--engine {engine} needs the som-scale extra (pip install 'csos-desktop[som-scale]');"
            " --engine memory works without it"
        ) from exc
    s = score_files(
        history_path,
        orders_path,
        out_path,
        catalogue=catalogue,
        policy=policy,
        today=_today(),
        customer_classes=classes,
        skip_bad_rows=skip_bad_rows,
        engine=Engine(engine),
        scheduler=scheduler,
        work_dir=work_dir,
        partitions=partitions,
    )
    for path, staged in ((history_path, s.history), (orders_path, s.orders_staged)):
        for problem in staged.problems:
            click.echo(f"warning: {path}: {problem} (row not used)", err=True)
        if staged.problem_count > len(staged.problems):
            more = staged.problem_count - len(staged.problems)
            click.echo(f"warning: {path}: ... and {more} more problems", err=True)
    for note in s.notes:
        click.echo(f"note: {note}", err=True)
    return s.ok, s.warn, s.intercept


def _customers(path: Path) -> dict[str, str]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            return {r["purchaser_dea"]: r["customer_class"] for r in csv.DictReader(f)}
    except (OSError, KeyError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(
            f"cannot read customer classes from {path}: it needs the columns"
            f" purchaser_dea,customer_class as UTF-8 CSV ({exc})"
        ) from exc


@som.command("report")
@click.argument("order_path", metavar="ORDER.json", type=click.Path(path_type=Path, dir_okay=False))
@history_option
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="PNG file to write.",
)
@click.option(
    "--family",
    "drug_code",
    type=int,
    help="DEA drug code to chart (default: the first flagged family, else the largest line).",
)
@policy_option
@as_of_option
@class_option
@skip_option
@run_cli
def report(
    order_path: Path,
    history_path: Path,
    out_path: Path,
    drug_code: int | None,
    policy_path: Path | None,
    as_of: datetime | None,
    customer_class: str | None,
    skip_bad_rows: bool,
) -> None:
    """Chart one family: past orders, the baseline band and this order (PNG)."""
    j = _judge(order_path, history_path, policy_path, as_of, customer_class, skip_bad_rows)
    catalogue, policy, history, review, a = j.catalogue, j.policy, j.history, j.review, j.assessment
    if drug_code is None:
        flagged = [f.drug_code for f in a.flags if f.drug_code is not None]
        by_units = sorted(review.lines, key=lambda line: -line.units)
        drug_code = flagged[0] if flagged else (by_units[0].drug_code if by_units else None)
    if drug_code is None or drug_code not in {line.drug_code for line in review.lines}:
        raise InputError("the order has no controlled line of that drug family to chart")
    series = family_series(
        history, review, drug_code, policy, catalogue.families, customer_class=customer_class
    )
    _render_chart(series, family_label(drug_code, catalogue.families), a, out_path)
    click.echo(f"{format_assessment(a)}\nChart written to {out_path}")


def _render_chart(series: FamilySeries, label: str, a: Assessment, out_path: Path) -> None:
    """The GUI's chart (QtCharts, drawn offscreen): past orders, the baseline band, this order."""
    # Qt loads here, not when `csos` starts.
    from csos_desktop.charts.som_chart import build_chart, ensure_offscreen_app, save_chart_png

    ensure_offscreen_app()
    title = f"{label}: orders of {series.purchaser_dea} up to {a.as_of}"
    try:
        save_chart_png(build_chart(series, title, a.decision), out_path)
    except OSError as exc:
        raise InputError(f"Cannot write the chart to {out_path} ({exc}).") from exc
