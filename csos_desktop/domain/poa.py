"""Power of attorney to sign orders (21 CFR 1305.05, 1311.45): documents and the signing rule.

The registrant — the person who signed the most recent registration
application — may authorise individuals to sign orders for schedule I and II
substances by a power of attorney in the form 1305.05(c) sets out, and revoke
it by a signed notice of revocation (1305.05(d)). Both are JSON documents
(``csos-poa/1``, ``csos-poa-revocation/1``) carrying the form's text, signed on
the registrant's token. An order is signed only by the registrant or a current
holder of a power of attorney for that DEA number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.errors import ItemRefused, SessionRefused
from csos_desktop.domain.order import format_timestamp

POA_SCHEMA = "csos-poa/1"
REVOCATION_SCHEMA = "csos-poa-revocation/1"
ACCEPTANCE_SCHEMA = "csos-poa-acceptance/1"
#: 1311.45: the registrant tells the CSOS CA within 6 hours that a holder's authority ended.
CA_NOTICE_WITHIN = timedelta(hours=6)


class SignerNotAuthorised(SessionRefused):
    """The certificate belongs to neither the registrant nor a current attorney-in-fact:
    nothing can be signed with it for that DEA number, so the job stops before the PIN."""


def poa_text(
    *,
    registrant_name: str,
    registrant_address: str,
    dea_number: str,
    grantor_name: str,
    attorney_name: str,
    granted_on: date,
    place: str,
) -> str:
    """The power of attorney in the form 1305.05(c) gives, as the registrant signs it.

    The attorney-in-fact's affirmation is a separate document they sign themself
    (``acceptance_text``), on their own token, once this one is signed."""
    return (
        "Power of Attorney for DEA Forms 222 and Electronic Orders\n"
        f"{registrant_name} (Name of registrant)\n"
        f"{registrant_address} (Address of registrant)\n"
        f"{dea_number} (DEA registration number)\n"
        f"I, {grantor_name} (name of person granting power), the undersigned, who am "
        "authorized to sign the current application for registration of the above-named "
        "registrant under the Controlled Substances Act or Controlled Substances Import and "
        "Export Act, have made, constituted, and appointed, and by these presents, do make, "
        f"constitute, and appoint {attorney_name} (name of attorney-in-fact), my true and "
        "lawful attorney for me in my name, place, and stead, to execute applications for "
        "Forms 222 and to sign orders for Schedule I and II controlled substances, whether "
        "these orders be on Form 222 or electronic, in accordance with 21 U.S.C. 828 and "
        "Part 1305 of Title 21 of the Code of Federal Regulations. I hereby ratify and "
        "confirm all that said attorney must lawfully do or cause to be done by virtue "
        "hereof.\n"
        f"Signed digitally by {grantor_name} (person granting power).\n"
        f"Signed and dated on {granted_on.isoformat()}, at {place}."
    )


def acceptance_text(*, attorney_name: str, accepted_at: datetime) -> str:
    """The attorney-in-fact's affirmation in the words of the 1305.05(c) form."""
    return (
        f"I, {attorney_name} (name of attorney-in-fact), hereby affirm that I am the person "
        "named herein as attorney-in-fact and that the signature affixed hereto is my "
        f"signature.\nSigned digitally by {attorney_name} (attorney-in-fact) at "
        f"{format_timestamp(accepted_at)}."
    )


def revocation_text(
    *, grantor_name: str, attorney_name: str, revoked_on: date, place: str, reason: str
) -> str:
    """The notice of revocation in the form 1305.05(c) gives."""
    return (
        "Notice of Revocation\n"
        "The foregoing power of attorney is hereby revoked by the undersigned, who is "
        "authorized to sign the current application for registration of the above-named "
        "registrant under the Controlled Substances Act or the Controlled Substances Import "
        "and Export Act. Written notice of this revocation has been given to the "
        f"attorney-in-fact {attorney_name} this same day. Reason: {reason}\n"
        f"Signed digitally by {grantor_name} (person revoking power).\n"
        f"Signed and dated on {revoked_on.isoformat()}, at {place}."
    )


