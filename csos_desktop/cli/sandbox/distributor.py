"""`csos sandbox serve|customer|openapi`: the reference distributor (attaches to `sandbox`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.sandbox import sandbox
from csos_desktop.domain.errors import InputError
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.distributor.fulfilment import FulfilmentMode, FulfilmentSettings

_DIR = click.option(
    "--dir",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The sandbox directory: the test CA (created if the directory is new or empty), "
    "the distributor's database, TLS files and reports.",
)
_DB = click.option(
    "--database-url",
    default=None,
    metavar="URL",
    help="sqlite:///PATH or postgresql://USER@HOST:PORT/DB (default: SQLite in DIR/distributor).",
)


def _ensure_ca(directory: Path) -> None:
    if not directory.exists() or (directory.is_dir() and not any(directory.iterdir())):
        TestCa.init(directory)
        click.echo(f"test CA created in {directory} (TEST ONLY)", err=True)


@sandbox.command("serve")
@_DIR
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (keep it on loopback: this is a sandbox).",
)
@click.option(
    "--port",
    default=8443,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0 picks a free one).",
)
@_DB
@click.option(
    "--fulfilment",
    type=click.Choice([m.value for m in FulfilmentMode]),
    default=FulfilmentMode.SHIP_ALL.value,
    show_default=True,
    help="How accepted orders ship: all at once, part now and the balance later, "
    "or everything backordered first.",
)
@click.option(
    "--balance-delay",
    default=30.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds before a balance (partial/backorder) ships.",
)
@click.option(
    "--tick",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds between fulfilment passes.",
)
@click.option(
    "--som",
    "som_choice",
    type=click.Choice(["auto", "no-op"]),
    default="auto",
    show_default=True,
    help="auto: the SOM engine with the published policy; no-op: intercept nothing.",
)
@click.option(
    "--as2-partner",
    "as2_partners",
    multiple=True,
    metavar="AS2_ID=DEA,CERT.pem[,URL]",
    help="Take signed 850s over AS2 at /as2 from this customer (its AS2 certificate) and "
    "send its 997, 855 and 856 to URL (its `csos as2 serve`); repeatable.",
)
@click.option(
    "--as2-id", default="CSOS-SANDBOX", show_default=True, help="The distributor's AS2 id."
)
@run_cli
def serve(
    directory: Path,
    host: str,
    port: int,
    database_url: str | None,
    fulfilment: str,
    balance_delay: float,
    tick: float,
    som_choice: str,
    as2_partners: tuple[str, ...],
    as2_id: str,
) -> None:
    """Run the reference distributor over HTTPS until Ctrl-C (TEST ONLY)."""
    from csos_desktop.sandbox.distributor import server
    from csos_desktop.sandbox.distributor.som_hook import NoOpSomPolicy
    from csos_desktop.sandbox.https import TlsFiles, bind

    _ensure_ca(directory)
    settings = FulfilmentSettings(FulfilmentMode(fulfilment), timedelta(seconds=balance_delay))
    distributor = server.open_distributor(
        directory,
        database_url=database_url,
        settings=settings,
        som=NoOpSomPolicy() if som_choice == "no-op" else None,
    )
    as2_cert = None
    if as2_partners:
        from csos_desktop.sandbox.distributor.as2_setup import as2_endpoint

        distributor.as2, as2_cert = as2_endpoint(
            distributor.engine, directory / "as2", as2_id, as2_partners
        )
    sock = bind(host, port)

    def announce(url: str, tls: TlsFiles) -> None:
        click.echo(f"sandbox distributor (TEST ONLY) at {url}")
        click.echo(f"  CA bundle for clients: {tls.ca_bundle}")
        if as2_cert is not None:
            click.echo(f"  AS2 at {url}/as2 as {as2_id}; its AS2 certificate: {as2_cert}")
        click.echo(f"  fulfilment: {fulfilment}; SOM policy: {distributor.som.name}")
        click.echo(f"  1305.29 reports: {distributor.reports_dir}")
        click.echo("  Ctrl-C stops it")

    server.serve_forever(distributor, directory, sock, tick=tick, announce=announce)


@sandbox.group()
def customer() -> None:
    """Customers of the sandbox distributor and their bearer tokens."""


@customer.command("add")
@_DIR
@click.option("--dea", required=True, help="The customer's DEA registration number.")
@click.option("--name", required=True, help="Registrant (business) name.")
@click.option(
    "--class",
    "customer_class",
    default="retail",
    show_default=True,
    type=click.Choice(["retail", "long_term_care", "hospital"]),
    help="Customer class for the SOM policy.",
)
@click.option(
    "--history/--no-history",
    default=True,
    show_default=True,
    help="Seed two years of normal order history (the SOM baseline).",
)
@_DB
@run_cli
def customer_add(
    directory: Path,
    dea: str,
    name: str,
    customer_class: str,
    history: bool,
    database_url: str | None,
) -> None:
    """Register a customer and print its bearer token once (only a hash is kept)."""
    from csos_desktop.sandbox.distributor.customers import add_customer
    from csos_desktop.sandbox.distributor.db import default_url, open_database
    from csos_desktop.sandbox.distributor.seed import seed_history
    from csos_desktop.sandbox.distributor.server import work_dir

    _ensure_ca(directory)
    if not (directory / "root.pem").is_file():
        raise InputError(f"{directory} holds no test CA; run `csos sandbox ca init` first")
    engine = open_database(database_url or default_url(work_dir(directory)))
    added, token = add_customer(engine, dea_number=dea, name=name, customer_class=customer_class)
    rows = seed_history(engine, added.dea_number, today=datetime.now(UTC).date()) if history else 0
    click.echo(
        f"customer {added.dea_number} ({added.name}) added"
        + (f" with {rows} history lines" if rows else ""),
        err=True,
    )
    click.echo("bearer token (shown once; store it in the client's keyring):", err=True)
    click.echo(token)


@sandbox.command("sors-report")
@_DIR
@_DB
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only orders received on or after this day (YYYY-MM-DD).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the CSV (default: DIR/distributor/reports/sors-YYYY-MM-DD.csv).",
)
@run_cli
def sors_report(
    directory: Path, database_url: str | None, since: datetime | None, out: Path | None
) -> None:
    """Write the suspicious orders the SOM held as a SORS report (21 U.S.C. 832, TEST ONLY).

    One CSV row per line of each held order, still held or released with its due
    diligence; the columns and their source are in docs/distributor.md.
    """
    from csos_desktop.fileio import write_atomically
    from csos_desktop.sandbox.distributor import server

    if not (directory / "root.pem").is_file():
        raise InputError(f"{directory} holds no test CA and no distributor")
    distributor = server.open_distributor(directory, database_url=database_url)
    report = distributor.sors_report(since.date() if since else None)
    today = datetime.now(UTC).date()
    target = out or distributor.reports_dir / f"sors-{today.isoformat()}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, report.text.encode("utf-8"))
    click.echo(f"{report.orders} suspicious order(s), {report.rows} row(s): {target}")


@sandbox.command("openapi")
@click.option("--write", is_flag=True, help="Rewrite resources/openapi/distributor.yaml.")
def openapi(write: bool) -> None:
    """Print (or --write) the distributor API's OpenAPI 3.1 spec, generated from the app."""
    from csos_desktop.sandbox.distributor import openapi as spec

    spec.main(["--write"] if write else [])
