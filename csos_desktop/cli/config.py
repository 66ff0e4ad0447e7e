"""`csos config ...`: effective configuration and where each value comes from."""

from __future__ import annotations

import click


@click.group()
def config() -> None:
    """Configuration (user settings and the machine policy set by IT)."""
