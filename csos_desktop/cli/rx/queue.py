"""`csos rx draft|queue|sign-queued|print`: prescriptions kept in the store.

Agents and practitioners prepare drafts; the practitioner opens one patient's
queue, reviews it with the attestation and signs with token + PIN. Signed
prescriptions wait in the outbox for transmission to the pharmacy.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from asn1crypto import x509 as asn1_x509

from csos_desktop import paths
from csos_desktop.cli.common import run_cli
from csos_desktop.cli.rx.admin import actor, as_option
from csos_desktop.cli.signing import TokenChoice, store_and_session, token_options
from csos_desktop.cli.terminal import TerminalInteraction
from csos_desktop.domain.attestation import CITATION
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.revocation import RevocationState, RevocationStatus
from csos_desktop.fileio import read_json_object
from csos_desktop.pki.certfile import load_certificates
from csos_desktop.pki.chain import load_crls
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.rx import drafts as rx_drafts
from csos_desktop.services.rx.ceremony import (
    RevocationCheck,
    crl_revocation,
    enrolment_ca_revocation,
    not_checked,
)
from csos_desktop.services.rx.queue import sign_queued
from csos_desktop.services.signing import SigningIdentity, SigningPurpose


class CeremonyTerminal(TerminalInteraction):
    """Shows the review and the attestation, then asks the PIN (the second factor)."""

    def show_attestation(self, review: str) -> None:
        click.echo("\n" + review + f"\n({CITATION})\n", err=True)


@click.group("draft")
def draft() -> None:
    """Prescription drafts (agents and practitioners prepare; only practitioners sign)."""


@draft.command("add")
@click.argument("rx_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--dea",
    help="The practitioner's DEA registration the prescription is issued under; needed "
    "when they hold several (21 CFR 1311.120(b)(7)).",
)
@click.option(
    "--practitioner",
    help="The practitioner's user id, when the file names no DEA number (agents).",
)
@as_option()
@run_cli
def draft_add(rx_file: Path, dea: str | None, practitioner: str | None, as_user: str) -> None:
    """Add a csos-rx/1 prescription as a draft waiting for the practitioner's signature."""
    data = read_json_object(rx_file, "a prescription")
    with open_store() as store:
        rec = rx_drafts.add_draft(
            store,
            actor(as_user),
            data,
            now=datetime.now(UTC),
            dea=dea,
            practitioner=practitioner,
        )
    click.echo(
        f"Draft {rec.rx_id}: {rec.drug} for {rec.patient_name} (patient "
        f"{rec.patient_key[:12]}), waiting for DEA {rec.practitioner_dea} to sign."
    )


@draft.command("update")
@click.argument("rx_ref")
@click.argument("rx_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--expect-sha256",
    help="The draft version you edited (as listed); refused if someone changed it since.",
)
@as_option()
@run_cli
def draft_update(rx_ref: str, rx_file: Path, expect_sha256: str | None, as_user: str) -> None:
    """Replace a draft's content (the change is audited with before/after digests)."""
    data = read_json_object(rx_file, "a prescription")
    with open_store() as store:
        rec = rx_drafts.update_draft(
            store,
            actor(as_user),
            rx_ref,
            data,
            now=datetime.now(UTC),
            expected_sha256=expect_sha256,
        )
    click.echo(f"Draft {rec.rx_id} updated (sha256 {rec.draft_sha256[:12]}).")


@draft.command("void")
@click.argument("rx_ref")
@click.option("--reason", required=True, help="Why the draft is not wanted; kept on record.")
@as_option()
@run_cli
def draft_void(rx_ref: str, reason: str, as_user: str) -> None:
    """Take a draft off the queue; its record stays."""
    with open_store() as store:
        rec = rx_drafts.void_draft(store, actor(as_user), rx_ref, reason, now=datetime.now(UTC))
    click.echo(f"Draft {rec.rx_id} is void.")


