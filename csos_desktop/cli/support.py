"""`csos support-bundle`: logs and diagnostics for support, without secrets."""

from __future__ import annotations

import click


@click.command("support-bundle")
def support_bundle() -> None:
    """Write a zip of logs, doctor output and configuration (no PINs, credentials or codes)."""
    raise click.ClickException("not available yet")
