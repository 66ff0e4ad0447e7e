"""A practitioner's several DEA registrations, and selecting one per prescription.

21 CFR 1311.120(b)(7): where a practitioner has more than one DEA registration, the
application requires the practitioner or agent to select the registration to be
included on the prescription; 1311.135(b): one prescription names one registration.
An access administrator adds and removes registrations, each change audited in the
same transaction. A registration is removed, never deleted: prescriptions name it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.dea import parse_dea_number
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.prescription import PRESCRIBER_LETTERS
from csos_desktop.pki.profile import CsosCertificateInfo
from csos_desktop.services.rx.access import Actor, active_user, guarded, require_role
from csos_desktop.store.access import Role, RxUser
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store
from csos_desktop.store.registrations import Registration

_STATE = re.compile(r"[A-Z]{2}")


def _details(reg: Registration) -> dict[str, object]:
    return {
        "user": reg.user_id,
        "dea_number": reg.dea_number,
        "state": reg.state,
        "expires": reg.expires,
    }


def check_registration_number(role: Role, dea_number: str) -> str:
    """The DEA number normalised; a practitioner's must be one that may prescribe."""
    dea = parse_dea_number(dea_number).value
    if role is Role.PRACTITIONER and dea[0] not in PRESCRIBER_LETTERS:
        raise InputError(
            f"DEA number {dea} does not belong to a practitioner who may "
            "prescribe (it must start with A, B, F, G, M or X)."
        )
    return dea


def check_state(state: str) -> str:
    code = state.strip().upper()
    if not _STATE.fullmatch(code):
        raise InputError(
            f"'{state}' is not a State: give the two-letter code of the State the "
            "registration is for (e.g. NY)."
        )
    return code


def add_registration(
    store: Store,
    actor: Actor,
    user_id: str,
    dea_number: str,
    *,
    state: str,
    expires: date,
    now: datetime,
) -> Registration:
    """An access administrator records another DEA registration of a registrant."""
    code = check_state(state)
    if expires < local_date(now):
        raise InputError(
            f"The registration ended on {expires}; only a current registration is recorded."
        )

    def step() -> Registration:
        require_role(active_user(store, actor.user_id), {Role.ACCESS_ADMIN}, "add registrations")
        holder = active_user(store, user_id)
        if holder.role is Role.AGENT:
            raise InputError(
                f"{user_id} is an agent: agents hold no DEA registration and never sign."
            )
        dea = check_registration_number(holder.role, dea_number)
        taken = store.rx_registrations.find(dea)
        if taken is not None:
            raise InputError(
                f"DEA number {dea} is already on record for {taken.user_id}; a DEA "
                "registration belongs to one person."
            )
        reg = store.rx_registrations.add(
            user_id, dea, state=code, expires=expires, by=actor.user_id, now=now
        )
        store.audit.append(
            AuditEvent.RX_REGISTRATION_ADDED, at=now, details={**actor.details(), **_details(reg)}
        )
        return reg

    return guarded(store, actor, "registration-add", now, step, {"user": user_id})


def remove_registration(
    store: Store, actor: Actor, user_id: str, dea_number: str, *, now: datetime
) -> Registration:
    """An access administrator removes a registration; nothing is signed under it again."""
    dea = dea_number.strip().upper()

    def step() -> Registration:
        require_role(active_user(store, actor.user_id), {Role.ACCESS_ADMIN}, "remove registrations")
        current = store.rx_registrations.of_user(user_id)
        reg = next((r for r in current if r.dea_number == dea), None)
        if reg is None:
            raise InputError(
                f"{user_id} holds no current registration {dea}; theirs: {_listing(current)}."
            )
        if len(current) == 1:
            raise InputError(
                f"{dea} is {user_id}'s only registration: deactivate the user instead "
                "(`csos rx user deactivate`)."
            )
        removed = store.rx_registrations.remove(dea, by=actor.user_id, now=now)
        store.audit.append(
            AuditEvent.RX_REGISTRATION_REMOVED,
            at=now,
            details={**actor.details(), **_details(removed)},
        )
        return removed

    return guarded(store, actor, "registration-remove", now, step, {"user": user_id})


def _listing(regs: list[Registration]) -> str:
    return ", ".join(r.label() for r in regs) or "none"


def registrations(store: Store, user_id: str) -> tuple[Registration, ...]:
    """The user's current registrations, in the order they were added."""
    return tuple(store.rx_registrations.of_user(user_id))


def owner(store: Store, dea_number: str, *, removed_too: bool = False) -> RxUser | None:
    """Whose current registration *dea_number* is (or was, with *removed_too*), if anyone's."""
    reg = store.rx_registrations.find(dea_number.strip().upper())
    if reg is None or not (reg.current or removed_too):
        return None
    return store.rx_users.get(reg.user_id)


def choose(store: Store, practitioner: RxUser, requested: str | None) -> Registration:
    """The registration a prescription is issued under (1311.120(b)(7)).

    With one registration it is taken; with several, *requested* must name one of
    them, and none is assumed.
    """
    current = store.rx_registrations.of_user(practitioner.user_id)
    if not current:
        raise InputError(
            f"{practitioner.user_id} holds no current DEA registration; an access "
            "administrator adds one (`csos rx user add-dea`)."
        )
    if requested is None or not requested.strip():
        if len(current) == 1:
            return current[0]
        raise InputError(
            f"{practitioner.full_name} holds {len(current)} DEA registrations; select the "
            f"one this prescription is issued under (--dea): {_listing(current)}."
        )
    wanted = requested.strip().upper()
    for reg in current:
        if reg.dea_number == wanted:
            return reg
    raise InputError(
        f"{wanted} is not a current registration of {practitioner.full_name}; "
        f"choose one of: {_listing(current)}."
    )


def to_verify(
    store: Store,
    grantee: RxUser,
    dea_numbers: Sequence[str],
    certificate: CsosCertificateInfo,
    now: datetime,
) -> list[str]:
    """The registrations a new permission records as verified (1311.125(b)).

    A certificate with DEA extensions is bound to one DEA number (its hash with the
    subject's serialNumber) and signs under that registration only, so a permission
    for it verifies that one; a certificate without them (a CSP's, 1311.105) may
    verify several.
    """
    current = store.rx_registrations.of_user(grantee.user_id)
    bound = certificate.has_dea_extensions
    if dea_numbers:
        wanted = [choose(store, grantee, d) for d in dict.fromkeys(dea_numbers)]
    elif bound:
        wanted = [r for r in current if certificate.matches_dea(r.dea_number)]
    else:
        wanted = current
    if not wanted:
        raise InputError(
            f"This certificate was issued for another DEA number than {grantee.user_id}'s "
            f"({_listing(current)}; its DEA number hash matches none): use the "
            "practitioner's own token."
        )
    for reg in wanted:
        if bound and not certificate.matches_dea(reg.dea_number):
            raise InputError(
                f"This certificate is bound to another DEA number than {reg.dea_number} "
                "(its DEA number hash does not match). A certificate with DEA extensions "
                "signs under the one registration it was issued for: grant the "
                f"certificate issued for {reg.dea_number}, or one without DEA extensions "
                "from the practitioner's credential service provider."
            )
        if reg.lapsed(local_date(now)):
            raise InputError(
                f"DEA registration {reg.dea_number} ended on {reg.expires}: it may not be "
                "verified for signing (21 CFR 1311.125(d)(2))."
            )
    return [r.dea_number for r in wanted]
