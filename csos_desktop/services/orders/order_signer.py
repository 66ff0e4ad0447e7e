"""Signing CSOS orders in a signing session: one login, many orders.

The signed bytes are the RFC 8785 canonical form of the order document with
its date signed; they are returned exactly as signed and must be stored and
sent as they are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
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
class SignedX12Order:
    """An order as the 850 interchange signed, and that interchange encapsulated in its CMS
    signature (``application/x-csos-signed-order``): both kept exactly as signed."""

    order: Order
    interchange: bytes
    signed: bytes
    control_number: int = 0


@dataclass(frozen=True)
class SignedOrder:
    """An order with the exact bytes signed and the detached CMS signature (DER).

    ``x12``: the same dated order signed as an 850 in the same login, when the
    distributor takes X12.
    """

    order: Order
    document: bytes
    signature: bytes
    x12: SignedX12Order | None = None

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

    def __init__(
        self, session: SigningSession, x12_control: Callable[[], int] | None = None
    ) -> None:
        """*x12_control*, when given, reserves an interchange control number: each order
        is then also signed as an X12 850."""
        self.session = session
        self.identity: SigningIdentity = session.identity
        self._x12_control = x12_control

    def sign(self, order: Order) -> SignedOrder:
        """Date, canonicalise and sign one order; the signature is self-checked.

        The checks ran before the PIN, as a value (``check_stage.check_drafts``); this
        session is the one of the certificate chosen for the order's purchaser."""
        now = self.session.clock()
        dated = dated_for_signing(order, now)
        document = canonical_bytes(dated.to_document())
        signature = self.session.sign(document, now)
        x12 = None if self._x12_control is None else self._sign_850(dated, now)
        return SignedOrder(dated, document, signature, x12)

    def sign_x12(self, order: Order, control_number: int) -> SignedX12Order:
        """Date the order, write its 850 and sign those exact bytes (same attributes and
        certificate as a JSON order; the interchange is encapsulated in the signature)."""
        now = self.session.clock()
        return self._sign_850(dated_for_signing(order, now), now, control_number)

    def _sign_850(self, dated: Order, now: datetime, number: int | None = None) -> SignedX12Order:
        if number is None:
            assert self._x12_control is not None
            number = self._x12_control()
        interchange = build_850(dated, control_number=number, prepared_at=now)
        signed = attach(self.session.sign(interchange, now), interchange)
        return SignedX12Order(dated, interchange, signed, number)
