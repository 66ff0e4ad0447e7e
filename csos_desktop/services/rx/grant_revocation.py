"""Revoking a practitioner's signing permission (21 CFR 1311.125(c), (d)).

A revocation is entered by one person (an access administrator, or the practitioner
themselves) and signing stops at once; a second person, a DEA registrant, executes
it with their two factors (``services.rx.grant_approval``). The events of
1311.125(d) (token lost, registration lapsed, user deactivated) revoke it in the
same transaction as the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.errors import InputError
from csos_desktop.services.rx.access import (
    DESIGNATED,
    RULE,
    Actor,
    DenyReason,
    TwoPersonRule,
    active_user,
    guarded,
    require_registrant,
    require_role,
)
from csos_desktop.store.access import Grant, GrantState, Role
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store


class RevocationEvent(StrEnum):
    """1311.125(d): events on which the application revokes a permission itself."""

    TOKEN_LOST = "token-lost"  # (d)(1)
    REGISTRATION_LAPSED = "registration-lapsed"  # (d)(2)
    USER_DEACTIVATED = "user-deactivated"  # (d)(4)


def _about(grant: Grant) -> dict[str, object]:
    """Which permission, whose, for which DEA number: what every grant audit entry names."""
    return {"grant_id": grant.grant_id, "user": grant.user_id, "dea_number": grant.dea_number}


def revoke_grant(store: Store, actor: Actor, user_id: str, reason: str, *, now: datetime) -> Grant:
    """First person: enter the revocation of a user's permission; signing stops at once.

    An access administrator or the practitioner enters it; a second person, a DEA
    registrant, executes it with their two factors (:func:`execute_revocation`).
    """
    if not reason.strip():
        raise InputError("Give the reason the permission is revoked; it is kept in the audit log.")

    def step() -> Grant:
        by = active_user(store, actor.user_id)
        if by.user_id != user_id:
            require_role(by, {Role.ACCESS_ADMIN}, "revoke another user's permission")
        grant = store.rx_grants.open_for(user_id)
        if grant is None:
            raise InputError(f"{user_id} has no proposed or active signing permission.")
        if grant.state is GrantState.PROPOSED:
            # Never allowed signing: withdrawing a proposal needs no second person.
            return _revoked(store, actor, grant, reason.strip(), now, None)
        if grant.revoke_entered_by is not None:
            raise InputError(
                f"The revocation of permission #{grant.grant_id} is already entered; a "
                "DEA registrant executes it (`csos rx grant revoke-approve`)."
            )
        entered = store.rx_grants.enter_revocation(
            grant.grant_id, by=by.user_id, now=now, reason=reason.strip()
        )
        store.audit.append(
            AuditEvent.RX_GRANT_REVOKE_ENTERED,
            at=now,
            details={
                **actor.details(),
                **_about(grant),
                "reason": reason.strip(),
            },
        )
        return entered

    return guarded(store, actor, "grant-revoke", now, step, {"user": user_id})


def check_revocation_executor(store: Store, actor: Actor, grant_id: int) -> Grant:
    """The second person may execute this entered revocation (call in a transaction)."""
    executor = active_user(store, actor.user_id)
    require_role(executor, DESIGNATED, "execute a revocation")
    grant = store.rx_grants.get(grant_id)
    if grant.state is not GrantState.ACTIVE or grant.revoke_entered_by is None:
        raise InputError(
            f"Permission #{grant_id} has no revocation entered to execute "
            "(`csos rx grant revoke` enters one)."
        )
    if executor.user_id == grant.revoke_entered_by:
        raise TwoPersonRule(
            DenyReason.SAME_PERSON,
            f"You entered the revocation of permission #{grant_id} yourself; a second "
            f"person executes it ({RULE}: two individuals).",
        )
    require_registrant(executor)
    return grant


def execute_revocation(
    store: Store,
    actor: Actor,
    grant_id: int,
    *,
    now: datetime,
    evidence: Mapping[str, object] | None = None,
) -> Grant:
    """Second person, a registrant: the entered revocation takes effect."""

    def step() -> Grant:
        grant = check_revocation_executor(store, actor, grant_id)
        assert grant.revoke_reason is not None  # entered with a reason
        return _revoked(store, actor, grant, grant.revoke_reason, now, None, evidence)

    return guarded(store, actor, "grant-revoke-execute", now, step, {"grant_id": grant_id})


def revoke_on_event(
    store: Store,
    grant: Grant,
    event: RevocationEvent,
    reason: str,
    now: datetime,
    actor: Actor | None = None,
) -> Grant:
    """1311.125(d): the application revokes on the event, in the caller's transaction."""
    # revoked_by names the practitioner the event concerns; revoked_on_event says why.
    return _revoked(store, actor, grant, reason, now, event)


def _revoked(
    store: Store,
    actor: Actor | None,
    grant: Grant,
    reason: str,
    now: datetime,
    event: RevocationEvent | None,
    evidence: Mapping[str, object] | None = None,
) -> Grant:
    by = actor.user_id if actor is not None else grant.user_id
    revoked = store.rx_grants.revoke(
        grant.grant_id, by=by, now=now, reason=reason, on_event=event.value if event else None
    )
    store.audit.append(
        AuditEvent.RX_GRANT_REVOKED,
        at=now,
        details={
            **(actor.details() if actor else {"by": None}),
            **_about(grant),
            "was": grant.state.value,
            "reason": reason,
            **({"on_event": event.value} if event else {}),
            **({"entered_by": grant.revoke_entered_by} if grant.revoke_entered_by else {}),
            **({"two_factor_approval": dict(evidence)} if evidence else {}),
        },
    )
    return revoked


def lapse_registrations(store: Store, now: datetime) -> list[Grant]:
    """Revoke, each with its audit entry, the open permissions whose registration ended."""
    today = local_date(now).isoformat()
    with store.transaction():
        lapsed = [
            g
            for g in store.rx_grants.all()
            if g.state is not GrantState.REVOKED
            and g.registration_expires is not None
            and g.registration_expires < today
        ]
        return [
            revoke_on_event(
                store,
                g,
                RevocationEvent.REGISTRATION_LAPSED,
                f"DEA registration ended {g.registration_expires}",
                now,
            )
            for g in lapsed
        ]
