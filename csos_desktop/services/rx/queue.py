"""Signing a patient's queued prescriptions from the store (21 CFR 1311.140, 1311.150).

Before any factor is asked: the user is an active practitioner with an
approved permission, the certificate on the token carries the DEA number on
their user record, and it is neither expired nor revoked. The ceremony itself
is :func:`~csos_desktop.services.rx.ceremony.sign_ready`. The token signs
outside any database transaction (a PIN prompt must not hold the database
lock); the results are then committed in one transaction with their audit
entries and outbox rows, and only if every draft is still the version that
was reviewed. Every attempt, refusal, failed authentication and result is in
the audit log; a PIN never is.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import CsosError, InputError
from csos_desktop.domain.pharmacy import Pharmacy
from csos_desktop.domain.prescription import Prescription, PrescriptionInvalid
from csos_desktop.domain.revocation import RevocationStatus
from csos_desktop.domain.token_errors import PinLocked, WrongPin
from csos_desktop.services.audit.checkpoint import checkpoint_after_session
from csos_desktop.services.rx.access import Actor, guarded
from csos_desktop.services.rx.ceremony import (
    RevocationCheck,
    RxInteraction,
    SignedPrescription,
    SigningList,
    sign_ready,
)
from csos_desktop.services.rx.drafts import PatientQueue, find_patient
from csos_desktop.services.rx.grant_revocation import lapse_registrations
from csos_desktop.services.rx.permission import require_signing_grant
from csos_desktop.services.signing import SigningSession
from csos_desktop.services.signing.checks import hard_token_for_epcs
from csos_desktop.services.tokens.assurance import software_tokens_allowed
from csos_desktop.store.access import Grant, RxUser
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.db import StoreError
from csos_desktop.store.local_store import Store
from csos_desktop.store.prescriptions import SignedRx
from csos_desktop.token.identity import SigningIdentity

#: Failures of the "something you know" factor (1311.150: failed authentication).
AUTH_FAILURES: tuple[type[CsosError], ...] = (WrongPin, PinLocked)


@dataclass(frozen=True)
class Opened:
    """A practitioner's signing list for one patient, checked and ready for the ceremony."""

    user: RxUser
    grant: Grant
    patient: PatientQueue
    signing_list: SigningList
    digests: dict[str, str]  # rx_id -> draft SHA-256 as reviewed
    redated: tuple[str, ...]
    revocation: RevocationStatus


def _certificate_details(identity: SigningIdentity) -> dict[str, object]:
    return {
        "certificate_sha256": hashlib.sha256(identity.certificate_der).hexdigest(),
        "certificate_serial": str(identity.info.serial_number),
        "certificate_dea_hash": identity.info.dea_hash.hex() if identity.info.dea_hash else None,
    }


def _registration_of(store: Store, actor: Actor, patient: str) -> str | None:
    """The one registration the patient's drafts wait under, None when not one of several."""
    regs = [r.dea_number for r in store.rx_registrations.of_user(actor.user_id)]
    waiting = []
    for dea in regs:
        try:
            find_patient(store, dea, patient)
        except InputError:
            continue
        waiting.append(dea)
    if len(waiting) > 1:
        raise InputError(
            f"Drafts for patient '{patient}' wait under {len(waiting)} of your registrations "
            f"({', '.join(waiting)}); select the one to sign under (--dea)."
        )
    return waiting[0] if waiting else None


def open_signing_list(
    store: Store,
    actor: Actor,
    patient: str,
    identity: SigningIdentity,
    chain: Sequence[bytes],
    revocation: RevocationCheck,
    *,
    now: datetime,
    rx_ids: Sequence[str] = (),
    dea: str | None = None,
) -> Opened:
    """Check permission and certificate, then open the patient's drafts (1311.140(a)(1)-(2)).

    *dea* is the registration whose drafts are opened; a practitioner with several
    may leave it out when the patient's drafts wait under only one of them.
    """
    # Fetched before the transaction: revocation may go to the network.
    status = revocation(identity, chain, now)
    lapse_registrations(store, now)

    def step() -> tuple[RxUser, Grant, PatientQueue]:
        chosen = dea.strip().upper() if dea else _registration_of(store, actor, patient)
        user, grant = require_signing_grant(store, actor.user_id, identity, status, now, chosen)
        return user, grant, find_patient(store, chosen or user.dea_number or "", patient)

    user, grant, group = guarded(
        store,
        actor,
        "sign",
        now,
        step,
        {**_certificate_details(identity), "revocation": status.state.value},
    )
    known = {rec.rx_id for rec in group.drafts}
    chosen = {_match(ref, known) for ref in rx_ids} or known
    prescriptions, redated = [], []
    today = local_date(now)  # the practice's calendar day, not UTC's
    for rec in group.drafts:
        rx = store.prescriptions.prescription(rec.rx_id)
        if rx.rx_id in chosen and rx.date_of_issue != today:
            rx = _redate(rx, today)  # 1306.05(a): dated the day it is signed
            redated.append(rx.rx_id)
        prescriptions.append(rx)
    signing_list = SigningList(prescriptions)
    for rx_id in sorted(chosen):
        signing_list.mark_ready(rx_id)
    return Opened(
        user,
        grant,
        group,
        signing_list,
        {rec.rx_id: rec.draft_sha256 for rec in group.drafts},
        tuple(redated),
        status,
    )


