"""Opening the token for a signing command: driver, token, certificate, chain."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import click

from csos_desktop import paths
from csos_desktop.config import configured_module
from csos_desktop.services.identity import (
    SigningIdentity,
    chain_for,
    choose_identity,
    signing_identities,
)
from csos_desktop.services.token_access import open_token
from csos_desktop.token.certs import read_certificates
from csos_desktop.token.session import TokenSession


def token_options(fn: click.decorators.FC) -> click.decorators.FC:
    """The options every signing command takes to find the token and certificate."""
    for opt in reversed(
        (
            click.option("--module", help="Path of the PKCS#11 driver (default: detected)."),
            click.option("--token", "label", help="Label of the token to use."),
            click.option(
                "--cert-id", help="CKA_ID (hex) of the certificate, if there are several."
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


@dataclass(frozen=True)
class SigningContext:
    """An open (not yet logged-in) token session with the identity and chain to sign with."""

    session: TokenSession
    identity: SigningIdentity
    chain: list[bytes]


@contextmanager
def signing_context(
    module: str | None,
    label: str | None,
    cert_id: str | None,
    chain_file: Path | None,
) -> Iterator[SigningContext]:
    """Find the signing certificate without a PIN, so checks can run before one is asked."""
    _, tok = open_token(module, label, configured_module())
    with TokenSession(tok) as ts:
        ts.open_public()
        token_certs = read_certificates(ts)
        identity = choose_identity(signing_identities(token_certs), cert_id)
        chain = chain_for(
            identity,
            chain_file=chain_file,
            token_certs=token_certs,
            stored_chain=paths.chain_file(),
        )
        yield SigningContext(ts, identity, chain)
