"""`csos token change-pin` and `csos token unblock`: the user PIN, changed or reset by IT."""

from __future__ import annotations

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.terminal import ask_secret
from csos_desktop.cli.token import token
from csos_desktop.services.context import current
from csos_desktop.services.tokens.pins import (
    change_user_pin,
    pin_state_notice,
    so_pin_notice,
    token_to_manage,
    unblock_user_pin,
)

_MODULE = click.option("--module", help="Path of the PKCS#11 driver (default: detected).")
_TOKEN = click.option("--token", "label", help="Label of the token (when several are inserted).")


@token.command("change-pin")
@_MODULE
@_TOKEN
@click.option(
    "--pin-stdin",
    is_flag=True,
    help="Read the current PIN, the new PIN and the new PIN again as three lines of stdin.",
)
@run_cli
def change_pin_command(module: str | None, label: str | None, pin_stdin: bool) -> None:
    """Change the token's user PIN (C_SetPIN); the old PIN is asked once and never retried."""
    _, tok, info = token_to_manage(module, label, current().driver)
    click.echo(f"Token '{info.label}': PIN state {info.pin_state.value}.", err=True)
    notice = pin_state_notice(info)
    if notice:
        click.echo(f"warning: {notice}", err=True)
    old = ask_secret("Current PIN", pin_stdin)
    new = ask_secret("New PIN", pin_stdin)
    repeat = ask_secret("New PIN again", pin_stdin)
    done = change_user_pin(tok, old, new, repeat)
    click.echo(f"The PIN of token '{done.label}' was changed.")


@token.command("unblock")
@_MODULE
@_TOKEN
@click.option(
    "--pin-stdin",
    is_flag=True,
    help="Read the SO PIN, the new user PIN and the new PIN again as three lines of stdin.",
)
@run_cli
def unblock_command(module: str | None, label: str | None, pin_stdin: bool) -> None:
    """For IT: set a new user PIN with the security officer (SO) PIN, which clears a lock."""
    _, tok, info = token_to_manage(module, label, current().driver)
    click.echo(f"Token '{info.label}': user PIN state {info.pin_state.value}.", err=True)
    notice = so_pin_notice(tok)
    if notice:
        click.echo(f"warning: {notice}", err=True)
    so_pin = ask_secret("Security officer (SO) PIN", pin_stdin)
    new = ask_secret("New user PIN", pin_stdin)
    repeat = ask_secret("New user PIN again", pin_stdin)
    done = unblock_user_pin(tok, so_pin, new, repeat)
    click.echo(
        f"Token '{done.label}' has a new user PIN (state {done.pin_state.value}); "
        "give it to its holder in person."
    )
