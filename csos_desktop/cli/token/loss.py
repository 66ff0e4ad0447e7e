"""`csos token report-lost`, `loss-status`, `loss-sent`: a lost or stolen token, within 24 hours."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.token import token
from csos_desktop.domain.errors import InputError
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.tokens.loss import (
    grants_revoked_with,
    loss_reports,
    mark_sent,
    report_loss,
)


def _when(text: str | None, now: datetime) -> datetime:
    if text is None:
        return now
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"--discovered must be a date and time like 2026-11-28T17:30 ({text!r})."
        ) from None
    # A time typed without a zone is the computer's local time.
    return (value if value.tzinfo else value.astimezone()).astimezone(UTC)


@token.command("report-lost")
@click.option(
    "--discovered", help="When the loss was discovered (default: now), e.g. 2026-11-28T17:30."
)
@click.option("--serial", help="Serial number of the certificate (default: the one known here).")
@click.option(
    "--practitioner",
    metavar="USER",
    help="The prescriber whose token it is: their permission to sign is revoked at once.",
)
@run_cli
def report_lost(discovered: str | None, serial: str | None, practitioner: str | None) -> None:
    """Record a lost or stolen token and print what to send to the CA (21 CFR 1311.30(e)).

    A prescriber's permission to sign is revoked with the report (21 CFR 1311.125(d)(1)).
    """
    now = datetime.now(UTC)
    with open_store() as store:
        report = report_loss(
            store,
            discovered_at=_when(discovered, now),
            now=now,
            serial=serial,
            practitioner=practitioner.strip().lower() if practitioner else None,
        )
        revoked = grants_revoked_with(store, report.report_id)
    click.echo(report.deadline_text(now))
    for grant_id in revoked:
        click.echo(f"Permission #{grant_id} to sign prescriptions is revoked (1311.125(d)(1)).")
    click.echo("\nSend this to your certificate authority (or read it out on the phone):\n")
    click.echo(report.text_for_ca())
    click.echo(
        "\nIf the certificate is still on a token you hold, the signed request is quicker: "
        "`csos cert revoke-request --reason keyCompromise`.\n"
        f"Then: `csos token loss-sent {report.report_id} --how phone|email|signed-request`."
    )


@token.command("loss-status")
@run_cli
def loss_status() -> None:
    """Lost-token reports and the 24-hour deadline of each until it is marked as sent."""
    now = datetime.now(UTC)
    with open_store() as store:
        reports = loss_reports(store)
    if not reports:
        click.echo("No lost-token report.")
    for r in reports:
        click.echo(r.deadline_text(now))


@token.command("loss-sent")
@click.argument("report_id", type=int)
@click.option(
    "--how",
    type=click.Choice(["phone", "email", "signed-request", "other"]),
    required=True,
    help="How the CA was told.",
)
@run_cli
def loss_sent(report_id: int, how: str) -> None:
    """Mark a lost-token report as sent to the CA (stops the deadline reminder)."""
    now = datetime.now(UTC)
    with open_store() as store:
        report = mark_sent(store, report_id, now=now, how=how)
    click.echo(report.deadline_text(now))
