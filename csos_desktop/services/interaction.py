"""How services talk to the person in front of the screen, GUI or terminal alike.

Services receive an :class:`Interaction`; ``cli`` and ``gui`` each implement it,
so no service knows which one it has (the handler role of Electrum's hardware
wallet plugins).
"""

from __future__ import annotations

from typing import Protocol

from csos_desktop.domain.errors import CsosError
from csos_desktop.domain.token_errors import PinLocked
from csos_desktop.domain.token_state import pin_wording
from csos_desktop.token.session import TokenSession
from csos_desktop.token.slots import PinState, TokenInfo, describe, refreshed


class Cancelled(CsosError):
    """The user chose not to go on; nothing was changed."""


class Interaction(Protocol):
    """What a service may ask of the user."""

    def ask_pin(self, token: TokenInfo, warning: str | None) -> str | None:
        """The PIN typed by the user, or None if they cancelled."""

    def show_pin_pad_prompt(self, token: TokenInfo) -> None:
        """Tell the user to type the PIN on the reader's keypad."""

    def notify(self, message: str) -> None:
        """Progress or status for the user."""


def log_in(ts: TokenSession, interaction: Interaction) -> None:
    """Log in once, with the PIN pad when the reader has one; never retries a PIN."""
    info = describe(refreshed(ts.token))
    if info.pin_state is PinState.LOCKED:
        raise PinLocked(info.label)
    if info.protected_auth_path:
        interaction.show_pin_pad_prompt(info)
        ts.login(None)
        return
    pin = interaction.ask_pin(info, pin_wording(info.pin_state).advice)
    if pin is None:
        raise Cancelled("Signing was cancelled; nothing was signed.")
    try:
        ts.login(pin)
    finally:
        del pin
