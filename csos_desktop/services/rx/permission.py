"""May this practitioner sign with this certificate now? One answer for every signing path.

21 CFR 1311.125: only a practitioner with an active permission signs, and the
permission names the certificate (its SHA-256) granted with it; 1311.120(b)(12)
and 1311.140(a)(3): the certificate is the practitioner's own. Checked before any
factor is asked, inside the caller's transaction (:func:`access.guarded`), so a
refusal is audited and nothing else changes.
"""

from __future__ import annotations

from datetime import datetime

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.revocation import RevocationState, RevocationStatus
from csos_desktop.services.rx.access import DenyReason, SigningRefused, active_user, with_article
from csos_desktop.services.rx.ceremony import REFUSED_STATES
from csos_desktop.services.rx.grants import certificate_fingerprint
from csos_desktop.store.access import Grant, GrantState, Role, RxUser
from csos_desktop.store.local_store import Store
from csos_desktop.token.identity import CertificateNotUsable, SigningIdentity


def signing_permission(store: Store, user_id: str, now: datetime) -> tuple[RxUser, Grant]:
    """The practitioner and their active permission, or SigningRefused (call in a transaction)."""
    user = active_user(store, user_id)
    if user.role is not Role.PRACTITIONER:
        raise SigningRefused(
            DenyReason.ROLE,
            f"{user_id} is {with_article(user.role)}: agents and "
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


def check_certificate(
    user: RxUser,
    identity: SigningIdentity,
    status: RevocationStatus,
    now: datetime,
    dea_number: str | None = None,
) -> None:
    """The certificate on the token belongs to this practitioner and is still good.

    *dea_number* is the registration signed under (default: the user's first).
    """
    # Without DEA extensions (a CSP certificate, 1311.105) the permission's certificate
    # fingerprint, granted under 1311.125, is what binds the practitioner; with them,
    # the certificate is bound to one DEA number and signs under that registration only.
    dea = dea_number or user.dea_number or ""
    if identity.info.has_dea_extensions and not identity.info.matches_dea(dea):
        other = (
            ""
            if dea == user.dea_number
            else (
                " A certificate with DEA extensions signs under the one registration it was "
                f"issued for: to sign under {dea}, use the certificate issued for {dea}, or one "
                "without DEA extensions from your credential service provider."
            )
        )
        raise SigningRefused(
            DenyReason.DEA_MISMATCH,
            f"The certificate on the token was issued for another DEA number than "
            f"{user.user_id}'s {dea} (its DEA number hash does not match): "
            "sign with your own token." + other,
        )
    try:
        identity.check_usable(now)
    except CertificateNotUsable as exc:
        raise SigningRefused(
            DenyReason.CERTIFICATE_EXPIRED, exc.message + " Nothing can be signed with it."
        ) from exc
    if status.state is RevocationState.REVOKED:
        raise SigningRefused(
            DenyReason.CERTIFICATE_REVOKED,
            "Your certificate has been "
            f"revoked ({status.message}); it may not sign. Enrol for a new "
            "certificate.",
        )
    if status.state in REFUSED_STATES:
        raise SigningRefused(
            DenyReason.CERTIFICATE_UNTRUSTED,
            "Your certificate does not "
            f"chain to a trusted root ({status.message}); it may not sign.",
        )


def require_signing_grant(
    store: Store,
    user_id: str,
    identity: SigningIdentity,
    status: RevocationStatus,
    now: datetime,
    dea_number: str | None = None,
) -> tuple[RxUser, Grant]:
    """The practitioner, their active permission, and the granted certificate on the token,
    for signing under registration *dea_number* (default: the user's first).

    Raises SigningRefused otherwise. Call inside :func:`access.guarded` (one transaction,
    the refusal audited), before any PIN is asked.
    """
    user, grant = signing_permission(store, user_id, now)
    dea = dea_number or user.dea_number or ""
    # A revoked or expired certificate is refused as such first: that reason is the one
    # the practitioner acts on (and the alert the audit analysis raises).
    check_certificate(user, identity, status, now, dea)
    _check_registration(store, user, grant, dea, now)
    if certificate_fingerprint(identity.certificate_der) != grant.certificate_sha256:
        raise SigningRefused(
            DenyReason.CERTIFICATE_NOT_GRANTED,
            f"The certificate on this token is not the one {user_id}'s permission "
            f"#{grant.grant_id} was granted for (SHA-256 {grant.certificate_sha256}): "
            "sign with that certificate, or have the permission granted anew for this one.",
        )
    return user, grant


def _check_registration(store: Store, user: RxUser, grant: Grant, dea: str, now: datetime) -> None:
    """1311.120(b)(7), 1311.125(b): a current registration of theirs that the permission
    verified and that has not ended."""
    reg = store.rx_registrations.find(dea)
    if reg is None or reg.user_id != user.user_id:
        raise SigningRefused(
            DenyReason.DEA_MISMATCH,
            f"DEA {dea} is not a registration of {user.user_id}: only the practitioner "
            "named on the prescription may sign it.",
        )
    if not reg.current:
        raise SigningRefused(
            DenyReason.REGISTRATION_NOT_VERIFIED,
            f"Registration {dea} was removed from {user.user_id}'s record on "
            f"{reg.removed_at}; nothing is signed under it.",
        )
    if reg.lapsed(local_date(now)):
        raise SigningRefused(
            DenyReason.REGISTRATION_LAPSED,
            f"DEA registration {dea} ended on {reg.expires}; nothing is signed under it "
            "(21 CFR 1311.125(d)(2)). Once renewed, an access administrator records it anew.",
        )
    if dea not in store.rx_registrations.verified_by(grant.grant_id):
        raise SigningRefused(
            DenyReason.REGISTRATION_NOT_VERIFIED,
            f"Permission #{grant.grant_id} was granted after verifying "
            f"{', '.join(store.rx_registrations.verified_by(grant.grant_id)) or 'no registration'}"
            f", not {dea} (21 CFR 1311.125(b)): have a permission granted that verifies it.",
        )
