"""Signing sessions: the one way every signing path uses the token (docs/signing.md).

``TokenTarget`` (which token) and ``SigningIdentity`` (the certificate a session signs
with) are part of this API: the front ends name them without importing ``token``.
"""

from csos_desktop.services.signing.checks import (
    PrePinChecks,
    SigningFacts,
    SigningPurpose,
    default_checks,
)
from csos_desktop.services.signing.choice import IdentityChoice, Signing, signing_session
from csos_desktop.services.signing.session import SignatureSelfCheckFailed, SigningSession
from csos_desktop.token.identity import SigningIdentity, TokenTarget

__all__ = [
    "IdentityChoice",
    "PrePinChecks",
    "SignatureSelfCheckFailed",
    "Signing",
    "SigningFacts",
    "SigningIdentity",
    "SigningPurpose",
    "SigningSession",
    "TokenTarget",
    "default_checks",
    "signing_session",
]
