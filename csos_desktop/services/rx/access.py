"""Logical access control for prescribing (21 CFR 1311.125).

Users are practitioners (may sign once permitted), agents (prepare, never
sign) and access administrators. Signing permission, and its revocation, is
entered by one designated person and executed by a second, distinct one who is
a DEA registrant and uses their two-factor credential (1311.125(c)). A
permission names the practitioner's DEA number, the SHA-256 fingerprint of
their certificate and the end of their registration. Entering a revocation
stops signing at once; the events of 1311.125(d) (token lost, registration
lapsed, user deactivated) revoke it in the same transaction as the event.
Every change, and every refusal, is one transaction with its audit entry. The
rules are checked inside that transaction, so two windows cannot both pass a
check on stale data.
"""

from __future__ import annotations

import getpass
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from asn1crypto import x509 as asn1_x509

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.errors import CsosError, InputError
from csos_desktop.pki.profile import NotACsosCertificate, read_epcs_certificate
from csos_desktop.store.access import Grant, GrantState, Role, RxUser
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store

T = TypeVar("T")
_USER_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
RULE = "21 CFR 1311.125(c)"


class DenyReason(StrEnum):
    UNKNOWN_USER = "unknown-user"
    INACTIVE_USER = "inactive-user"
    ROLE = "role"
    NO_PERMISSION = "no-permission"
    SAME_PERSON = "same-person"
    NO_REGISTRANT = "no-registrant"
    DEA_MISMATCH = "dea-mismatch"
    CERTIFICATE_EXPIRED = "certificate-expired"
    CERTIFICATE_REVOKED = "certificate-revoked"
    CERTIFICATE_UNTRUSTED = "certificate-untrusted"
    CERTIFICATE_NOT_GRANTED = "certificate-not-granted"
    REGISTRATION_LAPSED = "registration-lapsed"
    REGISTRATION_NOT_VERIFIED = "registration-not-verified"


class RevocationEvent(StrEnum):
    """1311.125(d): events on which the application revokes a permission itself."""

    TOKEN_LOST = "token-lost"  # (d)(1)
    REGISTRATION_LAPSED = "registration-lapsed"  # (d)(2)
    USER_DEACTIVATED = "user-deactivated"  # (d)(4)


