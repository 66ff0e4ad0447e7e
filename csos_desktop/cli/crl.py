"""`csos crl ...`: the revocation data fetched from the CAs' distribution points."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from asn1crypto import x509 as asn1_x509

from csos_desktop import paths
from csos_desktop.cli.common import run_cli
from csos_desktop.config import load_config
from csos_desktop.trust.anchors import anchor_certificates, read_pem_certificates
from csos_desktop.trust.crl_cache import CrlUnreadable
from csos_desktop.trust.fetch import FetchFailed
from csos_desktop.trust.revocation import RevocationSource


@click.group()
def crl() -> None:
    """Certificate revocation lists, fetched and cached until their next update."""


def _source() -> RevocationSource:
    bundle = load_config().text("ca_bundle")
    return RevocationSource(ca_bundle=Path(bundle) if bundle else None)


@crl.command("refresh")
@click.argument(
    "certificates", nargs=-1, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@run_cli
def refresh(certificates: tuple[Path, ...]) -> None:
    """Fetch again every cached CRL, and those named by the trust anchors, the saved CA
    chain and the CERTIFICATES given (PEM), whatever their next update says."""
    now = datetime.now(UTC)
    source = _source()
    certs = list(anchor_certificates())
    chain = paths.chain_file()
    for f in (*certificates, *([chain] if chain.exists() else [])):
        certs += [
            asn1_x509.Certificate.load(d) for d in read_pem_certificates(f.read_bytes(), str(f))
        ]
    failures = 0
    seen: set[str] = set()
    for held in source.cache.all():
        seen.add(held.url)
        try:
            fresh = source.cache.put(source.fetch(held.url), held.url, now)
            click.echo(f"{fresh.issuer}: fetched from {held.url}, next update {fresh.next_update}")
        except (FetchFailed, CrlUnreadable) as exc:
            failures += 1
            click.echo(f"warning: {held.issuer}: {exc}", err=True)
    for cert in certs:
        notes: list[str] = []
        got = source.refresh(cert, now, notes, skip=seen)
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
    """The cached CRLs: issuer, source, this/next update, entries, whether current."""
    now = datetime.now(UTC)
    rows = [c.to_json(now) for c in _source().cache.all()]
    if as_json:
        click.echo(json.dumps({"crls": rows}, indent=2))
        return
    if not rows:
        click.echo("No CRL cached yet; `csos crl refresh` or `csos order verify` fetches them.")
    for r in rows:
        click.echo(
            f"{r['issuer']}\n  From:        {r['url']}\n  This update: {r['this_update']}\n"
            f"  Next update: {r['next_update']}\n  Revoked:     {r['revoked']}\n"
            f"  Current:     {'yes' if r['current'] else 'NO (stale: refresh it)'}"
        )
