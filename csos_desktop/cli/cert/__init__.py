"""`csos cert ...`: the CSOS certificate on the token."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from csos_desktop import paths
from csos_desktop.cli.common import run_cli
from csos_desktop.cli.signing import TokenChoice, log_in_or_cancel, open_signing, token_target
from csos_desktop.domain.enrolment import (
    HOLDER_REASONS,
    RENEWAL_WINDOW_DAYS,
    parse_holder_reason,
    renewal_notice,
)
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.revocation import RevocationState, RevocationStatus
from csos_desktop.pki.certfile import load_certificates
from csos_desktop.services.enrol.certificates import (
    CertificatesOnToken,
    ca_client,
    certificates_on_token,
    chosen_ca,
    dea_known_for,
    request_certificate_revocation,
    revocation_status,
)
from csos_desktop.services.signing import SigningIdentity, SigningPurpose
from csos_desktop.services.signing.locations import location_name

#: CKA_LOCAL of the key pair, as `cert show` words it.
KEY_ORIGINS = {
    True: "generated on the token",
    False: "key imported from a file (not generated on the token)",
    None: "origin unknown (no public key object on the token)",
}


@click.group()
def cert() -> None:
    """CSOS certificates."""


def _revocation(
    ident: SigningIdentity, on_token: CertificatesOnToken, trust: Path | None, now: datetime
) -> RevocationStatus:
    chain = on_token.chain(ident)
    stored = paths.chain_file()
    if stored.exists():
        chain = [*chain, *load_certificates(stored)]
    if trust is not None:
        chain = [*chain, *load_certificates(trust)]
    return revocation_status(ident.certificate_der, list(dict.fromkeys(chain)), now=now)


@cert.command("show")
@click.option("--module", help="Path of the PKCS#11 driver (default: detected).")
@click.option("--token", "label", help="Label of the token to use.")
@click.option("--offline", is_flag=True, help="Do not contact the CA for revocation status.")
@click.option(
    "--trust",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="PEM root certificate of the CA (default: the chain saved at enrolment).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def show(
    module: str | None, label: str | None, offline: bool, trust: Path | None, as_json: bool
) -> None:
    """Show the CSOS certificate(s) on the token: DEA number, schedules, expiry, revocation."""
    on_token = certificates_on_token(token_target(module, label, None))
    token_label, identities = on_token.token_label, on_token.identities
    origins = on_token.generated_on_token
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for ident in identities:
        days = ident.days_left(now)
        known = dea_known_for(ident)
        status = (
            RevocationStatus(RevocationState.NOT_CHECKED, "not checked (--offline)")
            if offline
            else _revocation(ident, on_token, trust, now)
        )
        rows.append(
            {
                "id": ident.key_id.hex(),
                "label": ident.label,
                "subject": ident.info.subject,
                "location": location_name(ident),
                "issuer": ident.info.issuer,
                "serial_number": ident.info.serial_number,
                "dea_number": known.number if known else None,
                "dea_number_matches": known.matches if known else None,
                "subject_serial_number": ident.info.subject_serial,
                "dea_number_hash": ident.info.dea_hash.hex() if ident.info.dea_hash else None,
                "schedules": sorted(s.value for s in ident.info.schedules),
                "not_before": ident.info.not_before.isoformat(),
                "not_after": ident.info.not_after.isoformat(),
                "days_left": days,
                "renewal_due": days <= RENEWAL_WINDOW_DAYS,
                "expired": days < 0,
                "renewal_message": renewal_notice(ident.info.not_after, now),
                "revocation": status.to_json(),
                "key_origin": KEY_ORIGINS[origins[ident.key_id]],
            }
        )
    if as_json:
        click.echo(json.dumps({"token": token_label, "certificates": rows}, indent=2))
        return
    if not rows:
        click.echo("No CSOS certificate on this token.")
    for r in rows:
        rev = r["revocation"]
        click.echo(
            f"{r['subject']}\n  Location:   {r['location']}\n  DEA number: {_dea_label(r)}\n"
            f"  Schedules:  {', '.join(r['schedules'])}\n"
            f"  Valid:      {r['not_before'][:10]} to {r['not_after'][:10]} "
            f"({r['days_left']} days left)\n  Id:         {r['id']}\n"
            f"  Key:        {r['key_origin']}\n"
            f"  Revocation: {rev['status']} ({rev['message']})"
        )
        if r["renewal_message"]:
            click.echo(f"  {r['renewal_message']}")
        if rev["status"] == RevocationState.REVOKED.value:
            click.echo(
                "  REVOKED: orders signed with it are rejected. Enrol for a new certificate."
            )
        elif rev["status"] == RevocationState.UNKNOWN.value:
            click.echo(
                "warning: revocation status unknown; suppliers check it themselves.", err=True
            )


def _dea_label(row: dict[str, Any]) -> str:
    if row["dea_number"] is None:
        return "not known here (set it with `csos config set dea_number ...`)"
    verdict = "matches this certificate" if row["dea_number_matches"] else "does not match"
    return f"{row['dea_number']} ({verdict})"


@cert.command("revoke-request")
@click.option(
    "--reason",
    required=True,
    help=f"Why: {', '.join(HOLDER_REASONS)} (lost or stolen token: keyCompromise).",
)
@click.option("--ca-url", help="The CA's address (default: the one you enrolled with).")
@click.option(
    "--ca-bundle",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="PEM root certificate(s) to trust for the CA's TLS.",
)
@click.option("--cert-id", help="CKA_ID (hex) of the certificate, when the token holds several.")
@click.option("--yes", is_flag=True, help="Confirm: revocation cannot be undone.")
@click.option("--module", help="Path of the PKCS#11 driver (default: detected).")
@click.option("--token", "label", help="Label of the token to use.")
@click.option("--pin-stdin", is_flag=True, help="Read the PIN from a line of standard input.")
@run_cli
def revoke_request(
    reason: str,
    ca_url: str | None,
    ca_bundle: Path | None,
    cert_id: str | None,
    yes: bool,
    module: str | None,
    label: str | None,
    pin_stdin: bool,
) -> None:
    """Ask the CA to revoke your certificate (report loss or compromise within 24 hours,
    21 CFR 1311.30(e)). Signed with the certificate's key; a lost token: call the CA."""
    reason = parse_holder_reason(reason)
    url, bundle = chosen_ca(ca_url, ca_bundle)
    if not url:
        raise InputError("Give --ca-url: no CA is recorded from an earlier enrolment.")
    if not yes:
        if not sys.stdin.isatty():
            raise InputError("Revocation cannot be undone: add --yes to confirm.")
        click.confirm(
            "Revocation cannot be undone. Ask the CA to revoke this certificate?",
            abort=True,
            err=True,
        )
    token = TokenChoice(module, label, cert_id, pin_stdin=pin_stdin)
    with (
        ca_client(url, bundle) as client,
        open_signing(SigningPurpose.CERTIFICATE, token) as session,
    ):
        log_in_or_cancel(session, token, "The revocation request")
        receipt = request_certificate_revocation(session, client, reason)
    click.echo(
        f"The CA revoked certificate {receipt.serial_number} ({receipt.reason}) at "
        f"{receipt.revoked_at}. Enrol for a new certificate before signing again."
    )
