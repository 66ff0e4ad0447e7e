"""Logical access control for prescribing (21 CFR 1311.125): the shared core.

Users are practitioners (may sign once permitted), agents (prepare, never
sign) and access administrators. Every change, and every refusal, is one
transaction with its audit entry (:func:`guarded`). The rules are checked inside
that transaction, so two windows cannot both pass a check on stale data.

The jobs built on this core live beside it: ``users`` (adding and deactivating
users), ``grants`` (entering and approving a signing permission),
``grant_revocation`` (revoking one, by two people or on a 1311.125(d) event) and
``permission`` (may this practitioner sign now).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from csos_desktop.domain.errors import CsosError
from csos_desktop.store.access import Role, RxUser
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store

T = TypeVar("T")
RULE = "21 CFR 1311.125(c)"
# Who may enter, approve or execute a signing permission or its revocation.
DESIGNATED = {Role.ACCESS_ADMIN, Role.PRACTITIONER}


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
            DenyReason.ROLE,
            f"{user.user_id} is {with_article(user.role)}; only {allowed} users may {what}.",
        )


def with_article(role: Role) -> str:
    """The role as a refusal names it: 'a practitioner', 'an agent'."""
    return ("an " if role.value[0] in "aeiou" else "a ") + role.value


def require_registrant(second: RxUser) -> None:
    """1311.125(c): the second individual, who executes the data entered, is a registrant."""
    if not second.registrant:
        raise TwoPersonRule(
            DenyReason.NO_REGISTRANT,
            f"{second.user_id} holds no DEA registration: the second person, who "
            f"executes what the first entered, must be a DEA registrant ({RULE}). "
            "Ask a registrant to do it.",
        )
