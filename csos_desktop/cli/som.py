"""`csos som ...`: Suspicious Order Monitoring checks."""

from __future__ import annotations

import click


@click.group()
def som() -> None:
    """Suspicious Order Monitoring: size, frequency and pattern checks."""
