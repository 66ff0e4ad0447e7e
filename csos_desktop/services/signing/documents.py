"""Signing documents other than orders (receipts, archive manifests, audit checkpoints,
notices) in a logged-in signing session."""

from __future__ import annotations

from typing import Protocol

from csos_desktop.services.signing.session import SigningSession
from csos_desktop.token.identity import SigningIdentity


class DocumentSigner(Protocol):
    """Signs a document's bytes on the token (``TokenDocumentSigner``)."""

    identity: SigningIdentity

    def sign(self, document: bytes) -> bytes: ...


class TokenDocumentSigner:
    """Signs receipts and other documents in a logged-in signing session, like orders.

    The checks ran before the PIN (``log_in`` and the check stage); signing runs no check
    of its own, so nothing here reaches the network (callers sign outside transactions)."""

    def __init__(self, session: SigningSession) -> None:
        self.session = session
        self.identity = session.identity

    def sign(self, document: bytes) -> bytes:
        return self.session.sign(document, self.session.clock())