@dataclass(frozen=True)
class PowerOfAttorney:
    """A power of attorney as signed (``csos-poa/1``)."""

    poa_id: str
    dea_number: str
    registrant_name: str
    registrant_address: str
    grantor_name: str
    attorney_name: str
    attorney_certificates: tuple[str, ...]  # SHA-256 of each certificate they sign with
    granted_on: date
    place: str
    signed_at: datetime

    @property
    def text(self) -> str:
        return poa_text(
            registrant_name=self.registrant_name,
            registrant_address=self.registrant_address,
            dea_number=self.dea_number,
            grantor_name=self.grantor_name,
            attorney_name=self.attorney_name,
            granted_on=self.granted_on,
            place=self.place,
        )

    def to_document(self) -> dict[str, object]:
        return {
            "schema": POA_SCHEMA,
            "poa_id": self.poa_id,
            "dea_number": self.dea_number,
            "registrant_name": self.registrant_name,
            "registrant_address": self.registrant_address,
            "grantor_name": self.grantor_name,
            "attorney_name": self.attorney_name,
            "attorney_certificates_sha256": sorted(self.attorney_certificates),
            "granted_on": self.granted_on.isoformat(),
            "place": self.place,
            "signed_at": format_timestamp(self.signed_at),
            "text": self.text,
        }

    def canonical_bytes(self) -> bytes:
        return canonical_bytes(self.to_document())


@dataclass(frozen=True)
class Acceptance:
    """The attorney-in-fact's affirmation (``csos-poa-acceptance/1``), signed on their own
    token: it names the power of attorney by the SHA-256 of its signed bytes."""

    poa_id: str
    dea_number: str
    attorney_name: str
    poa_document_sha256: str
    certificate_sha256: str  # the attorney's certificate that signs this acceptance
    accepted_at: datetime

    def to_document(self) -> dict[str, object]:
        return {
            "schema": ACCEPTANCE_SCHEMA,
            "poa_id": self.poa_id,
            "dea_number": self.dea_number,
            "attorney_name": self.attorney_name,
            "poa_document_sha256": self.poa_document_sha256,
            "certificate_sha256": self.certificate_sha256,
            "accepted_at": format_timestamp(self.accepted_at),
            "text": acceptance_text(attorney_name=self.attorney_name, accepted_at=self.accepted_at),
        }

    def canonical_bytes(self) -> bytes:
        return canonical_bytes(self.to_document())


@dataclass(frozen=True)
class Revocation:
    """A notice of revocation as signed (``csos-poa-revocation/1``)."""

    poa_id: str
    dea_number: str
    grantor_name: str
    attorney_name: str
    revoked_on: date
    place: str
    reason: str
    signed_at: datetime

    def to_document(self) -> dict[str, object]:
        return {
            "schema": REVOCATION_SCHEMA,
            "poa_id": self.poa_id,
            "dea_number": self.dea_number,
            "grantor_name": self.grantor_name,
            "attorney_name": self.attorney_name,
            "revoked_on": self.revoked_on.isoformat(),
            "place": self.place,
            "reason": self.reason,
            "signed_at": format_timestamp(self.signed_at),
            "text": revocation_text(
                grantor_name=self.grantor_name,
                attorney_name=self.attorney_name,
                revoked_on=self.revoked_on,
                place=self.place,
                reason=self.reason,
            ),
        }

    def canonical_bytes(self) -> bytes:
        return canonical_bytes(self.to_document())


class RegistrantNotRecorded(ItemRefused):
    """A schedule I/II order for a DEA number whose registrant nobody recorded: who may
    sign it cannot be told yet, so this order is refused before the PIN (others go on)."""


def registrant_needed_text(dea_number: str) -> str:
    """What to do when no registrant is recorded (the refusal and the first-run step)."""
    return (
        "The person who signed the DEA registration application records themself, with "
        f'the token holding their CSOS certificate: `csos poa registrant --name "FULL NAME" '
        f"--dea {dea_number}` (or the Power of attorney screen: Record me as the registrant)."
    )


class Authority(StrEnum):
    """Why a certificate may sign orders for a DEA number (or that nobody recorded who may)."""

    REGISTRANT = "registrant"
    ATTORNEY = "attorney-in-fact"
    NO_REGISTRY = "no-registry"


@dataclass(frozen=True)
class Holder:
    poa_id: str
    name: str
    certificates: frozenset[str]
    revoked_at: datetime | None
    #: When the attorney-in-fact signed their acceptance; None while it is pending.
    accepted_at: datetime | None = None


