"""`csos sync`: send signed orders and receipts, pull statuses from the distributor."""

from __future__ import annotations

import click


@click.command()
@click.option("--once", is_flag=True, help="One pass, then exit.")
def sync(once: bool) -> None:
    """Synchronise with the distributor."""
    raise click.ClickException("not available yet")
