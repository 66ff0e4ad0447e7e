"""Signing a prescription as an NCPDP SCRIPT NewRx on the practitioner's token.

Called inside the 1311.140 ceremony (``ceremony.sign_ready``), after the same pre-PIN
checks and the same login as the ``csos-rx/1`` CMS signature: one review, one PIN, and
the token signs both. The pharmacy the practitioner chose is inside the signed bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from csos_desktop.domain.pharmacy import Pharmacy
from csos_desktop.domain.prescription import Prescription
from csos_desktop.domain.script.newrx import (
    DigitalSignature,
    build_newrx,
    digest,
    signed_bytes,
    with_signature,
)
from csos_desktop.services.signing import SigningSession


@dataclass(frozen=True)
class SignedNewRx:
    """The message to keep and send, exactly, and the bytes its signature covers."""

    rx_id: str
    pharmacy: Pharmacy
    message: bytes
    signed: bytes


def sign_newrx(session: SigningSession, rx: Prescription, pharmacy: Pharmacy) -> SignedNewRx:
    """The NewRx for *rx* to *pharmacy*, its DigitalSignature made on the logged-in token."""
    root = build_newrx(rx, pharmacy)
    signed = signed_bytes(root)
    signature = DigitalSignature(
        "SHA256", digest(signed), session.sign_bare(signed), session.identity.certificate_der
    )
    return SignedNewRx(rx.rx_id, pharmacy, with_signature(root, signature), signed)
