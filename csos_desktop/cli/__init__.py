"""The `csos` command: one click group, one submodule per command group.

Command modules are imported only when their command runs (`LazyGroup`), so
`csos --version` or `csos order list` start without the sandbox servers, the
archive code or the token stack.
"""

from __future__ import annotations

import click

from csos_desktop import __version__
from csos_desktop.cli.lazy_group import LazyCommand, LazyGroup

_CLI = "csos_desktop.cli."

# Top-level command -> the module that defines it (and modules that add subcommands to it).
COMMANDS: dict[str, LazyCommand] = {
    "token": LazyCommand(_CLI + "token", "token", extra=(_CLI + "token_pin", _CLI + "token_loss")),
    "order": LazyCommand(
        _CLI + "order", "order", extra=(_CLI + "order_store", _CLI + "order_legal")
    ),
    "archive": LazyCommand(_CLI + "archive", "archive"),
    "rx": LazyCommand(_CLI + "rx", "rx"),
    "cert": LazyCommand(_CLI + "cert", "cert", extra=(_CLI + "cert_import",)),
    "enroll": LazyCommand(_CLI + "enroll", "enroll"),
    "audit": LazyCommand(_CLI + "audit", "audit"),
    # Test CA and reference distributor: FastAPI, uvicorn, SQLAlchemy (`[sandbox]` extra).
    "sandbox": LazyCommand(
        _CLI + "sandbox",
        "sandbox",
        extra=(_CLI + "sandbox_ca_server", _CLI + "sandbox_distributor", _CLI + "sandbox_history"),
        needs_extra="sandbox",
    ),
    "som": LazyCommand(_CLI + "som", "som"),
    "catalogue": LazyCommand(_CLI + "catalogue", "catalogue"),
    "demo": LazyCommand(_CLI + "demo", "demo", needs_extra="sandbox"),
    "config": LazyCommand(_CLI + "config", "config"),
    "doctor": LazyCommand(_CLI + "doctor", "doctor"),
    "support-bundle": LazyCommand(_CLI + "support", "support_bundle"),
    "sync": LazyCommand(_CLI + "sync", "sync"),
    "trust": LazyCommand(_CLI + "trust", "trust"),
    "crl": LazyCommand(_CLI + "crl", "crl"),
    "poa": LazyCommand(_CLI + "poa", "poa"),
    # The step distributors remind customers of, one word away: `csos receive ORDER ...`.
    "receive": LazyCommand(_CLI + "order_store", "receive"),
}


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(__version__, prog_name="csos")
def main() -> None:
    """CSOS Desktop: sign and verify DEA CSOS orders with a PKCS#11 token."""
    from csos_desktop.startup import start_logging

    start_logging()
