"""`csos rx pharmacies|receive|sign-received|export`: EPCS on NCPDP SCRIPT.

The prescriber chooses the patient's pharmacy from the network's directory
(`csos rx sign-queued --pharmacy NCPDP_ID`); the pharmacy receives, verifies and
archives (`csos rx receive`), signs a record that came with the indicator only
(`csos rx sign-received`), and exports what it keeps (`csos rx export`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from asn1crypto import x509 as asn1_x509

from csos_desktop import paths
from csos_desktop.cli.common import run_cli
from csos_desktop.cli.signing import TokenChoice, open_signing, token_options
from csos_desktop.cli.verifying import load_crl_files, trust_roots
from csos_desktop.pki.certfile import load_certificates
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.rx.network import directory, network_client, receive_from_server
from csos_desktop.services.rx.receive import (
    PharmacyTrust,
    Received,
    fetched_revocation,
    fixed_revocation,
    receive,
    sign_received,
)
from csos_desktop.services.signing import SigningPurpose

url_option = click.option("--url", help="The network / distributor URL (default: configured).")


@click.command("pharmacies")
@url_option
@run_cli
def pharmacies(url: str | None) -> None:
    """The network's pharmacy directory: NCPDP ID, NPI, name and address."""
    with network_client(url) as client:
        for p in directory(client):
            a = p.address
            click.echo(
                f"{p.ncpdp_id}  NPI {p.npi}  {p.name}, {a.street}, {a.city}, {a.state} "
                f"{a.postal_code}"
            )


def _trust(
    trust_file: Path | None,
    chain_files: tuple[Path, ...],
    crl_files: tuple[Path, ...],
    offline: bool,
) -> PharmacyTrust:
    intermediates = [
        asn1_x509.Certificate.load(der)
        for f in (*chain_files, *([paths.chain_file()] if paths.chain_file().exists() else []))
        for der in load_certificates(f)
    ]
    revocation = (
        fixed_revocation(load_crl_files(crl_files)) if crl_files else fetched_revocation(offline)
    )
    return PharmacyTrust(trust_roots(trust_file), intermediates, revocation)


def _show(got: Received, as_json: bool) -> None:
    v = got.verification
    if as_json:
        click.echo(json.dumps({"message_id": got.record.message_id, **v.to_json()}))
        return
    head = {
        "verified": "VERIFIED ON RECEIPT",
        "not-verified": "NOT VERIFIED - do not dispense as sent",
        "indicator-only": "SIGNING INDICATOR ONLY - sign the record: csos rx sign-received "
        f"{got.record.message_id}",
    }[v.verdict.value]
    click.echo(f"Message {got.record.message_id} ({got.record.source}): {head}")
    if v.newrx is not None:
        for line in v.newrx.prescription.review_lines():
            click.echo(f"  {line}")
        if v.signer is not None:
            click.echo(f"  Signed by:      {v.signer.subject}")
    for f in v.findings:
        click.echo(f"  {f.code}: {f.message}")
    for w in v.warnings:
        click.echo(f"warning: {w}", err=True)


@click.command("receive")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--ncpdp-id", required=True, help="This pharmacy's NCPDP provider ID.")
@click.option("--server", is_flag=True, help="Fetch the messages waiting in the network mailbox.")
@url_option
@click.option("--trust", "trust_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--chain",
    "chain_files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Intermediate CA certificates (PEM) of practitioners' certificates; repeat.",
)
@click.option(
    "--crl",
    "crl_files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Check revocation against these CRL files instead of fetching.",
)
@click.option("--offline", is_flag=True, help="Use only cached revocation data.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message.")
@run_cli
def receive_cmd(
    files: tuple[Path, ...],
    ncpdp_id: str,
    server: bool,
    url: str | None,
    trust_file: Path | None,
    chain_files: tuple[Path, ...],
    crl_files: tuple[Path, ...],
    offline: bool,
    as_json: bool,
) -> None:
    """Receive NewRx messages (pharmacy): verify, keep with the verdict, answer.

    Exit 0 when every message was verified (or awaits the pharmacy's signature), 1 otherwise.
    """
    if not files and not server:
        raise click.UsageError("Give NewRx files, or --server to fetch the mailbox.")
    trust = _trust(trust_file, chain_files, crl_files, offline)
    now = datetime.now(UTC)
    received: list[Received] = []
    with open_store() as store:
        for f in files:
            received.append(
                receive(
                    store,
                    f.read_bytes(),
                    own_ncpdp_id=ncpdp_id,
                    source=f.name,
                    trust=trust,
                    now=now,
                )
            )
        if server:
            with network_client(url) as client:
                received += receive_from_server(
                    store, client, own_ncpdp_id=ncpdp_id, trust=trust, now=now
                )
    for got in received:
        _show(got, as_json)
    if not received and not as_json:
        click.echo("No message waiting.")
    raise SystemExit(
        0 if all(g.verification.verdict.value != "not-verified" for g in received) else 1
    )


@click.command("sign-received")
@click.argument("message_id", type=int)
@token_options
@run_cli
def sign_received_cmd(message_id: int, token: TokenChoice) -> None:
    """Sign a received prescription that carried only the signing indicator (1311.210(c))."""
    with open_store() as store, open_signing(SigningPurpose.ARCHIVE_MANIFEST, token) as session:
        record = sign_received(store, message_id, session, token.terminal(), now=datetime.now(UTC))
    click.echo(f"Message {message_id} (prescription {record.rx_id}) signed by the pharmacy.")
