"""The `csos` command: one click group, one submodule per command group."""

from __future__ import annotations

import click

from csos_desktop import __version__
from csos_desktop.startup import start_logging


@click.group()
@click.version_option(__version__, prog_name="csos")
def main() -> None:
    """CSOS Desktop: sign and verify DEA CSOS orders with a PKCS#11 token."""
    start_logging()


def _register() -> None:
    # Imported here so each command group lives in its own module and
    # `csos --help` still lists them all.
    from csos_desktop.cli import (  # noqa: F401 - modules attach commands to groups
        archive,
        audit,
        catalogue,
        cert,
        config,
        crl,
        demo,
        doctor,
        enroll,
        order,
        order_legal,
        order_store,
        poa,
        rx,
        sandbox,
        sandbox_ca_server,
        sandbox_distributor,
        sandbox_history,
        som,
        support,
        sync,
        token,
        trust,
    )

    for group in (
        token.token,
        order.order,
        archive.archive,
        rx.rx,
        cert.cert,
        enroll.enroll,
        audit.audit,
        sandbox.sandbox,
        som.som,
        catalogue.catalogue,
        demo.demo,
        config.config,
        doctor.doctor,
        support.support_bundle,
        sync.sync,
        trust.trust,
        crl.crl,
        poa.poa,
    ):
        main.add_command(group)
    # The step distributors remind customers of, one word away: `csos receive ORDER ...`.
    main.add_command(order_store.receive, name="receive")


_register()
