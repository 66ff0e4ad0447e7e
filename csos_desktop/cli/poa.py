"""`csos poa`: the power-of-attorney registry (21 CFR 1305.05, 1311.45).

The registrant (who signed the latest registration application) records themself,
then grants and revokes powers of attorney signed on their own token. Orders are
signed only by the registrant or a current attorney-in-fact.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.signing import TokenChoice, logged_in_signer, store_and_session, token_options
from csos_desktop.fileio import write_atomically
from csos_desktop.pki.certfile import load_certificates
from csos_desktop.services.orders import poa as poa_svc
from csos_desktop.services.pharmacy_store import open_store


@click.group()
def poa() -> None:
    """Power of attorney to sign schedule I/II orders (21 CFR 1305.05)."""


@poa.command("registrant")
@click.option(
    "--name",
    required=True,
    help="Full name of the person who signed the latest registration application.",
)
@click.option("--dea", "dea_number", help="The registration's DEA number (default: as enrolled).")
@token_options
@run_cli
def registrant(
    name: str,
    dea_number: str | None,
    token: TokenChoice,
) -> None:
    """Record the registrant and the certificate on their token (no PIN needed)."""
    with store_and_session(token) as (store, session):
        reg = poa_svc.record_registrant(store, session.identity, name, dea_number=dea_number)
    click.echo(
        f"Registrant of DEA {reg.dea_number}: {reg.name} ({len(reg.certificates)} "
        "certificate(s)). From now on only the registrant and current attorneys-in-fact "
        "sign its orders."
    )


@poa.command("grant")
@click.option("--holder", "holder_name", required=True, help="Full name of the attorney-in-fact.")
@click.option(
    "--holder-cert",
    "holder_certs",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The attorney's CSOS certificate (PEM or DER); repeat for several.",
)
@click.option("--address", required=True, help="The registrant's address, as registered.")
@click.option("--place", required=True, help="Where it is signed (city, state).")
@token_options
@run_cli
def grant(
    holder_name: str,
    holder_certs: tuple[Path, ...],
    address: str,
    place: str,
    token: TokenChoice,
) -> None:
    """Grant a power of attorney (1305.05(c) form), signed on the registrant's token.

    It is pending until the attorney-in-fact accepts it on their own token
    (`csos poa accept`)."""
    certs = [der for path in holder_certs for der in load_certificates(path)]
    with store_and_session(token) as (store, session):
        reg = poa_svc.check_registrant(store, session.identity)
        poa_svc.holder_fingerprints(reg.dea_number, certs)
        rec = poa_svc.grant(
            store,
            session.identity,
            logged_in_signer(session, token, "The power of attorney"),
            holder_name=holder_name,
            holder_certificates=certs,
            registrant_address=address,
            place=place,
        )
    click.echo(
        f"Power of attorney {rec.poa_id} granted to {rec.holder_name} for DEA "
        f"{rec.dea_number} ({len(rec.certificates)} certificate(s)). It is pending "
        f"acceptance: {rec.holder_name} accepts it with their own token and PIN "
        f"(`csos poa accept {rec.poa_id[:8]} --token ...`)."
    )


@poa.command("accept")
@click.argument("poa_ref")
@token_options
@run_cli
def accept(poa_ref: str, token: TokenChoice) -> None:
    """The attorney-in-fact accepts a power of attorney, signing the 1305.05(c) affirmation
    on their own token (a certificate the grant names) with their PIN."""
    from csos_desktop.services.interaction import Cancelled
    from csos_desktop.services.orders.poa_acceptance import accept as accept_poa

    with store_and_session(token) as (store, session):
        try:
            rec = accept_poa(store, session, token.terminal(), poa_ref)
        except Cancelled:
            raise Cancelled("The acceptance was cancelled; nothing was changed.") from None
    click.echo(
        f"{rec.holder_name} accepted power of attorney {rec.poa_id[:8]} at {rec.accepted_at}; "
        f"they may now sign schedule I/II orders for DEA {rec.dea_number}."
    )


@poa.command("revoke")
@click.argument("poa_ref")
@click.option("--reason", required=True, help="Why (e.g. left the pharmacy); signed and kept.")
@click.option("--place", required=True, help="Where it is signed (city, state).")
@click.option(
    "--ca-request",
    "ca_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the request for the CSOS CA (1311.45) to this file.",
)
@token_options
@run_cli
def revoke(
    poa_ref: str,
    reason: str,
    place: str,
    ca_out: Path | None,
    token: TokenChoice,
) -> None:
    """Revoke a power of attorney (1305.05(d)); the holder can no longer sign orders."""
    with store_and_session(token) as (store, session):
        reg = poa_svc.check_registrant(store, session.identity)
        poa_svc.check_revocable(store, poa_ref, reg)
        sign = logged_in_signer(session, token, "The revocation")
        rec = poa_svc.revoke(store, session.identity, sign, poa_ref, reason=reason, place=place)
        request = poa_svc.ca_notice(store, rec.poa_id) if ca_out else None
    if ca_out and request:
        write_atomically(ca_out, request)
    click.echo(f"The power of attorney of {rec.holder_name} is revoked ({rec.revoked_at}).")
    click.echo(
        "Tell the CSOS Certification Authority within 6 hours that their authority ended "
        "(21 CFR 1311.45)"
        + (f": send {ca_out}" if ca_out else f": `csos poa ca-request {rec.poa_id[:8]} --out F`")
        + f", then record it with `csos poa ca-notified {rec.poa_id[:8]}`."
    )


@poa.command("ca-request")
@click.argument("poa_ref")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@run_cli
def ca_request_cmd(poa_ref: str, out: Path) -> None:
    """Write the request to the CSOS CA for a revoked power of attorney (1311.45)."""
    with open_store() as store:
        write_atomically(out, poa_svc.ca_notice(store, poa_ref))
    click.echo(str(out))


@poa.command("ca-notified")
@click.argument("poa_ref")
@run_cli
def ca_notified(poa_ref: str) -> None:
    """Record that the CSOS CA was told (now); a notice after 6 hours is flagged late."""
    with open_store() as store:
        rec = poa_svc.mark_ca_notified(store, poa_ref)
    click.echo(f"CA notice for {rec.holder_name} recorded at {rec.ca_notified_at}.")


@poa.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def list_(as_json: bool) -> None:
    """The registrant and every power of attorney, current and revoked."""
    with open_store() as store:
        listing = poa_svc.poa_listing(store)
    grants = listing.grants
    if as_json:
        click.echo(
            json.dumps(
                {
                    "registrants": [
                        {
                            "dea_number": r.dea_number,
                            "name": r.name,
                            "certificates_sha256": sorted(r.certificates),
                        }
                        for r in listing.registrants
                    ],
                    "powers_of_attorney": [g.to_json() for g in grants],
                },
                indent=2,
            )
        )
        return
    for r in listing.registrants:
        click.echo(f"DEA {r.dea_number}: registrant {r.name}")
    for g in grants:
        state = {
            "current": f"current (accepted {g.accepted_at})",
            "pending-acceptance": "PENDING ACCEPTANCE by the attorney",
        }.get(g.status, f"revoked {g.revoked_at}")
        ca = ""
        if not g.current:
            ca = f"; CA told {g.ca_notified_at}" if g.ca_notified_at else "; CA NOT YET TOLD"
        click.echo(f"  {g.poa_id[:8]}  {g.holder_name:<28} granted {g.granted_on}  {state}{ca}")
    if not grants:
        click.echo("No powers of attorney.")
