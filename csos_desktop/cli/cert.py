"""`csos cert ...`: the CSOS certificate on the token."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.services.identity import RENEWAL_WINDOW_DAYS, signing_identities
from csos_desktop.services.token_access import open_token
from csos_desktop.token.certs import read_certificates
from csos_desktop.token.session import TokenSession


@click.group()
def cert() -> None:
    """CSOS certificates."""


@cert.command("show")
@click.option("--module", help="Path of the PKCS#11 driver (default: detected).")
@click.option("--token", "label", help="Label of the token to use.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def show(module: str | None, label: str | None, as_json: bool) -> None:
    """Show the CSOS certificate(s) on the token: DEA number, schedules, expiry."""
    _, tok = open_token(module, label)
    with TokenSession(tok) as ts:
        ts.open_public()
        identities = signing_identities(read_certificates(ts))
    now = datetime.now(UTC)
    rows = []
    for ident in identities:
        days = ident.days_left(now)
        rows.append({
            "id": ident.key_id.hex(),
            "label": ident.label,
            "subject": ident.info.subject,
            "issuer": ident.info.issuer,
            "serial_number": ident.info.serial_number,
            "dea_number": ident.info.dea_number,
            "schedules": sorted(s.value for s in ident.info.schedules),
            "not_before": ident.info.not_before.isoformat(),
            "not_after": ident.info.not_after.isoformat(),
            "days_left": days,
            "renewal_due": days <= RENEWAL_WINDOW_DAYS,
            "expired": days < 0,
        })
    if as_json:
        click.echo(json.dumps({"token": tok.label.strip(), "certificates": rows}, indent=2))
        return
    if not rows:
        click.echo("No CSOS certificate on this token.")
    for r in rows:
        click.echo(f"{r['subject']}\n  DEA number: {r['dea_number']}\n"
                   f"  Schedules:  {', '.join(r['schedules'])}\n"
                   f"  Valid:      {r['not_before'][:10]} to {r['not_after'][:10]} "
                   f"({r['days_left']} days left)\n  Id:         {r['id']}")
        if r["expired"]:
            click.echo("  EXPIRED: orders signed with it will be rejected.")
        elif r["renewal_due"]:
            click.echo(f"  Renew now: it expires within {RENEWAL_WINDOW_DAYS} days (21 CFR 1311.40).")
