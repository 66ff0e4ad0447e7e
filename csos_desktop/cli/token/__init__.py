"""`csos token ...`: the tokens this computer can see."""

from __future__ import annotations

import json

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.domain.token_state import pin_wording
from csos_desktop.services.context import current
from csos_desktop.services.tokens.status import list_present_tokens


@click.group()
def token() -> None:
    """PKCS#11 tokens (USB tokens and smart cards)."""


@token.command("list")
@click.option("--module", help="Path of the PKCS#11 driver (default: detected).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def list_command(module: str | None, as_json: bool) -> None:
    """List readers with a token, their labels and PIN state."""
    listing = list_present_tokens(module, current().driver)
    infos = [t for t in listing.tokens if t.pin_state.value != "not-initialized" or t.label]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "module": listing.module_path,
                    "module_source": listing.module_source,
                    "tokens": [t.to_json() for t in infos],
                },
                indent=2,
            )
        )
        return
    click.echo(f"Driver: {listing.module_path} ({listing.module_source})")
    if not infos:
        click.echo("No token inserted.")
    for t in infos:
        flags = [
            t.kind_text,
            "PIN pad" if t.protected_auth_path else "PIN",
            pin_wording(t.pin_state).short,
        ]
        click.echo(
            f"- {t.label!r}: {t.manufacturer} {t.model}, serial {t.serial}, "
            f"slot '{t.slot_description}' ({', '.join(flags)})"
        )
