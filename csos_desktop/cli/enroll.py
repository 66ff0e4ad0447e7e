"""`csos enroll ...`: getting a CSOS certificate onto the token."""

from __future__ import annotations

import click


@click.group()
def enroll() -> None:
    """Enrol for a CSOS certificate (key generated on the token)."""
