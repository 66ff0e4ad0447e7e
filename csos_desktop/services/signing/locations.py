"""Which certificate signs an order when the token holds several locations' certificates.

A pharmacist who orders for several registered locations holds one CSOS certificate per
DEA registration (21 CFR 1311.35). The certificate carries only a hash of its DEA number,
so the one that signs an order is the one whose hash matches the order's purchaser
(1305.21) and that can sign it now (in validity, trusted, schedules covered).

Pure choice logic, no I/O: the signing session (``session.py``) supplies what it knows
(whether a certificate is usable now, which DEA number the app knows for it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from asn1crypto import x509

from csos_desktop.domain.errors import ItemRefused
from csos_desktop.domain.order import Order
from csos_desktop.domain.token_errors import KeyNotFound
from csos_desktop.token.identity import SigningIdentity

#: Why a certificate cannot sign this order now, in words; None when it can.
Usability = Callable[[SigningIdentity], str | None]
#: The DEA number the app knows for a certificate (its hash matches), or None.
KnownNumber = Callable[[SigningIdentity], str | None]


class NoCertificateForPurchaser(ItemRefused):
    """No certificate on the token carries the hash of the order's purchaser DEA number."""


class SeveralCertificatesForPurchaser(ItemRefused):
    """More than one usable certificate matches the purchaser: the signer must choose."""


class CertificateForAnotherDea(ItemRefused):
    """The certificate chosen with --cert-id (or in the dialog) is for another DEA number."""


@dataclass(frozen=True)
class Location:
    """Where a certificate signs for, as far as the certificate and the app know."""

    name: str
    #: The DEA number when the app knows it (its hash matches); None: "hash only".
    dea_number: str | None

    @property
    def dea_label(self) -> str:
        return self.dea_number or "hash only"


def location_name(identity: SigningIdentity) -> str:
    """The subject's organisation and locality (the pharmacy and its town), else the
    registrant's name from the DEA extensions, else the subject."""
    subject = x509.Certificate.load(identity.certificate_der).subject.native
    parts = [subject.get("organization_name"), subject.get("locality_name")]
    named = [p if isinstance(p, str) else ", ".join(p) for p in parts if p]
    return ", ".join(named) or identity.info.registrant_name or identity.info.subject


def describe(identity: SigningIdentity, known: KnownNumber) -> str:
    """One line a pharmacist can pick from: CKA_ID, location, DEA number, subject, expiry."""
    number = known(identity) or "DEA number hash only"
    return (
        f"--cert-id {identity.key_id.hex()}: {location_name(identity)} ({number}; "
        f"{identity.info.subject}; expires {identity.info.not_after:%Y-%m-%d})"
    )


def order_schedules_covered(identity: SigningIdentity, order: Order) -> str | None:
    """None when the certificate authorises every schedule on the order."""
    missing = sorted(
        {
            line.schedule.value
            for line in order.lines
            if line.schedule is not None and line.schedule not in identity.info.schedules
        }
    )
    return f"does not authorise schedule(s) {', '.join(missing)}" if missing else None


def choose_for_purchaser(
    identities: Sequence[SigningIdentity],
    dea_number: str,
    *,
    cert_id: str | None,
    usable: Usability,
    known: KnownNumber,
) -> SigningIdentity:
    """The certificate that signs an order of purchaser *dea_number*, before any PIN.

    ``cert_id`` (hex CKA_ID) is the signer's explicit choice: it must be for this DEA
    number. Without it: the only certificate whose hash matches; among several, the only
    usable one; else the signer must choose (``SeveralCertificatesForPurchaser``).
    """
    dea = dea_number.strip().upper()
    if cert_id is not None:
        return _chosen(identities, dea, cert_id, known)
    matching = [i for i in identities if i.info.matches_dea(dea)]
    if not matching:
        raise NoCertificateForPurchaser(
            f"No certificate on this token is for DEA number {dea} (the order's purchaser); "
            "it was not signed. The token holds: "
            + "; ".join(describe(i, known) for i in identities)
            + ". Insert the token with that location's certificate, or correct the purchaser."
        )
    if len(matching) == 1:
        return matching[0]
    problems = {i.key_id: usable(i) for i in matching}
    ready = [i for i in matching if problems[i.key_id] is None]
    if len(ready) == 1:
        return ready[0]
    if not ready:
        raise NoCertificateForPurchaser(
            f"None of the certificates for DEA number {dea} can sign this order now: "
            + "; ".join(f"{describe(i, known)}: {problems[i.key_id]}" for i in matching)
            + "."
        )
    raise SeveralCertificatesForPurchaser(
        f"Several certificates on this token are for DEA number {dea}; choose one with "
        "--cert-id: " + "; ".join(describe(i, known) for i in ready) + "."
    )


def _chosen(
    identities: Sequence[SigningIdentity], dea: str, cert_id: str, known: KnownNumber
) -> SigningIdentity:
    wanted = cert_id.lower().removeprefix("0x")
    for ident in identities:
        if ident.key_id.hex() == wanted:
            if not ident.info.matches_dea(dea):
                raise CertificateForAnotherDea(
                    f"The certificate chosen (--cert-id {wanted}, {location_name(ident)}) is for "
                    f"another DEA number than the order's purchaser {dea}; the order was not "
                    "signed. Choose that location's certificate, or leave out --cert-id."
                )
            return ident
    raise KeyNotFound(
        f"No CSOS certificate with id {cert_id} is on the token. It holds: "
        + "; ".join(describe(i, known) for i in identities)
        + "."
    )
