"""`csos audit ...`: the tamper-evident audit log."""

from __future__ import annotations

import click


@click.group()
def audit() -> None:
    """The audit log of every signature, receipt and change."""
