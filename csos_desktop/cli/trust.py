"""`csos trust ...`: the CA certificates signatures must chain to (the trust store)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.domain.errors import InputError
from csos_desktop.trust.anchors import add_anchor, list_anchors, remove_anchor


@click.group()
def trust() -> None:
    """Trust anchors: the DEA's E-Commerce Root CA and CSOS Sub CA certificates."""


@trust.command("add")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@run_cli
def add(file: Path) -> None:
    """Trust the CA certificate(s) in FILE (PEM or DER)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read {file}: {exc.strerror}.") from exc
    for anchor in add_anchor(data, str(file), now=datetime.now(UTC)):
        row = anchor.to_json()
        click.echo(f"Trusted: {row['subject']}\n  SHA-256: {row['sha256']}")


@trust.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def list_command(as_json: bool) -> None:
    """The anchors in force: subject, SHA-256 fingerprint, validity, where configured."""
    rows = [a.to_json() for a in list_anchors()]
    if as_json:
        click.echo(json.dumps({"anchors": rows}, indent=2))
        return
    if not rows:
        click.echo(
            "No trust anchor is configured: add the DEA's CA certificates with `csos trust add`."
        )
    for r in rows:
        click.echo(
            f"{r['subject']}\n  SHA-256: {r['sha256']}\n"
            f"  Valid:   {str(r['not_before'])[:10]} to {str(r['not_after'])[:10]}\n"
            f"  From:    {r['source']}"
        )


@trust.command("remove")
@click.argument("fingerprint")
@run_cli
def remove(fingerprint: str) -> None:
    """Stop trusting the anchor whose SHA-256 fingerprint starts with FINGERPRINT."""
    gone = remove_anchor(fingerprint)
    click.echo(f"Removed: {gone.to_json()['subject']} ({gone.fingerprint})")
