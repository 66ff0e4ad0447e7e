"""Enrolment's pure values: key types, the steps the user is told, renewal and revocation words.

The enrolment flow (``enrol``) and the token (``token.keys``) use them; the GUI and CLI
show them without importing either.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.expiry import EXPIRY_WARNING_DAYS

#: Days before expiry from which renewal is offered (21 CFR 1311.40).
RENEWAL_WINDOW_DAYS = EXPIRY_WARNING_DAYS


class KeyAlgorithm(Enum):
    """Algorithms a CSOS certificate may use (FIPS 186 signatures)."""

    RSA2048 = "rsa2048"
    P256 = "p256"


class Step(Enum):
    """The steps, in order; the value is what the user is told."""

    APPLICATION = "Checking the one-time codes with the CA"
    CA_CERTIFICATES = "Fetching the CA's certificates"
    KEY = "Generating the key pair on the token"
    REQUEST = "Signing the certificate request on the token"
    SUBMIT = "Sending the request to the CA"
    CHECK = "Checking the issued certificate"
    INSTALL = "Writing the certificate to the token"


#: RFC 5280 reasons a subscriber may give; the others are the CA's to use.
HOLDER_REASONS = (
    "keyCompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
    "unspecified",
)


def parse_holder_reason(text: str) -> str:
    """`keyCompromise`, `key-compromise`, `KEY_COMPROMISE` ... → the RFC 5280 name."""
    key = text.replace("_", "").replace("-", "").lower()
    for name in HOLDER_REASONS:
        if name.lower() == key:
            return name
    raise InputError(f"Unknown reason {text!r}; use one of {', '.join(HOLDER_REASONS)}.")


def renewal_notice(not_after: datetime, now: datetime) -> str | None:
    """What to tell the holder about expiry, or None when nothing is due yet."""
    days = (not_after - now).days
    if now >= not_after:
        return (
            f"Your CSOS certificate expired on {not_after:%Y-%m-%d}: orders signed with it "
            "are rejected. It can no longer be renewed; enrol again with new one-time codes "
            "from the CA."
        )
    if days <= RENEWAL_WINDOW_DAYS:
        return (
            f"Your CSOS certificate expires on {not_after:%Y-%m-%d} ({days} day(s) left). "
            "Renew it now with `csos enrol renew` (21 CFR 1311.40)."
        )
    return None
