"""`csos sandbox ...`: the reference distributor and test CA (for demos and tests)."""

from __future__ import annotations

import click


@click.group()
def sandbox() -> None:
    """Test CA and reference distributor for demos and tests (never for real orders)."""