class AccessDenied(CsosError):
    """The user may not do this; the refusal itself is in the audit log."""

    def __init__(self, reason: DenyReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class TwoPersonRule(AccessDenied):
    """A permission grant that does not involve two people, one of them a registrant."""


class SigningRefused(AccessDenied):
    """This user, permission or certificate may not sign prescriptions now."""


def os_login() -> str | None:
    """The operating-system account this runs under, recorded next to the chosen user."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry / no login name: record none
        return None


@dataclass(frozen=True)
class Actor:
    """Who acts, as claimed by the GUI or ``--as``, and the OS account it came from."""

    user_id: str
    os_login: str | None = None

    def details(self) -> dict[str, object]:
        out: dict[str, object] = {"by": self.user_id}
        if self.os_login is not None:
            out["os_login"] = self.os_login
        return out


def guarded(
    store: Store,
    actor: Actor | None,
    action: str,
    now: datetime,
    step: Callable[[], T],
    extra: dict[str, object] | None = None,
) -> T:
    """Run *step* in one transaction; an AccessDenied is audited (and committed), then raised."""
    denied: AccessDenied | None = None
    with store.transaction():
        # A refusal must change nothing but the log, whatever the step wrote before it.
        store.conn.execute("SAVEPOINT rx_step")
        try:
            result = step()
        except AccessDenied as exc:
            store.conn.execute("ROLLBACK TO rx_step")
            denied = exc
            who = actor.details() if actor else {"by": None}
            store.audit.append(
                AuditEvent.RX_ACCESS_DENIED,
                at=now,
                details={
                    **who,
                    "action": action,
                    "reason": exc.reason.value,
                    "message": exc.message,
                    **(extra or {}),
                },
            )
        else:
            store.conn.execute("RELEASE rx_step")
            return result
    raise denied


def active_user(store: Store, user_id: str) -> RxUser:
    """The acting user's record; unknown or deactivated users are refused."""
    user = store.rx_users.find(user_id)
    if user is None:
        raise AccessDenied(
            DenyReason.UNKNOWN_USER,
            f"No prescribing user '{user_id}' is on "
            "record; an access administrator adds users (`csos rx user add`).",
        )
    if not user.active:
        raise AccessDenied(
            DenyReason.INACTIVE_USER,
            f"User '{user_id}' has been deactivated and may no longer act in CSOS Desktop.",
        )
    return user


def require_role(user: RxUser, roles: set[Role], what: str) -> None:
    if user.role not in roles:
        allowed = " or ".join(sorted(r.value for r in roles))
        raise AccessDenied(
            DenyReason.ROLE, f"{user.user_id} is {_a(user.role)}; only {allowed} users may {what}."
        )


def _a(role: Role) -> str:
    return ("an " if role.value[0] in "aeiou" else "a ") + role.value


# -- users ----------------------------------------------------------------------------


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
    from csos_desktop.services.rx.registrations import check_state

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
    # Imported on use (as below): services.rx.registrations builds on this module's rules.
    from csos_desktop.services.rx.registrations import check_registration_number

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


# -- signing permission -----------------------------------------------------------------

_DESIGNATED = {Role.ACCESS_ADMIN, Role.PRACTITIONER}


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
        require_role(proposer, _DESIGNATED, "manage signing permissions")
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
        from csos_desktop.services.rx.registrations import to_verify

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
        require_role(approver, _DESIGNATED, "approve signing permissions")
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


def _about(grant: Grant) -> dict[str, object]:
    """Which permission, whose, for which DEA number: what every grant audit entry names."""
    return {"grant_id": grant.grant_id, "user": grant.user_id, "dea_number": grant.dea_number}


def require_registrant(second: RxUser) -> None:
    """1311.125(c): the second individual, who executes the data entered, is a registrant."""
    if not second.registrant:
        raise TwoPersonRule(
            DenyReason.NO_REGISTRANT,
            f"{second.user_id} holds no DEA registration: the second person, who "
            f"executes what the first entered, must be a DEA registrant ({RULE}). "
            "Ask a registrant to do it.",
        )


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
    require_role(executor, _DESIGNATED, "execute a revocation")
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


def signing_permission(store: Store, user_id: str, now: datetime) -> tuple[RxUser, Grant]:
    """The practitioner and their active permission, or SigningRefused (call in a transaction)."""
    user = active_user(store, user_id)
    if user.role is not Role.PRACTITIONER:
        raise SigningRefused(
            DenyReason.ROLE,
            f"{user_id} is {_a(user.role)}: agents and "
            "administrators may prepare or manage prescriptions, but only "
            "the practitioner signs them.",
        )
    grant = store.rx_grants.open_for(user_id)
    if grant is None or not grant.may_sign:
        if grant is None:
            waiting = (
                " An access administrator proposes it and a second person, a DEA "
                "registrant, approves it (`csos rx grant`)."
            )
        elif grant.state is GrantState.PROPOSED:
            waiting = f" Permission #{grant.grant_id} awaits approval by a second person."
        else:
            waiting = f" The revocation of permission #{grant.grant_id} has been entered."
        raise SigningRefused(
            DenyReason.NO_PERMISSION,
            f"{user_id} has no permission to sign controlled-substance prescriptions." + waiting,
        )
    if (
        grant.registration_expires is not None
        and grant.registration_expires < local_date(now).isoformat()
    ):
        raise SigningRefused(
            DenyReason.REGISTRATION_LAPSED,
            f"{user_id}'s DEA registration ended on {grant.registration_expires}; the "
            "permission to sign is revoked (21 CFR 1311.125(d)(2)). Once renewed, a new "
            "permission is granted.",
        )
    if grant.certificate_sha256 is None:
        raise SigningRefused(
            DenyReason.CERTIFICATE_NOT_GRANTED,
            f"Permission #{grant.grant_id} names no certificate (granted before "
            "permissions named one): grant it anew with the practitioner's token.",
        )
    return user, grant
