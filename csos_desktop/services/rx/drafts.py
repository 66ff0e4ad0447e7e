"""Preparing prescriptions: drafts, the per-patient signing queue, printed copies.

An agent or the practitioner prepares a draft; each change is audited with
the SHA-256 of the draft before and after, and the fields that changed. The
audit log carries digests and drug, not the patient's name: the name stays in
the prescription record. A printed copy of a signed prescription says it is
not valid for dispensing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.order import format_timestamp
from csos_desktop.domain.prescription import Prescription, parse_prescription_input
from csos_desktop.services.rx import registrations
from csos_desktop.services.rx.access import (
    AccessDenied,
    Actor,
    DenyReason,
    active_user,
    guarded,
)
from csos_desktop.store.access import Role, RxUser
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store
from csos_desktop.store.prescriptions import RxRecord, RxState

COPY_MARK = "COPY – NOT VALID FOR DISPENSING"


def check_may_prepare(
    store: Store, user: RxUser, practitioner_dea: str, *, removed_too: bool = False
) -> None:
    """Agents prepare for any practitioner on record; a practitioner for themselves only.

    *removed_too*: a draft under a registration removed since may still be voided.
    """
    if user.role is Role.ACCESS_ADMIN:
        raise AccessDenied(
            DenyReason.ROLE,
            f"{user.user_id} is an access administrator; "
            "prescriptions are prepared by agents and practitioners.",
        )
    owner = registrations.owner(store, practitioner_dea, removed_too=removed_too)
    if owner is None or owner.role is not Role.PRACTITIONER or not owner.active:
        raise InputError(
            f"The prescription names DEA {practitioner_dea}, which is not an active "
            "practitioner here (no current registration of one); an access administrator "
            "adds them first."
        )
    if user.role is Role.PRACTITIONER and owner.user_id != user.user_id:
        raise AccessDenied(
            DenyReason.DEA_MISMATCH,
            f"The prescription names DEA "
            f"{practitioner_dea} ({owner.user_id}); you may prepare only your "
            "own prescriptions.",
        )


def select_registration(
    store: Store,
    actor: Actor,
    data: Mapping[str, object],
    dea: str | None,
    practitioner: str | None,
) -> Mapping[str, object]:
    """*data* naming the registration chosen for it; refused, listing the choices, when
    the practitioner holds several and none was selected."""
    party = data.get("practitioner")
    named = party.get("dea_number") if isinstance(party, Mapping) else None
    named = str(named).strip().upper() if named else None
    wanted = dea.strip().upper() if dea else None
    if wanted and named and wanted != named:
        raise InputError(
            f"The prescription names DEA {named} and --dea says {wanted}: select one "
            "(leave practitioner.dea_number out of the file, or give the same number)."
        )
    chosen = wanted or named
    who = store.rx_users.find(practitioner) if practitioner else None
    if practitioner and who is None:
        raise InputError(f"No prescribing user '{practitioner}' is on record.")
    if who is None and not chosen:
        me = store.rx_users.find(actor.user_id)
        who = me if me is not None and me.role is Role.PRACTITIONER else None
    if who is None and not chosen:
        raise InputError(
            "Say which practitioner the prescription is for: their registration (--dea) "
            "or their user id (--practitioner)."
        )
    # A number named is checked against its owner inside the transaction (audited).
    dea_number = registrations.choose(store, who, chosen).dea_number if who else chosen
    base = party if isinstance(party, Mapping) else {}
    return {**data, "practitioner": {**base, "dea_number": dea_number}}


def _summary(rec: RxRecord) -> dict[str, object]:
    return {
        "rx_id": rec.rx_id,
        "patient_key": rec.patient_key[:12],
        "practitioner_dea": rec.practitioner_dea,
        "drug": rec.drug,
        "schedule": rec.schedule,
    }


def add_draft(
    store: Store,
    actor: Actor,
    data: Mapping[str, object],
    *,
    now: datetime,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    dea: str | None = None,
    practitioner: str | None = None,
) -> RxRecord:
    """A new draft from ``csos-rx/1`` input, checked against 1306.05/1306.12 first.

    *dea* selects the practitioner's registration (1311.120(b)(7)); the file's own
    ``practitioner.dea_number`` counts as that selection. Without either, the
    practitioner (the acting one, or *practitioner*) must hold exactly one.
    """
    data = select_registration(store, actor, data, dea, practitioner)
    rx = parse_prescription_input(data, now=now, new_id=new_id)

    def step() -> RxRecord:
        user = active_user(store, actor.user_id)
        check_may_prepare(store, user, rx.practitioner.dea_number.value)
        rec = store.prescriptions.insert_draft(rx, prepared_by=user.user_id, now=now)
        store.audit.append(
            AuditEvent.RX_DRAFT_ADDED,
            at=now,
            details={**actor.details(), **_summary(rec), "sha256": rec.draft_sha256},
        )
        return rec

    return guarded(store, actor, "draft-add", now, step, {"rx_id": rx.rx_id})


def update_draft(
    store: Store,
    actor: Actor,
    rx_ref: str,
    data: Mapping[str, object],
    *,
    now: datetime,
    expected_sha256: str | None = None,
) -> RxRecord:
    """Replace a draft's content; *expected_sha256* is the version the editor showed."""
    rec = store.prescriptions.resolve(rx_ref)
    if data.get("rx_id", rec.rx_id) != rec.rx_id:
        raise InputError(f"The file is prescription {data.get('rx_id')}, not {rec.rx_id}.")
    before = store.prescriptions.prescription(rec.rx_id)
    fields = {**data, "rx_id": rec.rx_id, "created_at": format_timestamp(before.created_at)}
    rx = parse_prescription_input(fields, now=now)
    changed = _changed_fields(before, rx)
    if not changed:
        raise InputError(f"Prescription {rec.rx_id} already reads like this; nothing changed.")

    def step() -> RxRecord:
        user = active_user(store, actor.user_id)
        check_may_prepare(store, user, before.practitioner.dea_number.value)
        check_may_prepare(store, user, rx.practitioner.dea_number.value)
        expect = expected_sha256 or rec.draft_sha256  # what was read, not what is there now
        new = store.prescriptions.replace_draft(rx, expected_sha256=expect, now=now)
        store.audit.append(
            AuditEvent.RX_DRAFT_CHANGED,
            at=now,
            details={
                **actor.details(),
                **_summary(new),
                "before_sha256": expect,
                "after_sha256": new.draft_sha256,
                "fields": changed,
            },
        )
        return new

    return guarded(store, actor, "draft-change", now, step, {"rx_id": rec.rx_id})