@click.command("queue")
@click.option("--dea", "practitioner_dea", help="Only this practitioner's drafts.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def queue(practitioner_dea: str | None, as_json: bool) -> None:
    """Drafts waiting for signature, per practitioner and patient."""
    with open_store() as store:
        groups = rx_drafts.queue(store, practitioner_dea)
    if as_json:
        click.echo(json.dumps([g.to_json() for g in groups], indent=2))
        return
    if not groups:
        click.echo("No prescription is waiting for signature.")
    for g in groups:
        click.echo(f"DEA {g.practitioner_dea}  patient {g.patient_key[:12]}  {g.patient_name}")
        for d in g.drafts:
            click.echo(
                f"  {d.rx_id}  {d.drug} (schedule {d.schedule})  prepared by "
                f"{d.prepared_by}  sha256 {d.draft_sha256[:12]}"
            )


def revocation_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--crl/--trust/--offline: how the practitioner's certificate is checked before the PIN.

    The command receives them as one ``revocation: RevocationCheck`` argument.
    """

    @functools.wraps(fn)
    def with_check(
        *args: Any, crl_files: tuple[Path, ...], trust: Path | None, offline: bool, **kw: Any
    ) -> Any:
        return fn(*args, revocation=_revocation_check(crl_files, trust, offline), **kw)

    command: Callable[..., Any] = with_check
    for opt in reversed(
        (
            click.option(
                "--crl",
                "crl_files",
                multiple=True,
                type=click.Path(dir_okay=False, exists=True, path_type=Path),
                help="Check revocation against this CRL file (repeat per CA) instead of online.",
            ),
            click.option(
                "--trust",
                type=click.Path(dir_okay=False, exists=True, path_type=Path),
                help="The CA's root certificate (PEM), for --crl.",
            ),
            click.option("--offline", is_flag=True, help="Do not check revocation (recorded)."),
        )
    ):
        command = opt(command)
    return command


def _revocation_check(
    crl_files: tuple[Path, ...], trust: Path | None, offline: bool
) -> RevocationCheck:
    stored = paths.chain_file()
    extra = [
        *(load_certificates(stored) if stored.exists() else []),
        *(load_certificates(trust) if trust else []),
    ]
    if crl_files:
        try:
            crls = load_crls([p.read_bytes() for p in crl_files])
        except (OSError, ValueError) as exc:
            raise InputError(f"Cannot use the CRL: {exc}") from exc
        roots = [d for d in extra if asn1_x509.Certificate.load(d).self_signed != "no"]
        if not roots:
            raise InputError("Give the CA's root certificate with --trust to check the CRL.")
        inner = crl_revocation(roots, crls)
    elif offline:
        inner = not_checked("not checked (--offline)")
    else:
        inner = enrolment_ca_revocation(load_certificates(trust) if trust else [])

    def check(identity: SigningIdentity, chain: Sequence[bytes], now: datetime) -> RevocationStatus:
        status = inner(identity, chain, now)
        if status.state in (RevocationState.UNKNOWN, RevocationState.NOT_CHECKED):
            click.echo(
                f"warning: revocation of your certificate was not confirmed "
                f"({status.message}); the pharmacy checks it again.",
                err=True,
            )
        return status

    return check


@click.command("sign-queued")
@click.option("--patient", required=True, help="Patient key (from `csos rx queue`) or name.")
@click.option(
    "--rx",
    "rx_ids",
    multiple=True,
    help="Only these drafts (default: all of the patient's); repeat.",
)
@click.option(
    "--dea",
    help="The registration whose drafts to sign, when you hold several and the patient's "
    "drafts wait under more than one.",
)
@as_option()
@token_options
@revocation_options
@click.option(
    "--pharmacy",
    "pharmacy_id",
    help="The patient's pharmacy (NCPDP ID, `csos rx pharmacies`): also sign each as an "
    "NCPDP SCRIPT NewRx to it; the outbox sends it there.",
)
@run_cli
def sign_queued_cmd(
    patient: str,
    rx_ids: tuple[str, ...],
    as_user: str,
    token: TokenChoice,
    revocation: RevocationCheck,
    pharmacy_id: str | None,
    dea: str | None,
) -> None:
    """Review, attest and sign one patient's queued prescriptions with token + PIN."""
    check = revocation
    pharmacy = None
    if pharmacy_id is not None:  # chosen from the network's directory before any PIN
        from csos_desktop.services.rx.network import choose_pharmacy, network_client

        with network_client() as client:
            pharmacy = choose_pharmacy(client, pharmacy_id)
        click.echo(f"NewRx to {pharmacy.name} (NCPDP {pharmacy.ncpdp_id}).", err=True)
    with store_and_session(token, SigningPurpose.PRESCRIPTION) as (store, session):
        signed = sign_queued(
            store,
            actor(as_user),
            patient,
            session,
            CeremonyTerminal(pin_from_stdin=token.pin_stdin),
            check,
            rx_ids=rx_ids,
            pharmacies=pharmacy,
            dea=dea,
        )
    for s in signed:
        click.echo(
            f"Signed prescription {s.rx_id} (signature {s.signature_sha256[:12]}); "
            "queued for transmission to the pharmacy."
        )
    click.echo(f"{len(signed)} prescription(s) signed; signed prescriptions cannot be changed.")


@click.command("print")
@click.argument("rx_ref")
@as_option()
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the copy to this file instead of the terminal.",
)
@run_cli
def print_copy(rx_ref: str, as_user: str, out_file: Path | None) -> None:
    """A printed copy of a signed prescription, marked not valid for dispensing."""
    with open_store() as store:
        text = rx_drafts.printed_copy(store, actor(as_user), rx_ref, now=datetime.now(UTC))
    if out_file is None:
        click.echo(text, nl=False)
    else:
        out_file.write_text(text, encoding="utf-8")
        click.echo(f"Copy written to {out_file}.")