def _redate(rx: Prescription, today: date) -> Prescription:
    try:
        return replace(rx, date_of_issue=today)
    except PrescriptionInvalid as exc:
        raise InputError(
            f"Prescription {rx.rx_id} would be dated {today} when signed "
            f"today, which it does not allow: {exc}. Change the draft."
        ) from exc


def _match(ref: str, known: set[str]) -> str:
    hits = [k for k in known if k.startswith(ref.strip().lower())]
    if len(hits) != 1 or len(ref.strip()) < 6:
        raise InputError(
            f"{ref} is not one of this patient's drafts (give at least the first "
            "6 characters of its id)."
        )
    return hits[0]


def sign_queued(
    store: Store,
    actor: Actor,
    patient: str,
    session: SigningSession,
    interaction: RxInteraction,
    revocation: RevocationCheck,
    *,
    rx_ids: Sequence[str] = (),
    clock: Clock = utc_now,
    pharmacies: Mapping[str, Pharmacy] | Pharmacy | None = None,
    dea: str | None = None,
) -> list[SignedRx]:
    """The whole ceremony from the store: checks, review + attestation, PIN, sign, commit.

    *pharmacies* (rx id → the pharmacy the practitioner chose, or one pharmacy for all)
    also signs those prescriptions as NCPDP SCRIPT NewRx messages to it, kept with the
    signature.
    """
    hard_token_first(session, clock())
    opened = open_signing_list(
        store,
        actor,
        patient,
        session.identity,
        session.chain,
        revocation,
        now=clock(),
        rx_ids=rx_ids,
        dea=dea,
    )
    identity = session.identity
    ready = [rx.rx_id for rx in opened.signing_list.ready]
    base = {
        **actor.details(),
        "rx_ids": ready,
        "patient_key": opened.patient.patient_key[:12],
        **_certificate_details(identity),
        "grant_id": opened.grant.grant_id,
        "revocation": opened.revocation.state.value,
    }
    signed = audited_ceremony(
        store,
        base,
        opened.signing_list,
        session,
        interaction,
        clock=clock,
        redated=list(opened.redated),
        pharmacies={i: pharmacies for i in ready}
        if isinstance(pharmacies, Pharmacy)
        else pharmacies,
    )
    try:
        committed = _commit(store, opened, signed, base, identity, clock())
    except CsosError as exc:
        # A draft changed meanwhile, or the store failed: the signatures made are dropped
        # here, never stored, never sent.
        _event(
            store,
            AuditEvent.RX_SIGN_FAILED,
            clock(),
            {**base, "reason": type(exc).__name__, "message": exc.message},
        )
        raise
    checkpoint_after_session(store, session)  # the session ends by signing the audit head
    return committed


def audited_ceremony(
    store: Store,
    base: dict[str, object],
    signing_list: SigningList,
    session: SigningSession,
    interaction: RxInteraction,
    *,
    clock: Clock,
    redated: list[str] | None = None,
    pharmacies: Mapping[str, Pharmacy] | None = None,
) -> list[SignedPrescription]:
    """sign_ready with its attempt, failed authentication or failure in the audit log."""
    # Logged and committed before the PIN is asked; if it cannot be logged, nothing is signed.
    with store.transaction():
        store.audit.append(
            AuditEvent.RX_SIGN_ATTEMPT, at=clock(), details={**base, "redated": redated or []}
        )
    try:
        return sign_ready(signing_list, session, interaction, pharmacies)
    except AUTH_FAILURES as exc:
        _event(store, AuditEvent.RX_AUTH_FAILED, clock(), {**base, "reason": type(exc).__name__})
        raise
    except CsosError as exc:
        _event(
            store,
            AuditEvent.RX_SIGN_FAILED,
            clock(),
            {**base, "reason": type(exc).__name__, "message": exc.message},
        )
        raise


def hard_token_first(session: SigningSession, now: datetime) -> None:
    """1311.115 before anything else: a token that may never sign EPCS on this machine is
    refused first, whoever asks and whatever the store holds (the session checks run it
    again with the rest)."""
    hard_token_for_epcs(software_tokens_allowed())(session.facts(now))


