"""`csos doctor`: checks an IT admin can run over the phone."""

from __future__ import annotations

import click


@click.command()
def doctor() -> None:
    """Check driver, tokens, certificate, distributor, clock, database."""
    raise click.ClickException("not available yet")
