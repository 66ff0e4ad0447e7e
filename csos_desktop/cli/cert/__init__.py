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
from csos_desktop.cli.signing import log_in_or_cancel, open_signing, token_target
from csos_desktop.enrol.est_client import EstClient
from csos_desktop.enrol.records import Records
from csos_desktop.enrol.renewal import renewal_notice
from csos_desktop.enrol.revocation import (
    HOLDER_REASONS,
    parse_holder_reason,
    request_revocation,
)
from csos_desktop.enrol.status import RevocationState, RevocationStatus, check_revocation
from csos_desktop.errors import InputError
from csos_desktop.services.signing import SigningPurpose
from csos_desktop.services.signing.known_dea import known_dea
from csos_desktop.services.signing.locations import location_name
from csos_desktop.token.certs import TokenCertificate, read_certificates
from csos_desktop.token.identity import (
    RENEWAL_WINDOW_DAYS,
    SigningIdentity,
    chain_for,
    load_certificates,
    signing_identities,
    token_session,
)
from csos_desktop.token.key_import import key_generated_on_token

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
    ident: SigningIdentity, token_certs: list[TokenCertificate], trust: Path | None, now: datetime
) -> RevocationStatus:
    chain = chain_for(
        ident, chain_file=None, token_certs=token_certs, stored_chain=paths.chain_file()
    )
    stored = paths.chain_file()
    if stored.exists():
        chain = [*chain, *load_certificates(stored)]
    if trust is not None:
        chain = [*chain, *load_certificates(trust)]
    record = Records().ca()
    return check_revocation(
        ident.certificate_der,
        list(dict.fromkeys(chain)),
        endpoints=record.endpoints if record else None,
        ca_bundle=record.bundle_path if record else None,
        now=now,
    )


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
    with token_session(token_target(module, label, None)) as ts:
        ts.open_public()
        token_label = ts.info.label
        token_certs = read_certificates(ts)
        identities = signing_identities(token_certs)
        origins = {i.key_id: key_generated_on_token(ts, i.key_id) for i in identities}
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for ident in identities:
        days = ident.days_left(now)
        known = known_dea(ident)
        status = (
            RevocationStatus(RevocationState.NOT_CHECKED, "not checked (--offline)")
            if offline
            else _revocation(ident, token_certs, trust, now)
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
    record = Records().ca()
    url = ca_url or (record.ca_url if record else None)
    if not url:
        raise InputError("Give --ca-url: no CA is recorded from an earlier enrolment.")
    bundle = ca_bundle or (record.bundle_path if record and not ca_url else None)
    if not yes:
        if not sys.stdin.isatty():
            raise InputError("Revocation cannot be undone: add --yes to confirm.")
        click.confirm(
            "Revocation cannot be undone. Ask the CA to revoke this certificate?",
            abort=True,
            err=True,
        )
    with (
        EstClient(url, ca_bundle=bundle) as client,
        open_signing(SigningPurpose.CERTIFICATE, module, label, cert_id, None) as session,
    ):
        log_in_or_cancel(session, pin_stdin, "The revocation request")
        receipt = request_revocation(session.ts, client, session.identity, session.chain, reason)
    click.echo(
        f"The CA revoked certificate {receipt.serial_number} ({receipt.reason}) at "
        f"{receipt.revoked_at}. Enrol for a new certificate before signing again."
    )