def _changed_fields(a: Prescription, b: Prescription) -> list[str]:
    da, db = a.to_document(), b.to_document()
    return sorted(k for k in da.keys() | db.keys() if da.get(k) != db.get(k))


def void_draft(store: Store, actor: Actor, rx_ref: str, reason: str, *, now: datetime) -> RxRecord:
    """A draft no longer wanted leaves the queue; its record stays."""
    if not reason.strip():
        raise InputError("Give the reason the draft is voided (--reason).")
    rec = store.prescriptions.resolve(rx_ref)

    def step() -> RxRecord:
        user = active_user(store, actor.user_id)
        check_may_prepare(store, user, rec.practitioner_dea, removed_too=True)
        new = store.prescriptions.void(rec.rx_id, expected_sha256=rec.draft_sha256, now=now)
        store.audit.append(
            AuditEvent.RX_DRAFT_VOIDED,
            at=now,
            details={
                **actor.details(),
                **_summary(new),
                "sha256": new.draft_sha256,
                "reason": reason.strip(),
            },
        )
        return new

    return guarded(store, actor, "draft-void", now, step, {"rx_id": rec.rx_id})


# -- the queue ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientQueue:
    """One patient's drafts for one practitioner: what one signing list opens."""

    practitioner_dea: str
    patient_key: str
    patient_name: str
    drafts: tuple[RxRecord, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "practitioner_dea": self.practitioner_dea,
            "patient_key": self.patient_key[:12],
            "patient": self.patient_name,
            "drafts": [d.to_json() for d in self.drafts],
        }


def queue(store: Store, practitioner_dea: str | None = None) -> list[PatientQueue]:
    """Drafts waiting for signature, grouped per practitioner and patient."""
    groups: dict[tuple[str, str], list[RxRecord]] = {}
    for rec in store.prescriptions.drafts(practitioner_dea=practitioner_dea):
        groups.setdefault((rec.practitioner_dea, rec.patient_key), []).append(rec)
    return [
        PatientQueue(dea, key, recs[0].patient_name, tuple(recs))
        for (dea, key), recs in groups.items()
    ]


def find_patient(store: Store, practitioner_dea: str, patient: str) -> PatientQueue:
    """The practitioner's queue for *patient*: a patient key (as listed) or the full name."""
    wanted = patient.strip().lower()
    mine = queue(store, practitioner_dea)
    hits = [g for g in mine if g.patient_key.startswith(wanted) and len(wanted) >= 6]
    hits = hits or [g for g in mine if g.patient_name.lower() == wanted]
    if not hits:
        raise InputError(
            f"No draft for patient '{patient}' waits for DEA {practitioner_dea}; "
            "`csos rx queue` lists the patients."
        )
    if len(hits) > 1:
        keys = ", ".join(f"{g.patient_key[:12]} ({g.patient_name})" for g in hits)
        raise InputError(f"Several patients match '{patient}'; give the patient key: {keys}.")
    return hits[0]


# -- printed copy ---------------------------------------------------------------------------


def printed_copy(store: Store, actor: Actor, rx_ref: str, *, now: datetime) -> str:
    """Text of a signed prescription marked as a copy (the original went electronically)."""
    rec = store.prescriptions.resolve(rx_ref)

    def step() -> str:
        active_user(store, actor.user_id)
        if rec.state is not RxState.SIGNED:
            raise InputError(
                f"Prescription {rec.rx_id} is {rec.state.value}: only a signed "
                "prescription has a copy to print."
            )
        signed = store.prescriptions.signed(rec.rx_id)
        rx = Prescription.from_document(load_document(signed.document))
        sent = store.prescriptions.transmission(rec.rx_id)
        status = (
            "not queued"
            if sent is None
            else sent.status + (f" ({sent.sent_at})" if sent.sent_at else "")
        )
        store.audit.append(
            AuditEvent.RX_COPY_PRINTED,
            at=now,
            details={**actor.details(), "rx_id": rec.rx_id, "transmission": status},
        )
        rule = "=" * len(COPY_MARK)
        return "\n".join(
            [
                COPY_MARK,
                rule,
                f"Prescription {rx.rx_id}",
                *rx.review_lines(),
                "",
                f"Signed electronically by {signed.signer_subject} (DEA {signed.signer_dea}, "
                f"user {signed.signed_by}) at {signed.signed_at}",
                f"Signature SHA-256: {signed.signature_sha256}",
                f"Transmission to the pharmacy: {status}",
                rule,
                COPY_MARK,
                "",
            ]
        )

    return guarded(store, actor, "print-copy", now, step, {"rx_id": rec.rx_id})
