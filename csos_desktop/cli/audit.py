"""`csos audit ...`: the tamper-evident audit log."""

from __future__ import annotations

import json
from pathlib import Path

import click
from asn1crypto import x509 as asn1_x509

from csos_desktop import paths
from csos_desktop.cli.common import run_cli
from csos_desktop.cli.signing import TokenChoice, document_signer, token_options
from csos_desktop.pki.certfile import load_certificates
from csos_desktop.services.audit import queries
from csos_desktop.services.audit.checkpoint import sign_checkpoint, verify_checkpoints
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.signing import SigningPurpose
from csos_desktop.services.trust_anchors import configured_trust


@click.group()
def audit() -> None:
    """The audit log of every signature, receipt and change."""


def _anchors(trust_file: Path | None) -> list[asn1_x509.Certificate] | None:
    """--trust, else the configured trust store, else the root saved at enrolment."""
    if trust_file is not None:
        return [asn1_x509.Certificate.load(d) for d in load_certificates(trust_file)]
    configured = configured_trust()
    if configured is not None:
        return list(configured.roots)
    stored = paths.chain_file()
    if stored.exists():
        certs = [asn1_x509.Certificate.load(d) for d in load_certificates(stored)]
        roots = [c for c in certs if c.self_signed in ("yes", "maybe")]
        return roots or None
    return None


@audit.command("verify")
@click.option(
    "--trust",
    "trust_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Root certificate(s) checkpoint signers must chain to (default: the configured "
    "trust store, else the chain saved at enrolment).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def verify(trust_file: Path | None, as_json: bool) -> None:
    """Check the hash chain, its signed checkpoints and the database.

    Exit 0 intact, 1 if anything is broken.
    """
    roots = _anchors(trust_file)
    with open_store() as store:
        report = queries.verify_log(store)
        checkpoints = verify_checkpoints(store, roots)
        problems = queries.database_problems(store)
    ok = report.intact and not problems and not checkpoints.problems
    if as_json:
        click.echo(
            json.dumps(
                {
                    **report.to_json(),
                    "checkpoints": checkpoints.to_json(),
                    "database_problems": problems,
                },
                indent=2,
            )
        )
    else:
        if ok:
            click.echo(
                f"Audit log intact: {report.entries} entries, newest hash {report.head_sha256}; "
                f"{checkpoints.checkpoints} signed checkpoint(s) hold, the newest at entry "
                f"{checkpoints.newest_entry}."
            )
        if report.broken is not None:
            click.echo(
                f"BROKEN at entry {report.broken.entry_id}: {report.broken.problem}. "
                f"The {report.entries} entries before it are intact."
            )
        for p in checkpoints.problems:
            click.echo(f"CHECKPOINT: {p}")
        for p in problems:
            click.echo(f"DATABASE: {p}")
        if not checkpoints.signers_verified and checkpoints.checkpoints:
            click.echo(
                "note: checkpoint signers were not checked against a trusted root; "
                "give --trust ROOT.pem",
                err=True,
            )
    raise SystemExit(0 if ok else 1)


@audit.command("checkpoint")
@token_options
@run_cli
def checkpoint(token: TokenChoice) -> None:
    """Sign the audit log's newest entry on your token now (signing sessions also do this)."""
    purpose = SigningPurpose.AUDIT_CHECKPOINT
    with open_store() as store, document_signer(purpose, "The checkpoint", token) as signer:
        signed = sign_checkpoint(store, signer)
    click.echo(
        f"Checkpoint {signed.checkpoint_id}: entry {signed.entry_id} "
        f"({signed.entry_sha256}) signed by {signed.signer_subject}."
    )


@audit.command("list")
@click.option("--order", "order_ref", help="Only entries about this order (id or number).")
@click.option("--after", type=int, default=0, help="Only entries after this entry id.")
@click.option("--limit", type=int, help="At most this many entries.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def list_(order_ref: str | None, after: int, limit: int | None, as_json: bool) -> None:
    """Audit entries, oldest first."""
    with open_store() as store:
        entries = queries.entries(store, order_ref=order_ref, after=after, limit=limit)
    if as_json:
        click.echo(json.dumps([e.to_json() for e in entries], indent=2))
        return
    for e in entries:
        details = ", ".join(f"{k}={v}" for k, v in sorted(e.details.items()))
        subject = f" order {e.order_id}" if e.order_id else ""
        click.echo(f"[{e.entry_id}] {e.at} {e.event}{subject} {details}".rstrip())
