"""Signing sessions: the one way every signing path uses the token (docs/signing.md)."""

from csos_desktop.services.signing.checks import (
    PrePinChecks,
    SigningFacts,
    SigningPurpose,
    default_checks,
)
from csos_desktop.services.signing.session import (
    SignatureSelfCheckFailed,
    SigningSession,
    signing_session,
)
from csos_desktop.token.identity import TokenTarget

__all__ = [
    "PrePinChecks",
    "SignatureSelfCheckFailed",
    "SigningFacts",
    "SigningPurpose",
    "SigningSession",
    "TokenTarget",
    "default_checks",
    "signing_session",
]
