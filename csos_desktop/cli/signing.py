"""The options every signing command takes, and its signing session (services.signing)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from csos_desktop.cli.terminal import TerminalInteraction
from csos_desktop.config import configured_module

if TYPE_CHECKING:  # the token stack loads when a command signs, not when `csos` starts
    from csos_desktop.services.orders.lifecycle import TokenDocumentSigner
    from csos_desktop.services.signing import SigningPurpose, SigningSession, TokenTarget
    from csos_desktop.store import Store


def token_options(fn: click.decorators.FC) -> click.decorators.FC:
    """The options every signing command takes to find the token and certificate."""
    for opt in reversed(
        (
            click.option("--module", help="Path of the PKCS#11 driver (default: detected)."),
            click.option("--token", "label", help="Label of the token to use."),
            click.option(
                "--cert-id",
                help="CKA_ID (hex) of the certificate, if there are several (orders: by "
                "default the one for the purchaser's DEA number).",
            ),
            click.option(
                "--chain",
                "chain_file",
                type=click.Path(dir_okay=False, path_type=Path),
                help="PEM file of CA certificates to include.",
            ),
            click.option(
                "--pin-stdin",
                is_flag=True,
                help="Read the PIN from the first line of standard input.",
            ),
        )
    ):
        fn = opt(fn)
    return fn


def token_target(
    module: str | None, label: str | None, cert_id: str | None, chain_file: Path | None = None
) -> TokenTarget:
    """The ``token_options`` as a target, with the driver configured by policy or settings."""
    from csos_desktop.services.signing import TokenTarget

    return TokenTarget(module, label, configured_module(), cert_id, chain_file)


def open_signing(
    purpose: SigningPurpose,
    module: str | None,
    label: str | None,
    cert_id: str | None,
    chain_file: Path | None,
    *,
    rw: bool = False,
    by_purchaser: bool = False,
) -> AbstractContextManager[SigningSession]:
    """The signing session for a command; the pre-PIN checks run before any PIN prompt.

    ``by_purchaser`` (order signing): each order is signed with the certificate for its
    purchaser's DEA number, chosen by the session (several locations on one token)."""
    from csos_desktop.services.signing import signing_session

    return signing_session(
        token_target(module, label, cert_id, chain_file), purpose, rw=rw, by_purchaser=by_purchaser
    )


def log_in_or_cancel(session: SigningSession, pin_stdin: bool, what: str) -> None:
    """One PIN entry at the terminal; a cancel says *what* was left unchanged."""
    from csos_desktop.services.interaction import Cancelled

    try:
        session.log_in(TerminalInteraction(pin_from_stdin=pin_stdin))
    except Cancelled:
        raise Cancelled(f"{what} was cancelled; nothing was changed.") from None


@contextmanager
def document_signer(
    purpose: SigningPurpose,
    what: str,
    *,
    module: str | None,
    label: str | None,
    cert_id: str | None,
    chain_file: Path | None,
    pin_stdin: bool,
) -> Iterator[TokenDocumentSigner]:
    """A logged-in session signing documents (an archive manifest, an audit checkpoint).

    Takes the ``token_options`` values as keywords: ``document_signer(purpose, what, **token)``.
    """
    from csos_desktop.services.orders.lifecycle import TokenDocumentSigner

    with open_signing(purpose, module, label, cert_id, chain_file) as session:
        log_in_or_cancel(session, pin_stdin, what)
        yield TokenDocumentSigner(session)


@contextmanager
def store_and_session(
    module: str | None,
    label: str | None,
    cert_id: str | None,
    chain_file: Path | None,
) -> Iterator[tuple[Store, SigningSession]]:
    """The order store and an order-purpose signing session, for commands that sign notices
    about orders (cancellations, lost-order statements) and powers of attorney."""
    from csos_desktop.services.signing import SigningPurpose
    from csos_desktop.store import open_store

    with (
        open_store() as store,
        open_signing(SigningPurpose.ORDER, module, label, cert_id, chain_file) as session,
    ):
        yield store, session


def logged_in_signer(
    session: SigningSession, pin_stdin: bool, what: str
) -> Callable[[bytes], bytes]:
    """Ask the PIN once (after every check passed) and return the session's signer."""
    from csos_desktop.services.orders.lifecycle import TokenDocumentSigner

    log_in_or_cancel(session, pin_stdin, what)
    return TokenDocumentSigner(session).sign
