"""`csos rx ...`: controlled-substance e-prescriptions (21 CFR 1311 subpart C)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.files import write_signed_pair
from csos_desktop.cli.rx import admin as rx_admin
from csos_desktop.cli.rx import queue as rx_queue
from csos_desktop.cli.rx import records as rx_records
from csos_desktop.cli.rx import registrations as rx_registrations
from csos_desktop.cli.rx import script as rx_script
from csos_desktop.cli.rx.admin import as_option
from csos_desktop.cli.rx.queue import CeremonyTerminal
from csos_desktop.cli.signing import TokenChoice, store_and_session, token_options
from csos_desktop.cli.verifying import report, verify_arguments, verify_files
from csos_desktop.domain.prescription import parse_prescription_input
from csos_desktop.fileio import read_json_object
from csos_desktop.pki.rx_check import verify_prescription
from csos_desktop.services.rx.ceremony import RevocationCheck, SigningList
from csos_desktop.services.rx.queue import sign_files
from csos_desktop.services.signing import SigningPurpose


@click.group()
def rx() -> None:
    """E-prescriptions for controlled substances: sign (prescriber), verify (pharmacy).

    With the store: users and permissions (user, grant), drafts and the signing queue
    (draft, queue, sign-queued), printed copies (print) and the audit report.
    """


for _command in (
    rx_admin.user,
    rx_admin.grant,
    rx_admin.audit_report,
    rx_admin.rx_log,
    rx_admin.rx_export,
    rx_records.alerts_cmd,
    rx_records.logs_cmd,
    rx_queue.draft,
    rx_queue.queue,
    rx_queue.sign_queued_cmd,
    rx_queue.print_copy,
    rx_script.pharmacies,
    rx_script.receive_cmd,
    rx_script.sign_received_cmd,
):
    rx.add_command(_command)
for _command in rx_registrations.COMMANDS:
    rx_admin.user.add_command(_command)


@rx.command("sign")
@click.argument(
    "rx_files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@as_option()
@token_options
@rx_queue.revocation_options
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for <rx_id>.json (the signed bytes) and <rx_id>.p7s.",
)
@run_cli
def sign(
    rx_files: tuple[Path, ...],
    as_user: str,
    token: TokenChoice,
    revocation: RevocationCheck,
    out_dir: Path,
) -> None:
    """Review, attest and sign one patient's prescriptions with token + PIN.

    --as names the practitioner: they need an active permission (`csos rx grant`) for
    the certificate on the token, checked before the PIN (21 CFR 1311.125).
    """
    now = datetime.now(UTC)
    prescriptions = [
        parse_prescription_input(read_json_object(p, "a prescription"), now=now) for p in rx_files
    ]
    signing_list = SigningList(prescriptions)
    for rx_item in prescriptions:
        signing_list.mark_ready(rx_item.rx_id)
    with store_and_session(token, SigningPurpose.PRESCRIPTION) as (store, session):
        signed = sign_files(
            store,
            rx_admin.actor(as_user),
            signing_list,
            session,
            CeremonyTerminal(pin_from_stdin=token.pin_stdin),
            revocation,
        )
    for s in signed:
        doc, sig = write_signed_pair(out_dir, s.prescription.rx_id, s.document, s.signature)
        click.echo(
            f"Signed prescription {s.prescription.rx_id} for "
            f"{s.prescription.patient.name}: {doc.name}, {sig.name}"
        )
    click.echo(
        f"{len(signed)} prescription(s) signed into {out_dir}; signed prescriptions "
        "cannot be changed."
    )


@rx.command("verify")
@verify_arguments
@run_cli
def verify(
    document: Path,
    signature: Path,
    trust_file: Path | None,
    crl_files: tuple[Path, ...],
    offline: bool,
    as_json: bool,
) -> None:
    """Check a received prescription (pharmacy). Exit 0 accepted, 1 rejected, 2 unusable input."""
    verified = verify_files(
        verify_prescription, document, signature, trust_file, crl_files, offline=offline
    )
    result = verified.result
    rx_, s = result.prescription, result.signer
    named = "matches" if result.signer_names_practitioner else "does NOT match"
    line = (
        f"{rx_.drug.name} {rx_.drug.strength} for {rx_.patient.name}, signed by "
        f"{s.subject} (DEA {rx_.practitioner.dea_number.value}, checked by "
        f"{result.dea_binding.value if result.dea_binding else 'nothing'}).\n"
        f"Signer: {s.subject}; {named} the practitioner named ({rx_.practitioner.name})."
        if rx_ and s
        else ""
    )
    report(result, as_json, line, verified.notes)
