"""The terminal's side of :class:`~csos_desktop.services.interaction.Interaction`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # PKCS#11 loads when a command opens a token, not when `csos` starts
    from csos_desktop.domain.token_state import TokenInfo


class TerminalInteraction:
    """Asks for the PIN without echo, or reads one line from stdin with --pin-stdin."""

    def __init__(self, pin_from_stdin: bool = False) -> None:
        self._pin_from_stdin = pin_from_stdin

    def ask_pin(self, token: TokenInfo, warning: str | None) -> str | None:
        if warning:
            click.echo(f"warning: {warning}", err=True)
        if self._pin_from_stdin:
            line = sys.stdin.readline()
            pin = line.rstrip("\r\n")
            return pin or None
        try:
            value: str = click.prompt(
                f"PIN for token '{token.label}'",
                hide_input=True,
                err=True,
                default="",
                show_default=False,
            )
        except click.Abort:
            return None
        return value or None

    def show_pin_pad_prompt(self, token: TokenInfo) -> None:
        click.echo(f"Enter your PIN on the reader's keypad for token '{token.label}'.", err=True)

    def notify(self, message: str) -> None:
        click.echo(message, err=True)


def ask_secret(prompt: str, from_stdin: bool) -> str:
    """One secret (PIN, SO PIN, file password): a stdin line with --pin-stdin, else no echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    try:
        value: str = click.prompt(prompt, hide_input=True, err=True, default="", show_default=False)
    except click.Abort:
        from csos_desktop.services.interaction import Cancelled

        raise Cancelled("Cancelled; nothing was changed.") from None
    return value
