"""Signing CSOS orders on the token: one login, many orders.

The signed bytes are the RFC 8785 canonical form of the order document with
its date signed; they are returned exactly as signed and must be stored and
sent as they are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.domain.order import Order
from csos_desktop.errors import CsosError
from csos_desktop.pki.cms import CmsSigner
from csos_desktop.pki.cms_parse import parse_signed_data, signature_valid
from csos_desktop.services.identity import SigningIdentity
from csos_desktop.token.session import TokenSession
from csos_desktop.token.signer import TokenSigner


class OrderNotSignable(CsosError):
    """The order cannot be signed with this certificate (checked before the PIN is asked)."""


class SignatureSelfCheckFailed(CsosError):
    """The token returned a signature that does not verify; nothing is kept."""


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


def precheck(order: Order, identity: SigningIdentity, now: datetime) -> None:
    """Refuse, before any PIN, an order this certificate cannot validly sign."""
    identity.check_usable(now)
    problems = []
    if order.purchaser.dea_number.value != identity.info.dea_number:
        problems.append(
            f"the purchaser's DEA number {order.purchaser.dea_number.value} is not the one on "
            f"your certificate ({identity.info.dea_number})"
        )
    unauthorised = sorted(
        {
            line.schedule.value
            for line in order.lines
            if line.schedule is not None and line.schedule not in identity.info.schedules
        }
    )
    if unauthorised:
        problems.append(
            "your certificate does not authorise schedule(s) "
            + ", ".join(unauthorised)
            + " (remove those lines or use a certificate that covers them)"
        )
    if problems:
        raise OrderNotSignable("This order cannot be signed: " + "; ".join(problems) + ".")


class OrderSigningSession:
    """Signs orders with one identity over one logged-in token session."""

    def __init__(
        self,
        ts: TokenSession,
        identity: SigningIdentity,
        chain_der: list[bytes],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.identity = identity
        self._clock = clock
        self._cms = CmsSigner(TokenSigner(ts, identity.key_id), identity.certificate_der, chain_der)

    def sign(self, order: Order) -> SignedOrder:
        """Date, canonicalise and sign one order; checks the signature before returning it."""
        now = self._clock()
        precheck(order, self.identity, now)
        dated = order.with_date_signed(now.date())
        document = canonical_bytes(dated.to_document())
        signature = self._cms.sign(document, now)
        if not signature_valid(parse_signed_data(signature)):
            raise SignatureSelfCheckFailed(
                "The token produced a signature that does not verify; the order was not signed. "
                "Check that the certificate on the token belongs to its key."
            )
        return SignedOrder(dated, document, signature)
