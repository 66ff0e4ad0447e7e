"""A practice in a fresh store, the RSA test token, and a CRL check against the test CA."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import crl as asn1_crl
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.pki.profile import read_csos_profile
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.rx import drafts as rx_drafts
from csos_desktop.services.rx.access import Actor
from csos_desktop.services.rx.ceremony import RevocationCheck, crl_revocation
from csos_desktop.services.rx.queue import SignedRx, sign_queued
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import Store, open_store
from csos_desktop.token.identity import SigningIdentity
from csos_desktop.token.session import TokenSession
from csos_desktop.token.slots import TokenInfo
from tests.conftest import TEST_PIN, Provisioned
from tests.integration.signing import chain_of
from tests.integration.store.tokens import open_identity
from tests.unit.rx.helpers import BOB, SMITH, permit, practice, rx_input
from tests.unit.store.helpers import Clock


class Ceremony:
    """The practitioner at the screen: reads the review, types the PIN when asked."""

    __test__ = False

    def __init__(self, pin: str = TEST_PIN) -> None:
        self.pin = pin
        self.asked = 0
        self.shown: list[str] = []

    def ask_pin(self, token: TokenInfo, warning: str | None) -> str | None:
        self.asked += 1
        return self.pin

    def show_pin_pad_prompt(self, token: TokenInfo) -> None:
        raise AssertionError("SoftHSM2 has no PIN pad")

    def notify(self, message: str) -> None:
        pass

    def show_attestation(self, review: str) -> None:
        self.shown.append(review)


@pytest.fixture()
def clock() -> Clock:
    return Clock()


def office_hours_before(moment: datetime) -> datetime:
    """A weekday 10:00 UTC at least a day before *moment*.

    The practice is set up then, so its permission changes raise no off-hours alert
    whatever day the suite runs (tests count the alerts their own steps raise).
    """
    day = moment.date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime.combine(day, time(10), tzinfo=UTC)


@pytest.fixture()
def store(tmp_path: Path, clock: Clock, rsa_token: Provisioned) -> Iterator[Store]:
    """Dr Smith permitted to sign with the RSA test token's certificate."""
    with open_store(tmp_path / "csos.db", clock=clock) as s:
        set_up = Clock(office_hours_before(clock.now))
        practice(s, set_up)
        permit(s, set_up, certificate_der=rsa_token.certificate_der)
        yield s


@pytest.fixture()
def token(rsa_token: Provisioned) -> Iterator[tuple[TokenSession, SigningIdentity]]:
    ts, identity = open_identity(rsa_token)
    with ts:
        yield ts, identity


def crl_check(ca: TestCa) -> RevocationCheck:
    """Revocation against the CA's current CRLs, as `--crl ... --trust root.pem` does."""
    crls = [
        asn1_crl.CertificateList.load(c.public_bytes(Encoding.DER))
        for c in (ca.crl(), ca.root_crl())
    ]
    return crl_revocation([ca.root_certificate.public_bytes(Encoding.DER)], crls)


def identity_with(base: SigningIdentity, cert: x509.Certificate) -> SigningIdentity:
    """The token's key with another certificate issued for it."""
    from asn1crypto import x509 as asn1_x509

    der = cert.public_bytes(Encoding.DER)
    return SigningIdentity(
        base.key_id, der, read_csos_profile(asn1_x509.Certificate.load(der)), base.label
    )


Token = tuple[TokenSession, SigningIdentity]
SignMaria = Callable[..., list[SignedRx]]


@pytest.fixture()
def sign_maria(store: Store, clock: Clock, token: Token, test_ca: TestCa) -> SignMaria:
    """Sign Maria Lopez's queue on the session's token, as Dr Smith unless told otherwise.

    Tests vary the ceremony (what the practitioner answers), who signs and with which
    certificate; the store, token, chain, CRL check and clock are the same for all.
    """
    ts, default = token

    def sign(
        ceremony: Any = None, *, actor: Actor = SMITH, identity: SigningIdentity | None = None
    ) -> list[SignedRx]:
        session = SigningSession(
            ts,
            identity or default,
            chain_of(test_ca),
            SigningPurpose.PRESCRIPTION,
            clock=clock,
        )
        return sign_queued(
            store,
            actor,
            "Maria Lopez",
            session,
            Ceremony() if ceremony is None else ceremony,
            crl_check(test_ca),
            clock=clock,
        )

    return sign


def queue_two_for_maria_one_for_john(store: Store, clock: Clock) -> list[str]:
    other = rx_input(clock)
    other["patient"] = {**other["patient"], "name": "John Roe"}
    return [
        rx_drafts.add_draft(store, BOB, d, now=clock()).rx_id
        for d in (rx_input(clock), rx_input(clock, quantity=10), other)
    ]