def sign_files(
    store: Store,
    actor: Actor,
    signing_list: SigningList,
    session: SigningSession,
    interaction: RxInteraction,
    revocation: RevocationCheck,
    *,
    clock: Clock = utc_now,
) -> list[SignedPrescription]:
    """`csos rx sign`: the ceremony on files, outside the queue, with the same permission
    check before the PIN and the same audit entries (1311.125, 1311.150). The signed
    bytes are kept in the store like a queued prescription's, so the monthly log and the
    export hold them (1311.120(b)(27), 1311.305)."""
    identity = session.identity
    now = clock()
    hard_token_first(session, now)
    status = revocation(identity, session.chain, now)
    lapse_registrations(store, now)

    def step() -> Grant:
        # Each registration the prescriptions name is checked as signing under it.
        named: list[str | None] = [
            *sorted({r.practitioner.dea_number.value for r in signing_list.ready})
        ]
        for dea in named or [None]:
            _user, grant = require_signing_grant(store, actor.user_id, identity, status, now, dea)
        for rx in signing_list.ready:
            if store.prescriptions.exists(rx.rx_id):
                raise InputError(
                    f"Prescription {rx.rx_id} is already in the store: a prescription is "
                    "signed once; give a new one a new rx_id."
                )
        return grant

    details = {**_certificate_details(identity), "revocation": status.state.value}
    grant = guarded(store, actor, "sign", now, step, {**details, "source": "file"})
    base: dict[str, object] = {
        **actor.details(),
        "source": "file",
        "rx_ids": [rx.rx_id for rx in signing_list.ready],
        **details,
        "grant_id": grant.grant_id,
    }
    signed = audited_ceremony(store, base, signing_list, session, interaction, clock=clock)
    now = clock()
    with store.transaction():
        for s in signed:
            rec = store.prescriptions.insert_draft(
                s.prescription, prepared_by=actor.user_id, now=now
            )
            store.prescriptions.mark_signed(
                rec.rx_id,
                expected_sha256=rec.draft_sha256,
                document=s.document,
                signature=s.signature,
                signed_at=now,
                signed_by=actor.user_id,
                signer_subject=identity.info.subject,
                signer_dea=s.prescription.practitioner.dea_number.value,
                certificate_der=identity.certificate_der,
            )
            store.audit.append(
                AuditEvent.RX_SIGNED,
                at=now,
                details={
                    **{k: v for k, v in base.items() if k != "rx_ids"},
                    "rx_id": s.prescription.rx_id,
                    "schedule": s.prescription.drug.schedule.value,
                    "document_sha256": hashlib.sha256(s.document).hexdigest(),
                    "signature_sha256": s.signature_digest,
                },
            )
    checkpoint_after_session(store, session)
    return signed


def _commit(
    store: Store,
    opened: Opened,
    signed: list[SignedPrescription],
    base: dict[str, object],
    identity: SigningIdentity,
    now: datetime,
) -> list[SignedRx]:
    out = []
    with store.transaction():
        for s in signed:
            rx_id = s.prescription.rx_id
            record = store.prescriptions.mark_signed(
                rx_id,
                expected_sha256=opened.digests[rx_id],
                document=s.document,
                signature=s.signature,
                signed_at=now,
                signed_by=opened.user.user_id,
                signer_subject=identity.info.subject,
                signer_dea=s.prescription.practitioner.dea_number.value,
                certificate_der=identity.certificate_der,
            )
            outbox_id = store.prescriptions.queue_transmission(rx_id, now)
            newrx: dict[str, object] = {}
            if s.newrx is not None:  # the outbox row then sends it to the chosen pharmacy
                store.script.add_sent(rx_id, s.newrx.pharmacy.ncpdp_id, s.newrx.message, now=now)
                newrx = {
                    "newrx_sha256": hashlib.sha256(s.newrx.message).hexdigest(),
                    "pharmacy_ncpdp_id": s.newrx.pharmacy.ncpdp_id,
                }
            store.audit.append(
                AuditEvent.RX_SIGNED,
                at=now,
                details={
                    **{k: v for k, v in base.items() if k != "rx_ids"},
                    "rx_id": rx_id,
                    "schedule": s.prescription.drug.schedule.value,
                    "draft_sha256": opened.digests[rx_id],
                    "document_sha256": record.document_sha256,
                    "signature_sha256": record.signature_sha256,
                    "outbox_id": outbox_id,
                    **newrx,
                },
            )
            out.append(record)
    return out


def _event(store: Store, event: AuditEvent, now: datetime, details: dict[str, object]) -> None:
    # If the store itself is what failed, the caller reports that original error instead.
    with contextlib.suppress(StoreError), store.transaction():
        store.audit.append(event, at=now, details=details)
