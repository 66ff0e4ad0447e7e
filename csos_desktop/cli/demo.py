"""`csos demo`: the headless walk-through (the GUI demo comes with the GUI)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from csos_desktop.cli.common import run_cli


@click.command()
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Demo directory (default: $CSOS_HOME, else ./demo-home). Recreated each run.",
)
@run_cli
def demo(home: Path | None) -> None:
    """Enrol a demo token at the sandbox CA, sign and verify an order, show a tampered one fail."""
    # Imported here: the client reaches the sandbox only to wire up the demo.
    from csos_desktop.sandbox.demo import run_demo, try_it_yourself

    home = (home or Path(os.environ.get("CSOS_HOME") or "demo-home")).resolve()
    os.environ["CSOS_HOME"] = str(home)
    result = run_demo(home, click.echo)
    click.echo(try_it_yourself(result))
