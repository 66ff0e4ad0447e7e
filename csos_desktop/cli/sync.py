"""`csos sync`: send signed orders and receipts, pull statuses from the distributor."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.domain.errors import InputError
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.sync.service import save_credential, settings_from_config, sync_worker

if TYPE_CHECKING:
    from csos_desktop.services.sync.service import SyncReport


def _print(report: SyncReport) -> None:
    for order_id, status in report.updated:
        click.echo(f"  {order_id[:8]}  now {status}")
    for outcome in report.statements:
        click.echo(f"  {outcome.describe()}")
    click.echo(
        f"sent {len(report.sent)}, refused {len(report.refused)}, "
        f"status updates {len(report.updated)}"
    )
    if report.stopped:
        click.echo(f"stopped early (the rest stays queued): {report.stopped}", err=True)


@click.group(invoke_without_command=True)
@click.option("--once", is_flag=True, help="One pass, then exit (default: repeat).")
@click.option("--url", help="Distributor API address (default: configuration).")
@click.option(
    "--ca-bundle",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="CA certificates for the distributor's TLS (default: system store).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (with --once).")
@click.pass_context
@run_cli
def sync(
    ctx: click.Context, once: bool, url: str | None, ca_bundle: Path | None, as_json: bool
) -> None:
    """Synchronise with the distributor: outbox out, statuses in."""
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_from_config(url, ca_bundle)
    with open_store() as store, sync_worker(store, settings) as worker:
        while True:
            report = worker.run_once()
            if as_json:
                click.echo(json.dumps(report.to_json(), indent=2))
            else:
                _print(report)
            if once:
                raise SystemExit(1 if report.stopped else 0)
            sys.stdout.flush()
            time.sleep(settings.interval_seconds)


@sync.command("login")
@click.option("--url", help="Distributor API address (default: configuration).")
@click.option("--token-stdin", is_flag=True, help="Read the token from standard input.")
@run_cli
def login(url: str | None, token_stdin: bool) -> None:
    """Store the distributor's bearer token in the system keyring."""
    settings_from_config(url).require_url()  # no address: say so before asking the token
    token = (
        sys.stdin.readline().strip()
        if token_stdin
        else click.prompt("Distributor token", hide_input=True, err=True)
    )
    if not token:
        raise InputError("No token given.")
    address, where = save_credential(url, token)
    click.echo(f"Credential for {address} stored in {where}.")
