"""`csos rx user add-dea|remove-dea|registrations`: a practitioner's DEA registrations.

21 CFR 1311.120(b)(7): a practitioner registered in several States holds one DEA
number per registration; each prescription names the one it is issued under.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from csos_desktop.cli.common import run_cli
from csos_desktop.cli.rx.admin import actor, as_option
from csos_desktop.services.pharmacy_store import open_store
from csos_desktop.services.rx import registrations as rx_registrations


@click.command("add-dea")
@click.argument("user_id")
@click.option("--dea", "dea_number", required=True, help="The registration's DEA number.")
@click.option("--state", required=True, help="The State it is for (two letters, e.g. NY).")
@click.option(
    "--expires",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day the registration ends (YYYY-MM-DD).",
)
@as_option()
@run_cli
def add_dea(user_id: str, dea_number: str, state: str, expires: datetime, as_user: str) -> None:
    """Record another DEA registration of a practitioner (an access administrator does)."""
    with open_store() as store:
        reg = rx_registrations.add_registration(
            store,
            actor(as_user),
            user_id,
            dea_number,
            state=state,
            expires=expires.date(),
            now=datetime.now(UTC),
        )
    click.echo(f"Added registration {reg.label()} to {user_id}.")
    click.echo(
        "Signing under it needs a permission that verified it: revoke the current one "
        f"and propose anew (csos rx grant propose {user_id} --dea ...).",
        err=True,
    )


@click.command("remove-dea")
@click.argument("user_id")
@click.option("--dea", "dea_number", required=True, help="The registration's DEA number.")
@as_option()
@run_cli
def remove_dea(user_id: str, dea_number: str, as_user: str) -> None:
    """Remove a registration: nothing is prepared or signed under it again; its record stays."""
    with open_store() as store:
        reg = rx_registrations.remove_registration(
            store, actor(as_user), user_id, dea_number, now=datetime.now(UTC)
        )
    click.echo(f"Removed registration {reg.dea_number} from {user_id}.")


@click.command("registrations")
@click.argument("user_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@run_cli
def list_registrations(user_id: str, as_json: bool) -> None:
    """A user's current DEA registrations."""
    with open_store() as store:
        regs = rx_registrations.registrations(store, user_id)
    if as_json:
        click.echo(json.dumps([r.to_json() for r in regs], indent=2))
        return
    if not regs:
        click.echo(f"{user_id} holds no current DEA registration.")
    for r in regs:
        click.echo(r.label())


COMMANDS = (add_dea, remove_dea, list_registrations)
