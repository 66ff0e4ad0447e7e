"""The `csos` command: one click group, one submodule per command group.

Command modules are imported only when their command runs (`LazyGroup`), so
`csos --version` or `csos order list` start without the sandbox servers, the
archive code or the token stack.
"""

from __future__ import annotations

import click

from csos_desktop import __version__
from csos_desktop.cli.lazy_group import LazyCommand, LazyGroup

# Top-level command -> the module that defines it (and modules that add subcommands to it).
COMMANDS: dict[str, LazyCommand] = {
    "token": LazyCommand(
        "csos_desktop.cli.token",
        "token",
        extra=("csos_desktop.cli.token.pin", "csos_desktop.cli.token.loss"),
    ),
    "order": LazyCommand(
        "csos_desktop.cli.order",
        "order",
        extra=("csos_desktop.cli.order.records", "csos_desktop.cli.order.legal"),
    ),
    "archive": LazyCommand("csos_desktop.cli.archive", "archive"),
    "rx": LazyCommand("csos_desktop.cli.rx", "rx"),
    "cert": LazyCommand(
        "csos_desktop.cli.cert", "cert", extra=("csos_desktop.cli.cert.import_p12",)
    ),
    "enrol": LazyCommand("csos_desktop.cli.enrol", "enrol"),
    "audit": LazyCommand("csos_desktop.cli.audit", "audit"),
    # Test CA and reference distributor: FastAPI, uvicorn, SQLAlchemy (`[sandbox]` extra).
    "sandbox": LazyCommand(
        "csos_desktop.cli.sandbox",
        "sandbox",
        extra=(
            "csos_desktop.cli.sandbox.ca_server",
            "csos_desktop.cli.sandbox.distributor",
            "csos_desktop.cli.sandbox.history",
        ),
        needs_extra="sandbox",
    ),
    "som": LazyCommand("csos_desktop.cli.som", "som"),
    "catalogue": LazyCommand("csos_desktop.cli.catalogue", "catalogue"),
    "demo": LazyCommand("csos_desktop.cli.demo", "demo", needs_extra="sandbox"),
    "config": LazyCommand("csos_desktop.cli.config", "config"),
    "doctor": LazyCommand("csos_desktop.cli.doctor", "doctor"),
    "support-bundle": LazyCommand("csos_desktop.cli.support", "support_bundle"),
    "sync": LazyCommand("csos_desktop.cli.sync", "sync"),
    "trust": LazyCommand("csos_desktop.cli.trust", "trust"),
    "crl": LazyCommand("csos_desktop.cli.crl", "crl"),
    "poa": LazyCommand("csos_desktop.cli.poa", "poa"),
    "x12": LazyCommand("csos_desktop.cli.x12", "x12"),
    "as2": LazyCommand("csos_desktop.cli.as2", "as2"),
    # The step distributors remind customers of, one word away: `csos receive ORDER ...`.
    "receive": LazyCommand("csos_desktop.cli.order.records", "receive"),
}


# Old spellings still accepted, not listed: scripts written for them keep working.
ALIASES: dict[str, str] = {"enroll": "enrol"}


@click.group(cls=LazyGroup, lazy=COMMANDS, aliases=ALIASES)
@click.version_option(__version__, prog_name="csos")
def main() -> None:
    """CSOS Desktop: sign and verify DEA CSOS orders with a PKCS#11 token."""
    from csos_desktop.services.context import build_context, install
    from csos_desktop.startup import start_logging

    start_logging()
    install(build_context())  # the home, the configuration in force, no demo
