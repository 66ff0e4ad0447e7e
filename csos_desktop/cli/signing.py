"""The options every signing command takes, and its signing session (services.signing)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from csos_desktop.cli.terminal import TerminalInteraction
from csos_desktop.services.context import current

if TYPE_CHECKING:  # the token stack loads when a command signs, not when `csos` starts
    from csos_desktop.services.pharmacy_store import OpenStore
    from csos_desktop.services.signing import (
        IdentityChoice,
        SigningPurpose,
        SigningSession,
        TokenTarget,
    )
    from csos_desktop.services.signing.documents import TokenDocumentSigner


@dataclass(frozen=True)
class TokenChoice:
    """What a signing command was told about the token: its ``token_options``."""

    module: str | None = None
    label: str | None = None
    cert_id: str | None = None
    chain_file: Path | None = None
    pin_stdin: bool = False

    def target(self) -> TokenTarget:
        """The token target, with the driver configured by policy or settings."""
        return token_target(self.module, self.label, self.cert_id, self.chain_file)

    def terminal(self) -> TerminalInteraction:
        """The PIN prompt at this terminal (or the first line of stdin with --pin-stdin)."""
        return TerminalInteraction(pin_from_stdin=self.pin_stdin)


def token_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options every signing command takes to find the token and certificate.

    The command receives them as one ``token: TokenChoice`` argument.
    """

    @functools.wraps(fn)
    def with_choice(
        *args: Any,
        module: str | None,
        label: str | None,
        cert_id: str | None,
        chain_file: Path | None,
        pin_stdin: bool,
        **kwargs: Any,
    ) -> Any:
        choice = TokenChoice(module, label, cert_id, chain_file, pin_stdin)
        return fn(*args, token=choice, **kwargs)

    command: Callable[..., Any] = with_choice
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
        command = opt(command)
    return command


def token_target(
    module: str | None, label: str | None, cert_id: str | None, chain_file: Path | None = None
) -> TokenTarget:
    """The ``token_options`` as a target, with the driver configured by policy or settings."""
    from csos_desktop.services.signing import TokenTarget

    return TokenTarget(module, label, current().driver, cert_id, chain_file)


def open_signing(
    purpose: SigningPurpose, token: TokenChoice, *, rw: bool = False
) -> AbstractContextManager[SigningSession]:
    """The signing session for a command; the pre-PIN checks run before any PIN prompt."""
    from csos_desktop.services.signing import signing_session

    return signing_session(token.target(), purpose, rw=rw)


def open_choice(
    purpose: SigningPurpose, token: TokenChoice
) -> AbstractContextManager[IdentityChoice]:
    """Orders and receipts: each is signed with the certificate for its purchaser's DEA
    number, chosen per order (several locations on one token; ``--cert-id`` forces one)."""
    from csos_desktop.services.signing import signing_session

    return signing_session(token.target(), purpose, by_purchaser=True)


def log_in_or_cancel(session: SigningSession, token: TokenChoice, what: str) -> None:
    """One PIN entry at the terminal; a cancel says *what* was left unchanged."""
    from csos_desktop.services.interaction import Cancelled

    try:
        session.log_in(token.terminal())
    except Cancelled:
        raise Cancelled(f"{what} was cancelled; nothing was changed.") from None


@contextmanager
def document_signer(
    purpose: SigningPurpose, what: str, token: TokenChoice
) -> Iterator[TokenDocumentSigner]:
    """A logged-in session signing documents (an archive manifest, an audit checkpoint)."""
    from csos_desktop.services.signing.documents import TokenDocumentSigner

    with open_signing(purpose, token) as session:
        log_in_or_cancel(session, token, what)
        yield TokenDocumentSigner(session)


@contextmanager
def store_and_session(
    token: TokenChoice, purpose: SigningPurpose | None = None
) -> Iterator[tuple[OpenStore, SigningSession]]:
    """The store and a signing session (for orders unless *purpose* says otherwise): the
    set-up of every command that signs something kept in the store."""
    from csos_desktop.services.pharmacy_store import open_store
    from csos_desktop.services.signing import SigningPurpose

    with open_store() as store, open_signing(purpose or SigningPurpose.ORDER, token) as session:
        yield store, session


def logged_in_signer(
    session: SigningSession, token: TokenChoice, what: str
) -> Callable[[bytes], bytes]:
    """Ask the PIN once (after every check passed) and return the session's signer."""
    from csos_desktop.services.signing.documents import TokenDocumentSigner

    log_in_or_cancel(session, token, what)
    return TokenDocumentSigner(session).sign
