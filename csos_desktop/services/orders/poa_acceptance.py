"""The attorney-in-fact accepts a power of attorney with their own signature (1305.05(c)).

The form has the attorney affirm, under their own signature, that they are the person
named and that the signature is theirs. Here that is a small document
(``csos-poa-acceptance/1``: the affirmation, the SHA-256 of the power of attorney's
signed bytes, their name and the time) signed on their own token with their PIN: two
factors, like every signature. The certificate must be one the power of attorney names,
checked before the PIN. The signed bytes and the CMS signature are kept as signed, the
audit entry is written in the same transaction, and the session ends by signing the
audit chain's head, like every signing session.
"""

from __future__ import annotations

import hashlib
from datetime import UTC

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.poa import Acceptance, SignerNotAuthorised
from csos_desktop.services.audit.checkpoint import checkpoint_after_session
from csos_desktop.services.interaction import Interaction
from csos_desktop.services.orders.poa import fingerprint
from csos_desktop.services.signing import SigningIdentity, SigningSession
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store
from csos_desktop.store.poa import PoaRecord


def check_acceptor(store: Store, identity: SigningIdentity, ref: str) -> PoaRecord:
    """Before the PIN: a current power of attorney not yet accepted, and a certificate it
    names (the attorney's own token, not the registrant's or anyone else's)."""
    rec = store.poa.resolve(ref)
    if not rec.current:
        raise InputError(
            f"The power of attorney of {rec.holder_name} was revoked on {rec.revoked_at}; "
            "it can no longer be accepted."
        )
    if rec.accepted:
        raise InputError(
            f"{rec.holder_name} already accepted this power of attorney on {rec.accepted_at}."
        )
    if fingerprint(identity.certificate_der) not in rec.certificates:
        raise SignerNotAuthorised(
            f"The certificate on this token ({identity.info.subject}) is not one the power of "
            f"attorney of {rec.holder_name} names: the attorney-in-fact accepts it with their "
            "own token, holding a certificate the registrant listed in the grant "
            "(21 CFR 1305.05(c))."
        )
    return rec


def check_acceptor_audited(store: Store, identity: SigningIdentity, ref: str) -> PoaRecord:
    """``check_acceptor``, with a certificate the grant does not name audited before the
    refusal is raised: someone tried to accept another person's power of attorney."""
    try:
        return check_acceptor(store, identity, ref)
    except SignerNotAuthorised:
        rec = store.poa.resolve(ref)
        with store.transaction():
            store.audit.append(
                AuditEvent.POA_ACCEPT_REFUSED,
                at=utc_now(),
                details={
                    "poa_id": rec.poa_id,
                    "dea_number": rec.dea_number,
                    "holder": rec.holder_name,
                    "reason": "certificate-not-named",
                    "certificate_sha256": fingerprint(identity.certificate_der),
                    "certificate_subject": identity.info.subject,
                },
            )
        raise


def acceptance_of(rec: PoaRecord, identity: SigningIdentity, clock: Clock) -> Acceptance:
    return Acceptance(
        rec.poa_id,
        rec.dea_number,
        rec.holder_name,
        hashlib.sha256(rec.document).hexdigest(),
        fingerprint(identity.certificate_der),
        clock().astimezone(UTC).replace(microsecond=0),
    )


def accept(
    store: Store,
    session: SigningSession,
    interaction: Interaction,
    ref: str,
    *,
    clock: Clock = utc_now,
) -> PoaRecord:
    """Check, ask the PIN once, sign the acceptance, keep it and audit it, then checkpoint."""
    rec = check_acceptor_audited(store, session.identity, ref)
    session.log_in(interaction)  # runs the session's pre-PIN checks once more first
    acceptance = acceptance_of(rec, session.identity, clock)
    document = acceptance.canonical_bytes()
    signature = session.sign(document, acceptance.accepted_at)
    with store.transaction():
        check_acceptor(store, session.identity, ref)  # nobody accepted or revoked meanwhile
        store.poa.accept(
            rec.poa_id,
            document=document,
            signature=signature,
            certificate_sha256=acceptance.certificate_sha256,
            now=acceptance.accepted_at,
        )
        store.audit.append(
            AuditEvent.POA_ACCEPTED,
            at=acceptance.accepted_at,
            details={
                "poa_id": rec.poa_id,
                "dea_number": rec.dea_number,
                "accepted_by": rec.holder_name,
                "certificate_sha256": acceptance.certificate_sha256,
                "certificate_subject": session.identity.info.subject,
                "poa_document_sha256": acceptance.poa_document_sha256,
                "document_sha256": hashlib.sha256(document).hexdigest(),
                "signature_sha256": hashlib.sha256(signature).hexdigest(),
            },
        )
    checkpoint_after_session(store, session)  # the session ends by signing the audit head
    return store.poa.get(rec.poa_id)
