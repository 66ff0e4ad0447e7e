"""Approving a practitioner's signing permission with the approver's two factors.

21 CFR 1311.125(c): the second individual, a DEA registrant, approves with their
own two-factor credential. Here that is their token (something they have, holding
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
    approve_grant,
    guarded,
)
from csos_desktop.services.signing import SigningSession
from csos_desktop.store import Store
from csos_desktop.store.access import Grant

SCHEMA = "csos-rx-grant-approval/1"


def approval_document(grant: Grant, approver_id: str, now: datetime) -> bytes:
    """What the approver signs: which permission, for whom, by whom, when."""
    return canonical_bytes(
        {
            "schema": SCHEMA,
            "grant_id": grant.grant_id,
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
    identity = session.identity

    def check() -> None:
        approver = active_user(store, actor.user_id)
        grant = store.rx_grants.get(grant_id)
        if approver.user_id == grant.proposed_by:
            raise TwoPersonRule(
                DenyReason.SAME_PERSON,
                f"You proposed permission #{grant_id} yourself; a second "
                f"person must approve it ({RULE}: two individuals).",
            )
        if approver.dea_number is None:
            raise TwoPersonRule(
                DenyReason.NO_REGISTRANT,
                "The approval must come from a DEA registrant using their own "
                f"two-factor credential ({RULE}); ask a registrant to approve "
                "it.",
            )
        if identity.info.has_dea_extensions and not identity.info.matches_dea(approver.dea_number):
            raise TwoPersonRule(
                DenyReason.NO_REGISTRANT,
                f"The certificate on this token was issued for another DEA number than "
                f"{approver.user_id}'s ({approver.dea_number}): approve with your own token.",
            )

    # A refusal is audited (rx.access-denied) like every other one, before any PIN.
    guarded(store, actor, "grant-approve", now, check, {"grant_id": grant_id})
    grant = store.rx_grants.get(grant_id)
    session.check([grant], now)
    document = approval_document(grant, actor.user_id, now)
    session.log_in(interaction)
    signature = session.sign(document, now)
    evidence = {
        "document": base64.b64encode(document).decode("ascii"),
        "signature": base64.b64encode(signature).decode("ascii"),
        "signature_sha256": hashlib.sha256(signature).hexdigest(),
        "certificate_serial": str(identity.info.serial_number),
    }
    approved = approve_grant(store, actor, grant_id, now=now, evidence=evidence)
    checkpoint_after_session(store, session)  # the session ends by signing the audit head
    return approved
