"""`csos rx alerts` and `csos rx logs`: the EPCS records made at start-up.

The daily audit analysis (1311.150(b), 1311.215(b)) stores what it finds as alerts, shown
until acknowledged; the monthly logs (1311.120(b)(27)) are kept two years in the store.
Both are made when `csos` or the GUI starts (services.pharmacy_store.open_store).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.rx.admin import actor, as_option, log_options, write_log
from csos_desktop.domain.errors import InputError
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.rx import queries as rx_queries
from csos_desktop.services.rx import records
from csos_desktop.services.rx.monthly_log import LogOrder, log_csv, read_csv, sort_lines


@click.command("alerts")
@click.option("--all", "everything", is_flag=True, help="Acknowledged alerts too.")
@click.option("--ack", "ack_id", type=int, metavar="ID", help="Acknowledge alert ID (with --as).")
@as_option(required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def alerts_cmd(everything: bool, ack_id: int | None, as_user: str | None, as_json: bool) -> None:
    """Alerts from the daily audit analysis; exit 1 while any is unacknowledged."""
    with open_store() as store:
        if ack_id is not None:
            if not as_user:
                raise InputError("Say who acknowledges the alert: --as USER.")
            done = records.acknowledge_alert(store, actor(as_user), ack_id, now=datetime.now(UTC))
            click.echo(f"Alert {done.alert_id} acknowledged by {done.acknowledged_by}.")
        listed = rx_queries.alerts(store, unacknowledged=not everything)
        open_left = len(records.unacknowledged(store))
        last = rx_queries.last_analysis(store)
    if as_json:
        click.echo(json.dumps([a.to_json() for a in listed], indent=2))
    elif ack_id is None:
        ran = f"last analysis {last.ran_at}" if last else "no analysis has run yet"
        click.echo(f"{open_left} unacknowledged alert(s); {ran}.")
        for a in listed:
            seen = (
                f" [acknowledged by {a.acknowledged_by} at {a.acknowledged_at}]"
                if a.acknowledged_at
                else ""
            )
            click.echo(f"#{a.alert_id} {a.at} {a.kind}: {a.message}{seen}")
    raise SystemExit(1 if open_left and ack_id is None else 0)


@click.command("logs")
@click.option("--month", help="Write this month's stored log (YYYY-MM); else list them.")
@log_options
@run_cli
def logs_cmd(month: str | None, order: str, out_file: Path | None) -> None:
    """The monthly logs made at start-up and kept two years (21 CFR 1311.120(b)(27))."""
    with open_store() as store:
        if month is None:
            for log in rx_queries.kept_logs(store):
                click.echo(
                    f"{log.month}  {log.lines} prescription(s)  made {log.produced_at}  "
                    f"kept until {log.keep_until}  sha256 {log.csv_sha256[:16]}"
                )
            return
        kept = rx_queries.kept_log(store, month.strip())
    if kept is None:
        raise InputError(
            f"No monthly log is kept for {month}: one is made for each month that has ended "
            "since the first signed prescription (`csos rx logs` lists them)."
        )
    text = log_csv(sort_lines(read_csv(kept.csv.decode("utf-8")), LogOrder(order)))
    write_log(text, out_file, f"The log of {month} ({kept.lines} prescription(s)) written to")
