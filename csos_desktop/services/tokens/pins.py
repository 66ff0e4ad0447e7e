"""PIN change and unblock, as the CLI and the GUI both call them: checks, token call, audit."""

from __future__ import annotations

from datetime import UTC, datetime

from csos_desktop.config import load_config
from csos_desktop.domain.token_errors import PinLocked
from csos_desktop.domain.token_state import pin_wording
from csos_desktop.store import lifecycle, open_store
from csos_desktop.store.audit import AuditEvent
from csos_desktop.token.access import open_token
from csos_desktop.token.library import Pkcs11Token
from csos_desktop.token.modules import DriverSetting
from csos_desktop.token.pins import (
    DEFAULT_MIN_PIN_LENGTH,
    change_pin,
    check_new_pin,
    so_pin_state,
    unblock_pin,
)
from csos_desktop.token.slots import PinState, TokenInfo, describe, refreshed

#: A token as the PIN dialogs hold it between calls (the front ends name this type).
ManagedToken = Pkcs11Token


def token_to_manage(
    module: str | None, label: str | None, configured: DriverSetting | None
) -> tuple[str, ManagedToken, TokenInfo]:
    """The driver's path, the token whose PIN (or keys) is to be managed, and what it
    reports, before any PIN."""
    choice, token = open_token(module, label, configured)
    return choice.path, token, describe(token)


def min_pin_length() -> int:
    """The minimum from the machine policy or settings (the token may refuse short ones too)."""
    value = load_config().get("pin_min_length")
    return int(value) if isinstance(value, int) else DEFAULT_MIN_PIN_LENGTH


def pin_state_notice(info: TokenInfo) -> str | None:
    """What to tell the user about the retry counter before they type a PIN."""
    if info.pin_state is PinState.LOCKED:
        raise PinLocked(info.label)
    return pin_wording(info.pin_state).advice


def so_pin_notice(token: ManagedToken) -> str | None:
    return {
        PinState.COUNT_LOW: "The security officer PIN has been mistyped: few tries are left.",
        PinState.FINAL_TRY: "FINAL TRY for the security officer PIN: one more wrong entry "
        "locks the token for good.",
    }.get(so_pin_state(token))


def change_user_pin(token: ManagedToken, old: str, new: str, repeat: str) -> TokenInfo:
    """Check the new PIN, C_SetPIN, write ``token.pin-changed`` (no PIN in it)."""
    try:
        check_new_pin(new, repeat, min_pin_length(), old)
        change_pin(token, old, new)
    finally:
        del old, new, repeat
    info = describe(refreshed(token))
    _record(AuditEvent.TOKEN_PIN_CHANGED, info)
    return info


def unblock_user_pin(token: ManagedToken, so_pin: str, new: str, repeat: str) -> TokenInfo:
    """Check the new PIN, SO login + C_InitPIN, write ``token.pin-unblocked``."""
    try:
        check_new_pin(new, repeat, min_pin_length())
        unblock_pin(token, so_pin, new)
    finally:
        del so_pin, new, repeat
    info = describe(refreshed(token))
    _record(AuditEvent.TOKEN_PIN_UNBLOCKED, info)
    return info


def _record(event: AuditEvent, info: TokenInfo) -> None:
    with open_store() as store:
        lifecycle.record_event(
            store,
            event,
            now=datetime.now(UTC),
            details={"token": info.label, "serial": info.serial, "model": info.model},
        )
