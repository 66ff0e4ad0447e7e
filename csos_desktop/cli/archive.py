"""`csos archive ...`: the two-year record an inspector reads (21 CFR 1305.27)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.signing import TokenChoice, document_signer, token_options
from csos_desktop.cli.verifying import load_crl_files, trust_roots
from csos_desktop.domain.errors import InputError
from csos_desktop.services.archive.export import export_archive
from csos_desktop.services.archive.verify import Verdict, verify_archive
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.signing import SigningPurpose
from csos_desktop.services.trust_anchors import TrustMaterial, configured_trust

_DATE = click.DateTime(formats=["%Y-%m-%d"])
_FILE = click.Path(dir_okay=False, exists=True, path_type=Path)
F = TypeVar("F", bound=Callable[..., object])


def _trust_options(fn: F) -> F:
    fn = click.option(
        "--crl",
        "crl_files",
        multiple=True,
        type=_FILE,
        help="CRL file (PEM or DER), repeat for each CA (issuing and root). Required "
        "with --trust: a signer no CRL covers is a problem (revocation-unknown).",
    )(fn)
    return click.option(
        "--trust",
        "trust_file",
        type=_FILE,
        help="Root certificate(s) every signer must chain to (default: the configured "
        "trust store).",
    )(fn)


def _trust(trust_file: Path | None, crl_files: tuple[Path, ...]) -> TrustMaterial | None:
    """--trust (with --crl), else the configured trust store, else None (integrity only)."""
    if trust_file is None:
        if crl_files:
            raise InputError("--crl needs --trust: revocation is checked along a trusted chain.")
        return configured_trust()
    return TrustMaterial(tuple(trust_roots(trust_file)), tuple(load_crl_files(crl_files)))


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
@token_options
@run_cli
def export(since: datetime, until: datetime, out: Path, token: TokenChoice) -> None:
    """Orders, receipts, statements with their signatures, certificates, audit slice, index.

    The manifest is signed on your token, so the bundle shows who exported it.
    """
    purpose = SigningPurpose.ARCHIVE_MANIFEST
    with open_store() as store, document_signer(purpose, "The export", token) as signer:
        summary = export_archive(store, since.date(), until.date(), out, signer=signer)
    click.echo(f"{summary.orders} order(s), {summary.files} files in {summary.path}")
    click.echo(f"manifest SHA-256 {summary.manifest_sha256} (signed; recorded in the audit log)")


@archive.command("verify")
@click.argument("bundle", type=_FILE)
@_trust_options
@click.option(
    "--integrity-only",
    is_flag=True,
    help="Without trust anchors, accept a bundle whose hashes and signatures hold "
    "although its signers were not verified (exit 0 instead of 1).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def verify(
    bundle: Path,
    trust_file: Path | None,
    crl_files: tuple[Path, ...],
    integrity_only: bool,
    as_json: bool,
) -> None:
    """Check the manifest's signature, every file's hash and every signature.

    Exit 0 intact; 1 problems found, or signers not verified (no --trust) without
    --integrity-only; 2 not a readable bundle.
    """
    report = verify_archive(bundle, _trust(trust_file, crl_files))
    verdict = report.verdict
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(
            f"{report.files} files, {report.signatures} signatures, "
            f"{report.chains_checked} chains checked; manifest signed by "
            f"{report.manifest_signer or 'nobody'}"
        )
        if verdict is Verdict.INTACT:
            click.echo("INTACT: every hash, signature and signer's chain holds.")
        elif verdict is Verdict.INTEGRITY_ONLY:
            click.echo(
                "INTEGRITY ONLY - signers not verified: every hash and signature holds, but "
                "nobody vouched for who signed. Give --trust ROOT.pem to check the signers."
            )
        for problem in report.problems:
            click.echo(f"  PROBLEM: {problem}")
    ok = verdict is Verdict.INTACT or (verdict is Verdict.INTEGRITY_ONLY and integrity_only)
    raise SystemExit(0 if ok else 1)


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
    type=_FILE,
    help="A verified archive bundle that holds every order to be deleted.",
)
@_trust_options
@click.option("--yes", is_flag=True, help="Do it (without it, only say what would go).")
@run_cli
def purge(
    before: datetime,
    bundle: Path,
    trust_file: Path | None,
    crl_files: tuple[Path, ...],
    yes: bool,
) -> None:
    """Delete records past the two-year retention (21 CFR 1305.27) that a verified archive holds."""
    from csos_desktop.services.archive.purge import purge_archived, purge_preview

    trust = _trust(trust_file, crl_files)
    if trust is None:
        raise InputError(
            "Give --trust ROOT.pem: records are deleted only for an archive whose signers "
            "are verified."
        )
    with open_store() as store:
        if not yes:
            count = purge_preview(store, before.date())
            click.echo(
                f"{count} order(s) signed before {before:%Y-%m-%d} would be purged; "
                "run again with --yes to delete them."
            )
            return
        gone = purge_archived(store, before.date(), bundle, trust=trust)
    click.echo(f"{gone} order(s) purged; the audit log records it with the archive's hash.")
