"""`csos crl ...`: the revocation data fetched from the CAs' distribution points."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from asn1crypto import x509 as asn1_x509

from csos_desktop import paths
from csos_desktop.cli.common import run_cli
from csos_desktop.domain.errors import InputError
from csos_desktop.services.context import current
from csos_desktop.trust.anchors import read_pem_certificates
from csos_desktop.trust.crl_cache import CrlUnreadable
from csos_desktop.trust.fetch import FetchFailed
from csos_desktop.trust.revocation import RevocationSource


@click.group()
def crl() -> None:
    """Certificate revocation lists, fetched and cached until their next update."""


def _source() -> RevocationSource:
    return RevocationSource()


def _pool() -> list[asn1_x509.Certificate]:
    """The anchors and the saved CA chain: where a cached CRL's issuer must chain to."""
    certs = current().trust_anchors()
    chain = paths.chain_file()
    if chain.exists():
        certs += [
            asn1_x509.Certificate.load(d)
            for d in read_pem_certificates(chain.read_bytes(), str(chain))
        ]
    return certs


@crl.command("refresh")
@click.argument(
    "certificates", nargs=-1, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@run_cli
def refresh(certificates: tuple[Path, ...]) -> None:
    """Fetch again every cached CRL, and those named by the trust anchors, the saved CA
    chain and the CERTIFICATES given (PEM), whatever their next update says. Only for
    certificates that chain to a configured trust anchor."""
    now = datetime.now(UTC)
    source = _source()
    anchors = current().trust_anchors()
    pool = _pool()
    certs = list(pool)
    for f in certificates:
        certs += [
            asn1_x509.Certificate.load(d) for d in read_pem_certificates(f.read_bytes(), str(f))
        ]
    failures = 0
    seen: set[str] = set()
    for held in source.cache.all():
        issuer = held.issuer_certificate
        # Only a proven entry is fetched again: its address came from a certificate whose
        # path reached an anchor, and the new CRL must be signed by the same CA key.
        if issuer is None:
            continue
        seen.add(held.url)
        try:
            fresh = source.cache.put(source.fetch(held.url), held.url, now, issuer=issuer)
            click.echo(f"{fresh.issuer}: fetched from {held.url}, next update {fresh.next_update}")
        except (FetchFailed, CrlUnreadable) as exc:
            failures += 1
            click.echo(f"warning: {held.issuer}: {exc}", err=True)
    for cert in certs:
        notes: list[str] = []
        got = source.refresh(cert, pool, anchors, now, notes, skip=seen)
        for n in notes:
            failures += 1
            click.echo(f"warning: {n}", err=True)
        if got is not None:
            seen.add(got.url)
            click.echo(f"{got.issuer}: fetched from {got.url}, next update {got.next_update}")
    raise SystemExit(1 if failures else 0)


@crl.command("show")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def show(as_json: bool) -> None:
    """The cached CRLs: issuer, source, whether its signature was verified, this/next
    update, entries, whether current."""
    now = datetime.now(UTC)
    rows = [c.to_json(now) for c in _source().cache.all()]
    if as_json:
        click.echo(json.dumps({"crls": rows}, indent=2))
        return
    if not rows:
        click.echo("No CRL cached yet; `csos crl refresh` or `csos order verify` fetches them.")
    for r in rows:
        signature = (
            "verified against the issuing CA"
            if r["signature_verified"]
            else "NOT verified (never used; `csos crl forget` it)"
        )
        click.echo(
            f"{r['issuer']}\n  Source:      {r['source']}\n"
            f"  Signature:   {signature}\n"
            f"  CRL number:  {r['crl_number'] if r['crl_number'] is not None else '-'}\n"
            f"  This update: {r['this_update']}\n"
            f"  Next update: {r['next_update']}\n  Revoked:     {r['revoked']}\n"
            f"  Current:     {'yes' if r['current'] else 'NO (stale: refresh it)'}"
        )


@crl.command("forget")
@click.argument("issuer")
@run_cli
def forget(issuer: str) -> None:
    """Remove the cached CRL(s) of ISSUER (part of its name, as `csos crl show` prints it,
    or the start of its cache key); the next verification fetches it again."""
    gone = _source().cache.forget(issuer)
    if not gone:
        raise InputError(f"No cached CRL has an issuer matching {issuer!r}; see `csos crl show`.")
    for held in gone:
        click.echo(f"Forgotten: the CRL of {held.issuer} (from {held.url}).")
