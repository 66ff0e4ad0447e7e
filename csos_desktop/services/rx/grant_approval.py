"""Approving a practitioner's signing permission, or its revocation, with two factors.

21 CFR 1311.125(c): the second individual, a DEA registrant, executes what the first
entered (a grant or a revocation) with their own two-factor credential. Here that is
their token (something they have, holding
the key of their certificate) and its PIN (something they know): the approval is a
small document signed on that token, checked, and kept in the audit log. Like every
signing session, it ends by signing the audit chain's head (an audit checkpoint).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.services.audit.checkpoint import checkpoint_after_session
from csos_desktop.services.interaction import Interaction
from csos_desktop.services.rx.access import (
    RULE,
    Actor,
    DenyReason,
    TwoPersonRule,
    active_user,
    guarded,
    require_registrant,
)
from csos_desktop.services.rx.grant_revocation import check_revocation_executor, execute_revocation
from csos_desktop.services.rx.grants import approve_grant
from csos_desktop.services.signing import SigningSession
from csos_desktop.store import Store
from csos_desktop.store.access import Grant, RxUser

SCHEMA = "csos-rx-grant-approval/1"


def approval_document(
    grant: Grant, approver_id: str, now: datetime, action: str = "grant"
) -> bytes:
    """What the approver signs: which permission, for whom, by whom, when, grant or revoke."""
    return canonical_bytes(
        {
            "schema": SCHEMA,
            "action": action,
            "grant_id": grant.grant_id,
            "certificate_sha256": grant.certificate_sha256,
            "user": grant.user_id,
            "dea_number": grant.dea_number,
            "proposed_by": grant.proposed_by,
            "approved_by": approver_id,
            "at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )


def approve_grant_with_token(
    store: Store,
    actor: Actor,
    grant_id: int,
    session: SigningSession,
    interaction: Interaction,
    *,
    now: datetime,
) -> Grant:
    """Check the approver before any PIN, have them sign the approval, then approve."""

    def check() -> None:
        approver = active_user(store, actor.user_id)
        grant = store.rx_grants.get(grant_id)
        if approver.user_id == grant.proposed_by:
            raise TwoPersonRule(
                DenyReason.SAME_PERSON,
                f"You proposed permission #{grant_id} yourself; a second "
                f"person must approve it ({RULE}: two individuals).",
            )
        require_registrant(approver)
        _own_token(store, approver, session)

    # A refusal is audited (rx.access-denied) like every other one, before any PIN.
    guarded(store, actor, "grant-approve", now, check, {"grant_id": grant_id})
    evidence = _signed_approval(store, actor, grant_id, session, interaction, now, "grant")
    approved = approve_grant(store, actor, grant_id, now=now, evidence=evidence)
    checkpoint_after_session(store, session)  # the session ends by signing the audit head
    return approved


def execute_revocation_with_token(
    store: Store,
    actor: Actor,
    grant_id: int,
    session: SigningSession,
    interaction: Interaction,
    *,
    now: datetime,
) -> Grant:
    """The second person, a registrant, executes an entered revocation with two factors."""

    def check() -> None:
        check_revocation_executor(store, actor, grant_id)
        _own_token(store, active_user(store, actor.user_id), session)

    guarded(store, actor, "grant-revoke-execute", now, check, {"grant_id": grant_id})
    evidence = _signed_approval(store, actor, grant_id, session, interaction, now, "revoke")
    revoked = execute_revocation(store, actor, grant_id, now=now, evidence=evidence)
    checkpoint_after_session(store, session)
    return revoked


def _own_token(store: Store, person: RxUser, session: SigningSession) -> None:
    info = session.identity.info
    # A registrant with several registrations may hold the certificate of any of them.
    theirs = [r.dea_number for r in store.rx_registrations.of_user(person.user_id)]
    theirs = theirs or [person.dea_number or ""]
    if info.has_dea_extensions and not any(info.matches_dea(d) for d in theirs):
        raise TwoPersonRule(
            DenyReason.NO_REGISTRANT,
            f"The certificate on this token was issued for another DEA number than "
            f"{person.user_id}'s ({', '.join(theirs)}): approve with your own token.",
        )


def _signed_approval(
    store: Store,
    actor: Actor,
    grant_id: int,
    session: SigningSession,
    interaction: Interaction,
    now: datetime,
    action: str,
) -> dict[str, object]:
    grant = store.rx_grants.get(grant_id)
    session.check([grant], now)
    document = approval_document(grant, actor.user_id, now, action)
    session.log_in(interaction)
    signature = session.sign(document, now)
    return {
        "document": base64.b64encode(document).decode("ascii"),
        "signature": base64.b64encode(signature).decode("ascii"),
        "signature_sha256": hashlib.sha256(signature).hexdigest(),
        "certificate_serial": str(session.identity.info.serial_number),
    }
