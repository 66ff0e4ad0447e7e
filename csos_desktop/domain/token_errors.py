"""Typed token errors, each with a message a pharmacist can act on (raised by ``token``).

Pure values: the GUI and CLI tell a wrong PIN from a pulled token by type, without
importing the PKCS#11 layer.

No message ever contains the PIN; WrongPin says how many tries remain only
as the token reports it (PKCS#11 exposes flags, not a count).
"""

from __future__ import annotations

from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.token_state import LOCKED_ADVICE, PinState


class TokenError(CsosError):
    """Something about the token or its driver stops the operation."""


class NoModule(TokenError):
    """No PKCS#11 driver could be found or loaded."""


class NoToken(TokenError):
    """No token is present, or not the one asked for."""


class WrongPin(TokenError):
    """The token refused the PIN; we never retry it automatically."""

    def __init__(self, retries_hint: PinState = PinState.OK) -> None:
        #: The PIN state the token reported after refusing (OK: it gave no warning).
        self.retries_hint = retries_hint
        advice = {
            PinState.COUNT_LOW: "Only a few tries are left before the token locks; "
            "check the PIN carefully before trying again.",
            PinState.FINAL_TRY: "One try is left: a further wrong PIN locks the token. "
            "If you are not sure of the PIN, stop and contact your token administrator.",
        }.get(retries_hint, "Check the PIN and try again.")
        super().__init__(f"The token did not accept the PIN. {advice}")


class PinLocked(TokenError):
    """Too many wrong PINs: the token refuses logins until unblocked."""

    def __init__(self, label: str = "") -> None:
        name = f"token '{label}'" if label else "token"
        super().__init__(f"The PIN of {name} is locked after too many wrong tries. {LOCKED_ADVICE}")


class PinChangeRequired(TokenError):
    """The token requires its PIN to be changed before use."""


class TokenRemoved(TokenError):
    """The token was removed (or its session lost) during an operation."""

    def __init__(self, detail: str = "") -> None:
        extra = f" ({detail})" if detail else ""
        super().__init__(
            "The token was removed or stopped responding" + extra + ". Insert it again and "
            "repeat the operation; nothing was signed after it was removed."
        )


class KeyNotFound(TokenError):
    """The private key (or certificate) asked for is not on the token."""


class LoginExpired(TokenError):
    """The logged-in session was closed after the idle limit (21 CFR 1311.55(b)(5))."""


class TokenOperationFailed(TokenError):
    """The token or driver reported an error we have no better words for."""