def accept_first_text(holder_name: str, poa_id: str) -> str:
    """What to do about a power of attorney its holder has not yet accepted."""
    return (
        f"The power of attorney of {holder_name} is pending acceptance: the attorney-in-fact "
        "must accept it first, signing the affirmation of 21 CFR 1305.05(c) on their own "
        f"token (`csos poa accept {poa_id[:8]}`, or Power of attorney: Accept (attorney))."
    )


@dataclass(frozen=True)
class Registry:
    """Who may sign orders for one DEA number."""

    dea_number: str
    registrant_name: str | None
    registrant_certificates: frozenset[str]
    holders: tuple[Holder, ...]

    def current_holders(self, now: datetime) -> tuple[Holder, ...]:
        """Holders whose power of attorney is not revoked (accepted or pending)."""
        return tuple(h for h in self.holders if h.revoked_at is None or h.revoked_at > now)


def signer_authority(
    registry: Registry, certificate_sha256: str, now: datetime, *, schedule_i_or_ii: bool
) -> Authority:
    """The rule of 1305.05 / 1305.21(a), checked before the PIN is asked.

    Only the registrant and a current attorney-in-fact sign schedule I/II orders, and
    which a certificate belongs to is known only once the registrant is recorded: until
    then a schedule I/II order is refused (``RegistrantNotRecorded``), from the first
    order. An order of schedules III-V alone needs no power of attorney; with no
    registrant recorded it is not restricted (NO_REGISTRY). Once a registrant is
    recorded, only the registrant's certificates and those named in a current power of
    attorney its holder has accepted (signed the 1305.05(c) affirmation) sign; a holder
    whose acceptance is pending, and a revoked holder, are refused.
    """
    if registry.registrant_name is None:
        if schedule_i_or_ii:
            raise RegistrantNotRecorded(
                f"No registrant is recorded for DEA {registry.dea_number}, so nobody can "
                "tell whether this certificate is the registrant's or an attorney-in-fact's: "
                "a schedule I/II order is signed only by them (21 CFR 1305.05, 1305.21(a)). "
                + registrant_needed_text(registry.dea_number)
                + " Then sign the order again (it stays a draft)."
            )
        return Authority.NO_REGISTRY
    if certificate_sha256 in registry.registrant_certificates:
        return Authority.REGISTRANT
    current = [h for h in registry.current_holders(now) if certificate_sha256 in h.certificates]
    if any(h.accepted_at is not None for h in current):
        return Authority.ATTORNEY
    if current:
        raise SignerNotAuthorised(accept_first_text(current[0].name, current[0].poa_id))
    for holder in registry.holders:
        if certificate_sha256 in holder.certificates and holder.revoked_at is not None:
            raise SignerNotAuthorised(
                f"The power of attorney of {holder.name} for DEA {registry.dea_number} was "
                f"revoked on {holder.revoked_at:%Y-%m-%d %H:%M} UTC; they can no longer sign "
                "its orders (21 CFR 1305.05). The registrant or a current attorney-in-fact "
                "must sign."
            )
    raise SignerNotAuthorised(
        f"This certificate belongs to neither the registrant of DEA {registry.dea_number} "
        f"({registry.registrant_name}) nor a current holder of its power of attorney, so it "
        "cannot sign its orders (21 CFR 1305.05, 1305.21(a)). Ask the registrant to grant "
        "a power of attorney with `csos poa grant`."
    )


def ca_notice_due(revoked_at: datetime) -> datetime:
    return revoked_at + CA_NOTICE_WITHIN


def ca_request(
    *,
    dea_number: str,
    attorney_name: str,
    certificates: Sequence[str],
    revoked_at: datetime,
    registrant_name: str,
) -> dict[str, object]:
    """The request to the CSOS CA to revoke the former attorney's certificates (1311.45)."""
    return {
        "schema": "csos-poa-ca-notice/1",
        "to": "DEA CSOS Certification Authority",
        "request": "revoke-certificates",
        "reason": "affiliationChanged",
        "dea_number": dea_number,
        "registrant_name": registrant_name,
        "attorney_name": attorney_name,
        "certificates_sha256": sorted(certificates),
        "authority_ended_at": format_timestamp(revoked_at),
        "due_by": format_timestamp(ca_notice_due(revoked_at)),
        "statement": (
            f"The power of attorney of {attorney_name} to sign controlled substance orders "
            f"for DEA registration {dea_number} was revoked at "
            f"{format_timestamp(revoked_at)}. Under 21 CFR 1311.45 the registrant "
            f"{registrant_name} asks that the CSOS certificate(s) listed be revoked."
        ),
    }
