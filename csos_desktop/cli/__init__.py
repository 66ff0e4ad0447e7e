"""The `csos` command: one click group, one submodule per command group."""

from __future__ import annotations

import click

from csos_desktop import __version__


@click.group()
@click.version_option(__version__, prog_name="csos")
def main() -> None:
    """CSOS Desktop: sign and verify DEA CSOS orders with a PKCS#11 token."""


def _register() -> None:
    # Imported here so each command group lives in its own module and
    # `csos --help` still lists them all.
    from csos_desktop.cli import sandbox, sandbox_history, som  # noqa: F401

    main.add_command(sandbox.sandbox)
    main.add_command(som.som)


_register()
