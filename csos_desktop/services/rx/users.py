"""Adding and deactivating prescribing users (21 CFR 1311.125).

An access administrator adds everyone after the first user (who must be one) and
ends a user's access; deactivating a user revokes their open signing permission in
the same transaction (1311.125(d)(4)).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from csos_desktop.domain.errors import InputError
from csos_desktop.services.rx.access import Actor, active_user, guarded, require_role
from csos_desktop.services.rx.grant_revocation import RevocationEvent, revoke_on_event
from csos_desktop.services.rx.registrations import check_registration_number, check_state
from csos_desktop.store.access import Role, RxUser
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store

_USER_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def add_user(
    store: Store,
    actor: Actor | None,
    user_id: str,
    full_name: str,
    role: Role,
    dea_number: str | None,
    *,
    now: datetime,
    dea_state: str | None = None,
    dea_expires: date | None = None,
) -> RxUser:
    """Add a user; the very first one (no actor) must be an access administrator.

    Their DEA number, if any, is their first registration (with its State and end
    when given); an access administrator adds more (``registrations.add_registration``).
    """
    user_id, full_name = user_id.strip().lower(), full_name.strip()
    if not _USER_ID.fullmatch(user_id):
        raise InputError(
            "A user id is 1-64 characters: lower-case letters, digits, '.', '_' "
            "or '-', starting with a letter or digit."
        )
    if not full_name:
        raise InputError("Give the user's full name; it appears in the audit log.")
    dea = _check_dea(role, dea_number)
    state = None if dea_state is None else check_state(dea_state)

    def step() -> RxUser:
        if store.rx_users.count() == 0:
            if role is not Role.ACCESS_ADMIN:
                raise InputError(
                    "The first user must be an access administrator "
                    "(--role access-admin); they then add everyone else."
                )
        else:
            if actor is None:
                raise InputError("Say who is adding the user with --as (an access administrator).")
            require_role(active_user(store, actor.user_id), {Role.ACCESS_ADMIN}, "add users")
        by = actor.user_id if actor else None
        if dea is not None and (taken := store.rx_registrations.find(dea)) is not None:
            raise InputError(
                f"DEA number {dea} already belongs to a user ({taken.user_id}); a DEA "
                "registration belongs to one person."
            )
        user = store.rx_users.add(user_id, full_name, role, dea, now=now, created_by=by)
        if dea is not None:
            store.rx_registrations.add(
                user_id, dea, state=state, expires=dea_expires, by=by, now=now
            )
        store.audit.append(
            AuditEvent.RX_USER_ADDED,
            at=now,
            details={
                **(actor.details() if actor else {"by": None, "bootstrap": True}),
                "user": user_id,
                "full_name": full_name,
                "role": role.value,
                "dea_number": dea,
                **({"dea_state": state} if state else {}),
                **({"dea_expires": dea_expires.isoformat()} if dea_expires else {}),
            },
        )
        return user

    return guarded(store, actor, "user-add", now, step, {"user": user_id})


def _check_dea(role: Role, dea_number: str | None) -> str | None:
    if role is Role.AGENT:
        if dea_number:
            raise InputError(
                "An agent has no DEA number of their own: agents prepare "
                "prescriptions for practitioners and never sign."
            )
        return None
    if not dea_number:
        if role is Role.PRACTITIONER:
            raise InputError(
                "A practitioner needs their DEA registration number (--dea); "
                "their signing permission is tied to it."
            )
        return None
    return check_registration_number(role, dea_number)


def deactivate_user(store: Store, actor: Actor, user_id: str, *, now: datetime) -> RxUser:
    """An access administrator ends a user's access; an open permission is revoked with it."""

    def step() -> RxUser:
        admin = active_user(store, actor.user_id)
        require_role(admin, {Role.ACCESS_ADMIN}, "deactivate users")
        target = store.rx_users.get(user_id)
        if target.user_id == admin.user_id:
            raise InputError("Ask another access administrator to deactivate your account.")
        if not target.active:
            raise InputError(f"User '{user_id}' is already deactivated.")
        store.rx_users.deactivate(user_id, now=now, by=admin.user_id)
        grant = store.rx_grants.open_for(user_id)
        if grant is not None:
            revoke_on_event(
                store, grant, RevocationEvent.USER_DEACTIVATED, "user deactivated", now, actor
            )
        store.audit.append(
            AuditEvent.RX_USER_DEACTIVATED, at=now, details={**actor.details(), "user": user_id}
        )
        return store.rx_users.get(user_id)

    return guarded(store, actor, "user-deactivate", now, step, {"user": user_id})
