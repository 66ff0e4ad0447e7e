"""What the Prescriptions screen reads: the signed history, a draft as editable input, and
the practice's users and permissions.

The history is read from the signed bytes (what the pharmacy received), not from the
draft rows, so it shows exactly what was signed; its status is the outbox's
(transmitted, waiting, failed). A draft opens for editing as the ``csos-rx/1`` input
form the preparing services take, with the digest of the version read, so a save over
someone else's change is refused (``update_draft``'s ``expected_sha256``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from csos_desktop.config.local_time import local_time
from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.prescription import Prescription
from csos_desktop.store.access import Grant, RxUser
from csos_desktop.store.local_store import Store
from csos_desktop.store.prescriptions import RxState


@dataclass(frozen=True)
class SignedLine:
    """One signed prescription as the history lists it."""

    rx_id: str
    patient: str
    drug: str
    schedule: str
    prescriber: str
    prescriber_dea: str
    signed_at: str  # local time, minutes
    signed_by: str
    status: str  # where its transmission to the pharmacy stands
    review: tuple[str, ...]  # the lines the practitioner reviewed (1311.120(b)(9))
    signer_subject: str
    signature_sha256: str
    intact: bool  # the stored bytes still match their digests


def signed_history(store: Store) -> list[SignedLine]:
    """Every signed prescription, newest first."""
    out = []
    for signed in reversed(store.prescriptions.all_signed()):
        rx = Prescription.from_document(load_document(signed.document))
        sent = store.prescriptions.transmission(signed.rx_id)
        when = local_time(datetime.fromisoformat(signed.signed_at.replace("Z", "+00:00")))
        out.append(
            SignedLine(
                rx_id=signed.rx_id,
                patient=rx.patient.name,
                drug=f"{rx.drug.name} {rx.drug.strength} {rx.drug.dosage_form}",
                schedule=rx.drug.schedule.label,
                prescriber=rx.practitioner.name,
                prescriber_dea=rx.practitioner.dea_number.value,
                signed_at=when.strftime("%Y-%m-%d %H:%M"),
                signed_by=signed.signed_by,
                status="not queued" if sent is None else sent.status,
                review=tuple(rx.review_lines()),
                signer_subject=signed.signer_subject,
                signature_sha256=signed.signature_sha256,
                intact=signed.intact(),
            )
        )
    return out


@dataclass(frozen=True)
class EditableDraft:
    """A draft as the input form, and the digest of the version that was read."""

    rx_id: str
    data: Mapping[str, object]
    sha256: str


def editable_draft(store: Store, rx_id: str) -> EditableDraft:
    """The draft *rx_id* as ``csos-rx/1`` input; a signed or void one is not editable."""
    rec = store.prescriptions.get(rx_id)
    if rec.state is not RxState.DRAFT:
        raise InputError(f"Prescription {rx_id} is {rec.state.value}: only a draft can be changed.")
    doc = store.prescriptions.prescription(rx_id).to_document()
    data = {k: v for k, v in doc.items() if k not in ("rx_id", "created_at")}
    return EditableDraft(rx_id, data, rec.draft_sha256)


def practice_address(store: Store, practitioner_dea: str) -> Mapping[str, object] | None:
    """The address on the practitioner's latest prescription, to prefill a new one."""
    row = store.conn.execute(
        "SELECT rx_id FROM prescriptions WHERE practitioner_dea = ? "
        "ORDER BY updated_at DESC, rx_id LIMIT 1",
        (practitioner_dea,),
    ).fetchone()
    if row is None:
        return None
    return store.prescriptions.prescription(str(row[0])).practitioner.address.to_document()


@dataclass(frozen=True)
class PracticeRecords:
    """Every user and permission record, and each user's open permission (or None)."""

    users: tuple[RxUser, ...]
    grants: tuple[Grant, ...]
    permission: Mapping[str, Grant | None]


def practice_records(store: Store) -> PracticeRecords:
    """What `csos rx user list` and `csos rx grant list` show, in one read."""
    users = tuple(store.rx_users.all())
    grants = tuple(store.rx_grants.all())
    return PracticeRecords(
        users, grants, {u.user_id: store.rx_grants.open_for(u.user_id) for u in users}
    )
