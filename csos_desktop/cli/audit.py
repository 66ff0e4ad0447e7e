"""`csos audit ...`: the tamper-evident audit log."""

from __future__ import annotations

import json

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.store import open_store


@click.group()
def audit() -> None:
    """The audit log of every signature, receipt and change."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def verify(as_json: bool) -> None:
    """Check the hash chain and the database. Exit 0 intact, 1 if anything is broken."""
    with open_store() as store:
        report = store.audit.verify()
        problems = store.integrity_errors()
    if as_json:
        click.echo(json.dumps({**report.to_json(), "database_problems": problems}, indent=2))
    elif report.broken is None and not problems:
        click.echo(f"Audit log intact: {report.entries} entries, newest hash {report.head_sha256}.")
    else:
        if report.broken is not None:
            click.echo(
                f"BROKEN at entry {report.broken.entry_id}: {report.broken.problem}. "
                f"The {report.entries} entries before it are intact."
            )
        for p in problems:
            click.echo(f"DATABASE: {p}")
    raise SystemExit(0 if report.intact and not problems else 1)


@audit.command("list")
@click.option("--order", "order_ref", help="Only entries about this order (id or number).")
@click.option("--after", type=int, default=0, help="Only entries after this entry id.")
@click.option("--limit", type=int, help="At most this many entries.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def list_(order_ref: str | None, after: int, limit: int | None, as_json: bool) -> None:
    """Audit entries, oldest first."""
    with open_store() as store:
        order_id = None if order_ref is None else store.orders.resolve(order_ref).order_id
        entries = list(store.audit.entries(order_id=order_id, after=after, limit=limit))
    if as_json:
        click.echo(json.dumps([e.to_json() for e in entries], indent=2))
        return
    for e in entries:
        details = ", ".join(f"{k}={v}" for k, v in sorted(e.details.items()))
        subject = f" order {e.order_id}" if e.order_id else ""
        click.echo(f"[{e.entry_id}] {e.at} {e.event}{subject} {details}".rstrip())
