"""`csos demo`: the whole loop on one machine; then the GUI when there is a display."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import click

from csos_desktop.cli.common import run_cli

# At the top so that without the sandbox extra (the packaged program) `csos demo` says
# so (cli/lazy_group.py); `csos` loads this module only when the demo runs.
from csos_desktop.sandbox.demo import DEMO_LABEL, DEMO_PIN, run_demo, try_it_yourself
from csos_desktop.services.context import current, install


@click.command()
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Demo directory (default: $CSOS_HOME, else ./demo-home). Recreated each run.",
)
@click.option(
    "--headless",
    is_flag=True,
    help="Print the walk-through and exit (the default when there is no display).",
)
@run_cli
def demo(home: Path | None, headless: bool) -> None:
    """Enrol, sign, send, ship, receive and archive orders against the local sandbox."""
    home = (home or Path(os.environ.get("CSOS_HOME") or "demo-home")).resolve()
    os.environ["CSOS_HOME"] = str(home)
    run = run_demo(home, click.echo)
    # run_demo entered this process into the demo on the home it marked; a later `csos` on
    # the same home is an ordinary run.
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    try:
        if headless or not has_display:
            if not headless:
                click.echo("\nNo display found: ran the demo headless (csos demo --headless).")
            click.echo(try_it_yourself(run))
            return
        from csos_desktop.gui.app import main as gui_main

        os.environ["SOFTHSM2_CONF"] = str(run.softhsm_conf)
        # The demo's driver, said through the context the window runs with (a variable set
        # now would come after the context was built).
        install(replace(current(), driver_variable=run.module))
        click.echo("\nOpening CSOS Desktop; the sandbox keeps serving until you close it.")
        gui_main(
            [
                "--demo-banner",
                f"DEMO: token '{DEMO_LABEL}', PIN {DEMO_PIN}. Sandbox CA and "
                "distributor run on this computer; nothing here is a real order.",
            ]
        )
    finally:
        run.stop()
