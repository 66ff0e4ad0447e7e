"""Changing the user PIN (C_SetPIN) and unblocking it with the SO PIN (C_InitPIN).

The PINs are used for one call and not kept. A wrong old PIN is never
retried; the retries hint comes from the token's flags, as at login.
"""

from __future__ import annotations

from enum import Enum

import pkcs11
from pkcs11 import exceptions as p11
from pkcs11.constants import TokenFlag

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.token_errors import PinLocked, TokenError, TokenOperationFailed, WrongPin
from csos_desktop.token.library import translated_errors
from csos_desktop.token.session import retries_hint
from csos_desktop.token.slots import PinState, describe, refreshed

#: Used when the machine policy sets no minimum (and the token asks for less).
DEFAULT_MIN_PIN_LENGTH = 6


class PinRule(Enum):
    """Why a new PIN is refused before it reaches the token."""

    TOO_SHORT = "too-short"
    MISMATCH = "mismatch"
    SAME_AS_OLD = "same-as-old"


class NewPinRefused(InputError):
    """The new PIN breaks a rule; the token was not touched."""

    def __init__(self, rule: PinRule, minimum: int) -> None:
        self.rule = rule
        text = {
            PinRule.TOO_SHORT: f"The new PIN must have at least {minimum} characters.",
            PinRule.MISMATCH: "The two entries of the new PIN differ.",
            PinRule.SAME_AS_OLD: "The new PIN must differ from the current one.",
        }[rule]
        super().__init__(f"{text} The PIN was not changed.")


class WrongSoPin(TokenError):
    """The token refused the security officer (SO) PIN."""


class PinPadChangeUnsupported(TokenError):
    """PIN changes on a PIN-pad reader are done on the reader itself."""


def check_new_pin(new: str, repeat: str, minimum: int, old: str | None = None) -> None:
    """Refuse a new PIN that is short, mistyped, or unchanged (no token involved)."""
    if new != repeat:
        raise NewPinRefused(PinRule.MISMATCH, minimum)
    if len(new) < minimum:
        raise NewPinRefused(PinRule.TOO_SHORT, minimum)
    if old is not None and new == old:
        raise NewPinRefused(PinRule.SAME_AS_OLD, minimum)


def _so_state(flags: TokenFlag) -> PinState:
    for flag, state in (
        (TokenFlag.SO_PIN_LOCKED, PinState.LOCKED),
        (TokenFlag.SO_PIN_FINAL_TRY, PinState.FINAL_TRY),
        (TokenFlag.SO_PIN_COUNT_LOW, PinState.COUNT_LOW),
    ):
        if flags & flag:
            return state
    return PinState.OK


def so_pin_state(token: pkcs11.Token) -> PinState:
    """The SO PIN's state, shown before IT types it."""
    return _so_state(refreshed(token).flags)


def change_pin(token: pkcs11.Token, old: str, new: str) -> None:
    """C_SetPIN in a read-write public session. Raises WrongPin / PinLocked as login does."""
    info = describe(refreshed(token))
    if info.pin_state is PinState.LOCKED:
        raise PinLocked(info.label)
    if info.protected_auth_path:
        raise PinPadChangeUnsupported(
            f"Token '{info.label}' is in a PIN-pad reader: change the PIN with the reader's "
            "own PIN-change function or the token vendor's tool."
        )
    try:
        with translated_errors("changing the PIN"):
            # Logged in first: a wrong old PIN fails at C_Login, counted and reported
            # the usual way (tpm2-pkcs11 answers CKR_OK to C_SetPIN with a wrong old PIN
            # in a public session and leaves the PIN as it was).
            try:
                session = token.open(rw=True, user_pin=old)
            except p11.PinIncorrect:
                raise WrongPin(retries_hint(token, info.label)) from None
            with session:
                try:
                    session.set_pin(old, new)
                except (p11.PinLenRange, p11.PinInvalid):
                    raise _pin_shape_refused(info.label) from None
            _confirm_new_pin(token, new, info.label)
    finally:
        del old, new


def _confirm_new_pin(token: pkcs11.Token, new: str, label: str) -> None:
    """Log in with the new PIN once: a token's CKR_OK is not taken on trust."""
    try:
        token.open(user_pin=new).close()
    except p11.PinIncorrect:
        raise TokenOperationFailed(
            f"Token '{label}' reported the PIN as changed but does not accept the new one; "
            "the old PIN is probably still in force. Try logging in with it before anything "
            "else, and tell your token administrator."
        ) from None


def unblock_pin(token: pkcs11.Token, so_pin: str, new: str) -> None:
    """Log in as security officer and set a new user PIN (C_InitPIN): clears the lock."""
    label = describe(token).label
    if so_pin_state(token) is PinState.LOCKED:
        raise WrongSoPin(
            f"The security officer PIN of token '{label}' is locked too: the token must be "
            "replaced (ask your certificate authority)."
        )
    try:
        with translated_errors("unblocking the PIN"):
            try:
                session = token.open(rw=True, so_pin=so_pin)
            except p11.PinIncorrect:
                raise WrongSoPin(
                    f"Token '{label}' did not accept the security officer PIN. "
                    f"{_so_advice(so_pin_state(token))}"
                ) from None
            except p11.SessionReadOnlyExists:
                raise TokenError(
                    f"Token '{label}' is in use by another program (or another CSOS window): "
                    "close it, then unblock again."
                ) from None
            with session:
                try:
                    session.init_pin(new)
                except (p11.PinLenRange, p11.PinInvalid):
                    raise _pin_shape_refused(label) from None
    finally:
        del so_pin, new


def _pin_shape_refused(label: str) -> InputError:
    return InputError(
        f"Token '{label}' does not accept a PIN of that length or with those characters. "
        "The PIN was not changed."
    )


def _so_advice(state: PinState) -> str:
    return {
        PinState.FINAL_TRY: "One try is left before the token is locked for good.",
        PinState.COUNT_LOW: "Few tries are left before the token is locked for good.",
        PinState.LOCKED: "It is now locked: the token must be replaced.",
    }.get(state, "Check the SO PIN from the token's delivery letter and try again.")
