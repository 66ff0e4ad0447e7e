"""`csos archive ...`: the two-year record an inspector reads (21 CFR 1305.27)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
from asn1crypto import x509 as asn1_x509

from csos_desktop.cli.common import run_cli
from csos_desktop.services.archive import export_archive, verify_archive
from csos_desktop.services.identity import load_certificates
from csos_desktop.store import open_store

_DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.group()
def archive() -> None:
    """Export the signed records of a period and verify a bundle offline."""


@archive.command("export")
@click.option("--since", required=True, type=_DATE, help="First day signed (YYYY-MM-DD).")
@click.option("--until", required=True, type=_DATE, help="Last day signed (YYYY-MM-DD).")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The bundle to write (.zip).",
)
@run_cli
def export(since: datetime, until: datetime, out: Path) -> None:
    """Orders, receipts, statements with their signatures, certificates, audit slice, index."""
    with open_store() as store:
        summary = export_archive(store, since.date(), until.date(), out)
    click.echo(f"{summary.orders} order(s), {summary.files} files in {summary.path}")
    click.echo(f"manifest SHA-256 {summary.manifest_sha256} (recorded in the audit log)")


@archive.command("verify")
@click.argument("bundle", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--trust",
    "trust_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Root certificate(s) to check each signer's chain against.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def verify(bundle: Path, trust_file: Path | None, as_json: bool) -> None:
    """Re-check every file's hash and every signature. Exit 0 intact, 1 problems found."""
    roots = (
        [asn1_x509.Certificate.load(d) for d in load_certificates(trust_file)]
        if trust_file
        else None
    )
    report = verify_archive(bundle, roots)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(
            f"{report.files} files, {report.signatures} signatures, "
            f"{report.chains_checked} chains checked"
        )
        if report.intact:
            click.echo("INTACT: every hash and signature holds.")
        for problem in report.problems:
            click.echo(f"  PROBLEM: {problem}")
        if not trust_file:
            click.echo("note: signers' chains were not checked; give --trust ROOT.pem", err=True)
    raise SystemExit(0 if report.intact else 1)
