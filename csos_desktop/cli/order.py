"""`csos order ...`: sign and verify CSOS orders."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click
from asn1crypto import x509 as asn1_x509

from csos_desktop import paths
from csos_desktop.cli.common import run_cli
from csos_desktop.cli.terminal import TerminalInteraction
from csos_desktop.domain.canonical import MalformedDocument
from csos_desktop.domain.order import Order, parse_order_input
from csos_desktop.errors import InputError
from csos_desktop.pki.chain import load_crls
from csos_desktop.pki.supplier_check import verify_order
from csos_desktop.services.identity import (
    chain_for,
    choose_identity,
    load_certificates,
    signing_identities,
)
from csos_desktop.services.interaction import log_in
from csos_desktop.services.order_signing import OrderSigningSession, precheck
from csos_desktop.services.token_access import open_token
from csos_desktop.token.certs import read_certificates
from csos_desktop.token.session import TokenSession


@click.group()
def order() -> None:
    """CSOS orders (electronic DEA Form 222)."""


def read_order_input(path: Path, now: datetime) -> Order:
    """ORDER.json as the CLI accepts it; errors name the field and the rule."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedDocument(f"{path} is not valid JSON ({exc}).") from exc
    if not isinstance(data, dict):
        raise MalformedDocument(f"{path} must hold one JSON object (an order).")
    return parse_order_input(data, now=now)


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise MalformedDocument(f"the order repeats the key(s) {', '.join(dupes)}")
    return dict(pairs)


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@order.command("sign")
@click.argument("order_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--module", help="Path of the PKCS#11 driver (default: detected).")
@click.option("--token", "label", help="Label of the token to use.")
@click.option("--cert-id", help="CKA_ID (hex) of the certificate, when the token holds several.")
@click.option(
    "--chain",
    "chain_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="PEM file of CA certificates to include (default: from the token or enrolment).",
)
@click.option(
    "--pin-stdin", is_flag=True, help="Read the PIN from the first line of standard input."
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for <order_id>.json (the signed bytes) and <order_id>.p7s.",
)
@run_cli
def sign(
    order_file: Path,
    module: str | None,
    label: str | None,
    cert_id: str | None,
    chain_file: Path | None,
    pin_stdin: bool,
    out_dir: Path,
) -> None:
    """Validate ORDER_FILE, sign it on the token and write the signed order."""
    now = datetime.now(UTC)
    parsed = read_order_input(order_file, now)
    _, tok = open_token(module, label)
    with TokenSession(tok) as ts:
        ts.open_public()
        token_certs = read_certificates(ts)
        identity = choose_identity(signing_identities(token_certs), cert_id)
        precheck(parsed, identity, now)  # before the PIN: nothing to sign if this fails
        chain = chain_for(
            identity,
            chain_file=chain_file,
            token_certs=token_certs,
            stored_chain=paths.chain_file(),
        )
        log_in(ts, TerminalInteraction(pin_from_stdin=pin_stdin))
        signed = OrderSigningSession(ts, identity, chain).sign(parsed)
    out_dir.mkdir(parents=True, exist_ok=True)
    doc_path = out_dir / f"{signed.order.order_id}.json"
    sig_path = out_dir / f"{signed.order.order_id}.p7s"
    write_atomically(doc_path, signed.document)
    write_atomically(sig_path, signed.signature)
    click.echo(
        f"Signed order {signed.order.order_number} ({len(signed.order.lines)} lines) "
        f"as {identity.info.subject}, DEA {identity.info.dea_number}."
    )
    click.echo(f"  document:  {doc_path}\n  signature: {sig_path}")
    if not chain:
        click.echo(
            "warning: no CA chain was included; the distributor needs the issuing CA "
            "(give --chain).",
            err=True,
        )


@order.command("verify")
@click.argument("document", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("signature", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--trust",
    "trust_file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="PEM file of trusted root certificate(s).",
)
@click.option(
    "--crl",
    "crl_files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="CRL file (PEM or DER); repeat for each CA.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def verify(
    document: Path, signature: Path, trust_file: Path, crl_files: tuple[Path, ...], as_json: bool
) -> None:
    """Check a signed order as a supplier must (21 CFR 1305.22). Exit 0 accepted, 1 rejected."""
    roots = [asn1_x509.Certificate.load(der) for der in load_certificates(trust_file)]
    try:
        crls = load_crls([p.read_bytes() for p in crl_files])
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    result = verify_order(
        document.read_bytes(),
        signature.read_bytes(),
        trust_roots=roots,
        crls=crls,
        now=datetime.now(UTC),
    )
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        if result.accepted:
            o, s = result.order, result.signer
            assert o is not None and s is not None
            click.echo(
                f"ACCEPTED: order {o.order_number} signed by {s.subject} "
                f"(DEA {s.dea_number}) on {result.signing_time:%Y-%m-%d %H:%M} UTC."
            )
        else:
            click.echo("REJECTED:")
            for f in result.findings:
                click.echo(f"  {f.reason.value}: {f.message}")
        for w in result.warnings:
            click.echo(f"warning: {w}", err=True)
    raise SystemExit(0 if result.accepted else 1)
