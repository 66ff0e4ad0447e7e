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
from csos_desktop.services.signing.checks import OrderNotSignable
from csos_desktop.services.signing.session import SignatureSelfCheckFailed, SigningSession
from csos_desktop.token.identity import SigningIdentity

__all__ = [
    "OrderNotSignable",
    "OrderSigningSession",
    "SignatureSelfCheckFailed",
    "SignedOrder",
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
