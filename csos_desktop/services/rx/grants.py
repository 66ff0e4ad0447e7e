"""Entering and approving a practitioner's signing permission (21 CFR 1311.125(c)).

Signing permission is entered by one designated person and executed by a second,
distinct one who is a DEA registrant and uses their two-factor credential
(``services.rx.grant_approval``). A permission names the practitioner's DEA number,
the SHA-256 fingerprint of their certificate and the end of their registration.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from asn1crypto import x509 as asn1_x509

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.errors import InputError
from csos_desktop.pki.profile import NotACsosCertificate, read_epcs_certificate
from csos_desktop.services.rx.access import (
    DESIGNATED,
    RULE,
    Actor,
    DenyReason,
    SigningRefused,
    TwoPersonRule,
    active_user,
    guarded,
    require_registrant,
    require_role,
)
from csos_desktop.services.rx.registrations import to_verify
from csos_desktop.store.access import Grant, GrantState, Role
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store


def certificate_fingerprint(certificate_der: bytes) -> str:
    """SHA-256 of the certificate's DER bytes, as a permission records it."""
    return hashlib.sha256(certificate_der).hexdigest()


def propose_grant(
    store: Store,
    actor: Actor,
    user_id: str,
    *,
    certificate_der: bytes,
    registration_expires: date,
    registration_verified: bool,
    now: datetime,
    dea_numbers: Sequence[str] = (),
) -> Grant:
    """First of the two people: enter the permission for a practitioner to sign.

    It names the practitioner's certificate (its SHA-256), the day their DEA
    registration ends, and the registrations the proposer verified (*dea_numbers*;
    by default every current one, or with a certificate bound to a DEA number, that
    one): signing with any other certificate, under any other registration, or after
    that day, is refused.
    """
    if not registration_verified:
        raise InputError(
            "Before proposing, check that the practitioner's DEA registration "
            "and State authorisation(s) are current and in good standing "
            "(21 CFR 1311.125(b)), then confirm it (the check box in the window, "
            "--registration-verified on the command line)."
        )
    if registration_expires < local_date(now):
        raise InputError(
            f"The DEA registration ended on {registration_expires}: a practitioner "
            "whose registration has lapsed may not be given permission to sign "
            "(21 CFR 1311.125(d)(2))."
        )
    try:
        certificate = read_epcs_certificate(asn1_x509.Certificate.load(certificate_der))
    except (ValueError, TypeError, NotACsosCertificate) as exc:
        raise InputError(
            f"The practitioner's certificate cannot sign prescriptions: {exc}"
        ) from exc

    def step() -> Grant:
        proposer = active_user(store, actor.user_id)
        require_role(proposer, DESIGNATED, "manage signing permissions")
        grantee = store.rx_users.get(user_id)
        if not grantee.active or grantee.role is not Role.PRACTITIONER:
            raise InputError(
                f"{user_id} is not an active practitioner: only practitioners "
                "are given permission to sign."
            )
        open_ = store.rx_grants.open_for(user_id)
        if open_ is not None:
            raise InputError(
                f"{user_id} already has a {open_.state.value} permission (#{open_.grant_id})."
            )
        verified = to_verify(store, grantee, dea_numbers, certificate, now)
        grant = store.rx_grants.propose(
            user_id,
            next((d for d in verified if d == grantee.dea_number), verified[0]),
            certificate_sha256=certificate_fingerprint(certificate_der),
            registration_expires=registration_expires,
            by=proposer.user_id,
            now=now,
        )
        store.rx_registrations.verify_for_grant(grant.grant_id, verified)
        store.audit.append(
            AuditEvent.RX_GRANT_PROPOSED,
            at=now,
            details={
                **actor.details(),
                "grant_id": grant.grant_id,
                "user": user_id,
                "dea_number": grant.dea_number,
                "certificate_sha256": grant.certificate_sha256,
                "certificate_subject": certificate.subject,
                "registration_expires": grant.registration_expires,
                "registration_verified": True,
                "registrations_verified": verified,
            },
        )
        return grant

    return guarded(store, actor, "grant-propose", now, step, {"user": user_id})


def approve_grant(
    store: Store,
    actor: Actor,
    grant_id: int,
    *,
    now: datetime,
    evidence: Mapping[str, object] | None = None,
) -> Grant:
    """Second person: a different designated individual, a DEA registrant (1311.125(c)).

    The rules and the state change only. ``services.rx.grant_approval`` is the entry
    point that first has the approver complete their two factors (1311.125(c)) and
    passes the signed approval as ``evidence`` for the audit entry.
    """

    def step() -> Grant:
        approver = active_user(store, actor.user_id)
        require_role(approver, DESIGNATED, "approve signing permissions")
        grant = store.rx_grants.get(grant_id)
        if grant.state is not GrantState.PROPOSED:
            raise InputError(
                f"Permission #{grant_id} is {grant.state.value}; only a proposed "
                "permission can be approved."
            )
        if approver.user_id == grant.proposed_by:
            raise TwoPersonRule(
                DenyReason.SAME_PERSON,
                f"You proposed permission #{grant_id} "
                "yourself; a second person must approve it "
                f"({RULE}: two individuals).",
            )
        require_registrant(approver)
        active_user(store, grant.user_id)
        current = {r.dea_number for r in store.rx_registrations.of_user(grant.user_id)}
        gone = sorted(set(store.rx_registrations.verified_by(grant_id)) - current)
        if gone:
            raise SigningRefused(
                DenyReason.DEA_MISMATCH,
                f"Permission #{grant_id} verified DEA {', '.join(gone)}, no longer "
                f"{grant.user_id}'s registration; propose anew.",
            )
        approved = store.rx_grants.approve(grant_id, by=approver.user_id, now=now)
        store.audit.append(
            AuditEvent.RX_GRANT_APPROVED,
            at=now,
            details={
                **actor.details(),
                "grant_id": grant_id,
                "user": grant.user_id,
                "dea_number": grant.dea_number,
                "registrations_verified": list(store.rx_registrations.verified_by(grant_id)),
                "proposed_by": grant.proposed_by,
                "registrant": approver.user_id,
                **({"two_factor_approval": dict(evidence)} if evidence else {}),
            },
        )
        return approved

    return guarded(store, actor, "grant-approve", now, step, {"grant_id": grant_id})
