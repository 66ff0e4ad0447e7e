"""Power of attorney use cases (21 CFR 1305.05, 1311.45), shared by the CLI and the GUI.

The registrant records themself once (the certificate on their token), then
grants and revokes powers of attorney, each signed on the registrant's token.
A revocation produces the request the CSOS CA must get within 6 hours; when it
was sent is recorded. ``check_signer`` is the signing rule every order path
runs before the PIN is asked.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from asn1crypto import x509 as asn1_x509

from csos_desktop.domain.clock import Clock, utc_now
from csos_desktop.domain.errors import InputError
from csos_desktop.domain.poa import (
    Authority,
    PowerOfAttorney,
    Revocation,
    SignerNotAuthorised,
    ca_notice_due,
    ca_request,
    signer_authority,
)
from csos_desktop.pki.profile import NotACsosCertificate, read_csos_profile
from csos_desktop.store.audit import AuditEvent
from csos_desktop.store.local_store import Store
from csos_desktop.store.poa import PoaRecord, Registrant

if TYPE_CHECKING:  # the token stack loads when a POA is signed, not with the GUI's screens
    from csos_desktop.token.identity import SigningIdentity


__all__ = ["SignerNotAuthorised", "check_signer"]


def fingerprint(certificate_der: bytes) -> str:
    return hashlib.sha256(certificate_der).hexdigest()


def check_signer(
    store: Store,
    identity: SigningIdentity,
    dea_number: str,
    now: datetime,
    *,
    schedule_i_or_ii: bool,
) -> Authority:
    """Refuse (SignerNotAuthorised) a signer who is neither registrant nor current attorney,
    and (RegistrantNotRecorded) a schedule I/II order before the registrant is recorded."""
    registry = store.poa.registry(dea_number)
    return signer_authority(
        registry,
        fingerprint(identity.certificate_der),
        now,
        schedule_i_or_ii=schedule_i_or_ii,
    )


def record_registrant(
    store: Store,
    identity: SigningIdentity,
    name: str,
    *,
    dea_number: str | None = None,
    clock: Clock = utc_now,
) -> Registrant:
    """The person who signed the latest registration application, with their certificate.

    The certificate carries only a hash of the DEA number: the number given (or known
    from enrolment or the ``dea_number`` setting) must match it.
    """
    person = " ".join(name.split())
    if len(person) < 3:
        raise InputError("Give the registrant's full name (--name).")
    from csos_desktop.enrol.known_dea import known_dea  # enrolment records: httpx

    known = known_dea(identity, dea_number)
    if known is None or not known.matches:
        raise InputError(
            "Give the DEA number of the registration (--dea): the certificate on this token "
            "holds only its hash" + (f", and {known.number} does not match it." if known else ".")
        )
    now = clock()
    dea = known.number
    with store.transaction():
        store.poa.record_registrant(dea, person, identity.certificate_der, now)
        store.audit.append(
            AuditEvent.POA_REGISTRANT_RECORDED,
            at=now,
            details={
                "dea_number": dea,
                "name": person,
                "certificate_sha256": fingerprint(identity.certificate_der),
                "certificate_subject": identity.info.subject,
            },
        )
    reg = store.poa.registrant(dea)
    assert reg is not None
    return reg


def check_registrant(store: Store, identity: SigningIdentity) -> Registrant:
    """Only the registrant grants and revokes (1305.05(a), (b)); checked before the PIN."""
    reg = store.poa.registrant_for_certificate(fingerprint(identity.certificate_der))
    if reg is not None:
        return reg
    if not store.poa.registrant_deas():
        raise InputError(
            "No registrant is recorded. The person who signed the latest registration "
            "application records themself first: `csos poa registrant --name NAME --dea DEA` "
            "with their token."
        )
    raise SignerNotAuthorised(
        "Only the registrant grants or revokes powers of attorney (21 CFR 1305.05); the "
        "certificate on this token is not the recorded registrant's."
    )


def holder_fingerprints(dea_number: str, certificates: Sequence[bytes]) -> list[str]:
    """SHA-256 of each attorney certificate, which must be a CSOS certificate for the DEA."""
    if not certificates:
        raise InputError("Give the certificate(s) the attorney-in-fact signs with (--holder-cert).")
    out = []
    for der in certificates:
        try:
            info = read_csos_profile(asn1_x509.Certificate.load(der))
        except (NotACsosCertificate, ValueError) as exc:
            raise InputError(f"An attorney certificate is not a CSOS certificate: {exc}") from exc
        if not info.matches_dea(dea_number):
            raise InputError(
                f"The attorney certificate of {info.subject} was not issued for DEA "
                f"{dea_number} (its DEA number hash does not match); a power of attorney "
                "covers one registration."
            )
        out.append(fingerprint(der))
    return out


def grant(
    store: Store,
    identity: SigningIdentity,
    sign: Callable[[bytes], bytes],
    *,
    holder_name: str,
    holder_certificates: Sequence[bytes],
    registrant_address: str,
    place: str,
    clock: Clock = utc_now,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> PoaRecord:
    """Sign a power of attorney in the 1305.05(c) form on the registrant's token and keep it.

    It is pending until the attorney-in-fact signs their acceptance on their own token
    (``poa_acceptance.accept``); until then they sign no schedule I/II order.
    """
    reg = check_registrant(store, identity)
    dea = reg.dea_number
    fingerprints = holder_fingerprints(dea, holder_certificates)
    name = " ".join(holder_name.split())
    if len(name) < 3 or not registrant_address.strip() or not place.strip():
        raise InputError("Give the attorney's full name, the registrant's address and the place.")
    now = clock()
    poa = PowerOfAttorney(
        new_id(),
        dea,
        identity.info.subject,
        " ".join(registrant_address.split()),
        reg.name,
        name,
        tuple(fingerprints),
        now.astimezone(UTC).date(),
        " ".join(place.split()),
        now.astimezone(UTC).replace(microsecond=0),
    )
    document = poa.canonical_bytes()
    with store.transaction():
        signature = sign(document)
        store.poa.insert_grant(
            poa_id=poa.poa_id,
            dea_number=dea,
            holder_name=name,
            granted_on=poa.granted_on.isoformat(),
            granted_by_sha256=fingerprint(identity.certificate_der),
            certificates=fingerprints,
            document=document,
            signature=signature,
        )
        store.audit.append(
            AuditEvent.POA_GRANTED,
            at=now,
            details={
                "poa_id": poa.poa_id,
                "dea_number": dea,
                "holder_name": name,
                "certificates_sha256": sorted(fingerprints),
                "granted_by": reg.name,
                "status": "pending-acceptance",
                "document_sha256": hashlib.sha256(document).hexdigest(),
            },
        )
    return store.poa.get(poa.poa_id)


def revoke(
    store: Store,
    identity: SigningIdentity,
    sign: Callable[[bytes], bytes],
    ref: str,
    *,
    reason: str,
    place: str,
    clock: Clock = utc_now,
) -> PoaRecord:
    """Sign the notice of revocation (1305.05(d)); from now on the holder cannot sign."""
    reg = check_registrant(store, identity)
    rec = check_revocable(store, ref, reg)
    why = " ".join(reason.split())
    if len(why) < 5:
        raise InputError("Give the reason the power of attorney is revoked (--reason).")
    now = clock()
    notice = Revocation(
        rec.poa_id,
        rec.dea_number,
        reg.name,
        rec.holder_name,
        now.astimezone(UTC).date(),
        " ".join(place.split()),
        why,
        now.astimezone(UTC).replace(microsecond=0),
    )
    document = notice.canonical_bytes()
    with store.transaction():
        signature = sign(document)
        store.poa.revoke(rec.poa_id, document=document, signature=signature, reason=why, now=now)
        store.audit.append(
            AuditEvent.POA_REVOKED,
            at=now,
            details={
                "poa_id": rec.poa_id,
                "dea_number": rec.dea_number,
                "holder_name": rec.holder_name,
                "reason": why,
                "revoked_by": reg.name,
                "ca_notice_due": ca_notice_due(now).isoformat(),
                "document_sha256": hashlib.sha256(document).hexdigest(),
            },
        )
    return store.poa.get(rec.poa_id)


def check_revocable(store: Store, ref: str, reg: Registrant) -> PoaRecord:
    rec = store.poa.resolve(ref)
    if rec.dea_number != reg.dea_number:
        raise InputError(f"That power of attorney is for DEA {rec.dea_number}, not yours.")
    if not rec.current:
        raise InputError(f"The power of attorney of {rec.holder_name} is already revoked.")
    return rec


def ca_notice(store: Store, ref: str, *, clock: Clock = utc_now) -> bytes:
    """The request for the CSOS CA (1311.45) as JSON bytes; producing it is audited."""
    rec = store.poa.resolve(ref)
    if rec.revoked_at is None:
        raise InputError(f"The power of attorney of {rec.holder_name} has not been revoked.")
    reg = store.poa.registrant(rec.dea_number)
    revoked_at = datetime.fromisoformat(rec.revoked_at.replace("Z", "+00:00"))
    request = ca_request(
        dea_number=rec.dea_number,
        attorney_name=rec.holder_name,
        certificates=rec.certificates,
        revoked_at=revoked_at,
        registrant_name=reg.name if reg else "",
    )
    body = (json.dumps(request, indent=2) + "\n").encode()
    with store.transaction():
        store.audit.append(
            AuditEvent.POA_CA_REQUEST,
            at=clock(),
            details={"poa_id": rec.poa_id, "due_by": request["due_by"]},
        )
    return body


def mark_ca_notified(store: Store, ref: str, *, clock: Clock = utc_now) -> PoaRecord:
    """Record when the request reached the CSOS CA (late ones are flagged in the audit)."""
    rec = store.poa.resolve(ref)
    if rec.revoked_at is None:
        raise InputError(f"The power of attorney of {rec.holder_name} has not been revoked.")
    if rec.ca_notified_at is not None:
        raise InputError(f"The CA was already notified on {rec.ca_notified_at}.")
    now = clock()
    due = ca_notice_due(datetime.fromisoformat(rec.revoked_at.replace("Z", "+00:00")))
    with store.transaction():
        store.poa.mark_ca_notified(rec.poa_id, now)
        store.audit.append(
            AuditEvent.POA_CA_NOTIFIED,
            at=now,
            details={
                "poa_id": rec.poa_id,
                "holder_name": rec.holder_name,
                "due_by": due.isoformat(),
                "late": now > due,
            },
        )
    return store.poa.get(rec.poa_id)


@dataclass(frozen=True)
class PoaListing:
    """Who signs for the pharmacy: each DEA number's registrant, and every power of attorney
    (current and revoked), as the POA screen and `csos poa list` show them."""

    registrants: tuple[Registrant, ...]  # by DEA number
    grants: tuple[PoaRecord, ...]  # oldest first


def poa_listing(store: Store) -> PoaListing:
    regs = (store.poa.registrant(dea) for dea in store.poa.registrant_deas())
    return PoaListing(tuple(r for r in regs if r is not None), tuple(store.poa.grants()))
