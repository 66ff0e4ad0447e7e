"""`csos archive ...`: the two-year record an inspector reads (21 CFR 1305.27)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
from asn1crypto import x509 as asn1_x509

from csos_desktop.cli.common import run_cli
from csos_desktop.services.archive import export_archive, verify_archive
from csos_desktop.store import open_store
from csos_desktop.token.identity import load_certificates

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


@archive.command("purge")
@click.option(
    "--before",
    required=True,
    type=_DATE,
    help="Delete orders signed before this day (at least two years ago).",
)
@click.option(
    "--archive",
    "bundle",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A verified archive bundle that holds every order to be deleted.",
)
@click.option(
    "--trust",
    "trust_file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Root certificate(s) the archive's signatures must chain to.",
)
@click.option("--yes", is_flag=True, help="Do it (without it, only say what would go).")
@run_cli
def purge(before: datetime, bundle: Path, trust_file: Path, yes: bool) -> None:
    """Delete records past the two-year retention (21 CFR 1305.27) that a verified archive holds."""
    from csos_desktop.services.archive import purge_archived
    from csos_desktop.store.purge import orders_before

    roots = [asn1_x509.Certificate.load(d) for d in load_certificates(trust_file)]
    with open_store() as store:
        if not yes:
            count = len(orders_before(store, before.date().isoformat()))
            click.echo(
                f"{count} order(s) signed before {before:%Y-%m-%d} would be purged; "
                "run again with --yes to delete them."
            )
            return
        gone = purge_archived(store, before.date(), bundle, trust_roots=roots)
    click.echo(f"{gone} order(s) purged; the audit log records it with the archive's hash.")
