"""`csos sync`: send signed orders and receipts, pull statuses from the distributor."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from csos_desktop import paths
from csos_desktop.cli.common import run_cli
from csos_desktop.config import load_config
from csos_desktop.errors import InputError
from csos_desktop.store import open_store
from csos_desktop.sync.client import DistributorClient
from csos_desktop.sync.credentials import load_token, save_token
from csos_desktop.sync.worker import CursorFile, SyncReport, SyncWorker


def _distributor(url: str | None, ca_bundle: Path | None) -> tuple[str, Path | None]:
    config = load_config()
    url = url or config.text("distributor_url")
    if not url:
        raise InputError(
            "No distributor is configured: give --url or set it with "
            "'csos config set distributor_url https://...'."
        )
    bundle = ca_bundle or (Path(b) if (b := config.text("ca_bundle")) else None)
    return url, bundle


def _print(report: SyncReport) -> None:
    for order_id, status in report.updated:
        click.echo(f"  {order_id[:8]}  now {status}")
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
    url, bundle = _distributor(url, ca_bundle)
    interval = 60 * float(load_config().get("sync_interval_minutes") or 5)
    with open_store() as store, DistributorClient(url, load_token(url), ca_bundle=bundle) as client:
        worker = SyncWorker(store, client, CursorFile(paths.data_dir() / "sync-cursor.json", url))
        while True:
            report = worker.run_once()
            if as_json:
                click.echo(json.dumps(report.to_json(), indent=2))
            else:
                _print(report)
            if once:
                raise SystemExit(1 if report.stopped else 0)
            sys.stdout.flush()
            time.sleep(interval)


@sync.command("login")
@click.option("--url", help="Distributor API address (default: configuration).")
@click.option("--token-stdin", is_flag=True, help="Read the token from standard input.")
@run_cli
def login(url: str | None, token_stdin: bool) -> None:
    """Store the distributor's bearer token in the system keyring."""
    url, _ = _distributor(url, None)
    token = (
        sys.stdin.readline().strip()
        if token_stdin
        else click.prompt("Distributor token", hide_input=True, err=True)
    )
    if not token:
        raise InputError("No token given.")
    where = save_token(url, token)
    click.echo(f"Credential for {url} stored in {where}.")
