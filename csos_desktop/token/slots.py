"""Listing readers/tokens and their PIN state, as the user needs to see it."""

from __future__ import annotations

import pkcs11
from pkcs11._pkcs11 import lib as Pkcs11Lib
from pkcs11.constants import TokenFlag

from csos_desktop.domain.errors import InputError
from csos_desktop.domain.token_errors import NoToken

# Pure values, defined with their wording in domain.token_state; the token layer's own
# modules import them from here.
from csos_desktop.domain.token_state import PinState as PinState
from csos_desktop.domain.token_state import TokenInfo as TokenInfo
from csos_desktop.token.assurance import is_software_token
from csos_desktop.token.library import translated_errors


def pin_state_from_flags(flags: TokenFlag) -> PinState:
    """Most severe PIN condition first: locked beats final-try beats count-low."""
    if not flags & TokenFlag.USER_PIN_INITIALIZED:
        return PinState.NOT_INITIALIZED
    for flag, state in (
        (TokenFlag.USER_PIN_LOCKED, PinState.LOCKED),
        (TokenFlag.USER_PIN_FINAL_TRY, PinState.FINAL_TRY),
        (TokenFlag.USER_PIN_COUNT_LOW, PinState.COUNT_LOW),
        (TokenFlag.USER_PIN_TO_BE_CHANGED, PinState.TO_BE_CHANGED),
    ):
        if flags & flag:
            return state
    return PinState.OK


def _clean(text: str) -> str:
    # PKCS#11 pads these fixed-width fields with spaces.
    return text.rstrip(" \x00")


def describe(token: pkcs11.Token) -> TokenInfo:
    """Snapshot of a token's identity and flags."""
    slot = token.slot
    flags = token.flags
    manufacturer, model = _clean(token.manufacturer_id), _clean(token.model)
    slot_description = _clean(slot.slot_description)
    return TokenInfo(
        slot_id=int(slot.slot_id),
        slot_description=slot_description,
        label=_clean(token.label),
        manufacturer=manufacturer,
        model=model,
        serial=_clean(token.serial.decode("ascii", "replace")),
        login_required=bool(flags & TokenFlag.LOGIN_REQUIRED),
        protected_auth_path=bool(flags & TokenFlag.PROTECTED_AUTHENTICATION_PATH),
        pin_state=pin_state_from_flags(flags),
        software=is_software_token(
            manufacturer=manufacturer,
            model=model,
            slot_description=slot_description,
            slot_flags=int(slot.flags),
        ),
    )


def present_tokens(lib: Pkcs11Lib) -> list[pkcs11.Token]:
    """Initialised tokens in slots that have one, in slot order.

    Blank tokens are left out: SoftHSM2, for one, always shows a spare blank slot.
    """
    with translated_errors("listing tokens"):
        tokens = [slot.get_token() for slot in lib.get_slots(token_present=True)]
        return [t for t in tokens if t.flags & TokenFlag.TOKEN_INITIALIZED]


def list_tokens(lib: Pkcs11Lib) -> list[TokenInfo]:
    """Describe every present token."""
    with translated_errors("listing tokens"):
        return [describe(t) for t in present_tokens(lib)]


def find_token(lib: Pkcs11Lib, label: str | None = None) -> pkcs11.Token:
    """The token with *label*, or the only token present."""
    tokens = present_tokens(lib)
    if label is not None:
        matching = [t for t in tokens if _clean(t.label) == label]
        if not matching:
            seen = ", ".join(repr(_clean(t.label)) for t in tokens) or "none"
            raise NoToken(f"No token labelled {label!r} is inserted (tokens present: {seen}).")
        return matching[0]
    if not tokens:
        raise NoToken(
            "No token is inserted. Insert your CSOS token (USB token or smart card in its "
            "reader) and try again."
        )
    if len(tokens) > 1:
        labels = ", ".join(repr(_clean(t.label)) for t in tokens)
        raise InputError(f"Several tokens are inserted ({labels}); choose one with --token LABEL.")
    return tokens[0]


def refreshed(token: pkcs11.Token) -> pkcs11.Token:
    """Re-read the token's info (flags change after a wrong PIN)."""
    with translated_errors("reading the token's state"):
        return token.slot.get_token()
