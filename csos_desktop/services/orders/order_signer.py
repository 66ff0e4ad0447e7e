"""Signing CSOS orders in a signing session: one login, many orders.

The signed bytes are the RFC 8785 canonical form of the order document with
its date signed; they are returned exactly as signed and must be stored and
sent as they are.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from csos_desktop.config.local_time import local_date
from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.order import Order
from csos_desktop.domain.x12.order850 import build_850
from csos_desktop.pki.cms_attached import attach
from csos_desktop.services.signing.checks import OrderNotSignable
from csos_desktop.services.signing.session import SignatureSelfCheckFailed, SigningSession
from csos_desktop.token.identity import SigningIdentity

__all__ = [
    "OrderNotSignable",
    "OrderSigningSession",
    "SignatureSelfCheckFailed",
    "SignedOrder",
    "SignedX12Order",
]


@dataclass(frozen=True)
class SignedOrder:
    """An order with the exact bytes signed and the detached CMS signature (DER)."""

    order: Order
    document: bytes
    signature: bytes

    @property
    def signature_digest(self) -> str:
        """SHA-256 of the CMS blob: how receipts refer to the order's signature."""
        return hashlib.sha256(self.signature).hexdigest()


def dated_for_signing(order: Order, now: datetime) -> Order:
    """The order with its date signed: the pharmacy's calendar day (the CMS signing-time
    stays UTC), so an order signed at 23:30 on 31 December carries that year."""
    return order.with_date_signed(local_date(now))


@dataclass(frozen=True)
class SignedX12Order:
    """An order as the 850 interchange signed, and that interchange encapsulated in its CMS
    signature (``application/x-csos-signed-order``): both kept exactly as signed."""

    order: Order
    interchange: bytes
    signed: bytes


class OrderSigningSession:
    """Signs orders with the identity of a (logged-in) signing session."""

    def __init__(self, session: SigningSession) -> None:
        self.session = session
        self.identity: SigningIdentity = session.identity

    def sign(self, order: Order) -> SignedOrder:
        """Date, canonicalise and sign one order; the signature is self-checked.

        The checks ran before the PIN, as a value (``lifecycle.check_drafts``); this
        session is the one of the certificate chosen for the order's purchaser."""
        now = self.session.clock()
        dated = dated_for_signing(order, now)
        document = canonical_bytes(dated.to_document())
        return SignedOrder(dated, document, self.session.sign(document, now))

    def sign_x12(self, order: Order, control_number: int) -> SignedX12Order:
        """Date the order, write its 850 and sign those exact bytes (same attributes and
        certificate as a JSON order; the interchange is encapsulated in the signature)."""
        now = self.session.clock()
        dated = dated_for_signing(order, now)
        interchange = build_850(dated, control_number=control_number, prepared_at=now)
        return SignedX12Order(
            dated, interchange, attach(self.session.sign(interchange, now), interchange)
        )
