"""The one signing entry point on a real token: the pre_pin_checks stage runs before any PIN.

A check added to the stage is honoured by every path that signs: here the order
batch (the service the CLI and the GUI both call) and the receipt.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.errors import ItemRefused, SessionRefused
from csos_desktop.domain.order import Order
from csos_desktop.domain.order_state import OrderState
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.signing import (
    PrePinChecks,
    SigningFacts,
    SigningPurpose,
    SigningSession,
    TokenTarget,
    default_checks,
    signing_session,
)
from csos_desktop.store import Store, open_store
from csos_desktop.token.identity import CertificateNotUsable
from tests.conftest import Provisioned
from tests.integration.signing import chain_of
from tests.integration.store.tokens import TestPin, open_identity, openssl_verify
from tests.registrant import record_registrant
from tests.unit.store.helpers import Clock, order_input


class SoftwareTokenRefused(SessionRefused):
    """Stands for a check another developer adds (e.g. no software tokens)."""


class TooManyPackages(ItemRefused):
    """Stands for an item check (e.g. an order needing a SOM justification)."""


def refuse_every_token(facts: SigningFacts) -> None:
    raise SoftwareTokenRefused(f"Token {facts.token.label if facts.token else '?'} refused.")


def refuse_big_orders(facts: SigningFacts, item: object) -> None:
    if isinstance(item, Order) and item.total_packages > 2:
        raise TooManyPackages("More than 2 packages need a justification first.")


@pytest.fixture()
def store(tmp_path: Path, rsa_token: Provisioned) -> Iterator[Store]:
    with open_store(tmp_path / "csos.db") as s:
        record_registrant(s, rsa_token)  # the sample orders carry schedule II (1305.05)
        yield s


def _session(
    prov: Provisioned, ca: TestCa, checks: PrePinChecks | None = None, clock: Clock | None = None
) -> SigningSession:
    ts, identity = open_identity(prov)
    return SigningSession(
        ts, identity, chain_of(ca), SigningPurpose.ORDER, checks=checks, clock=clock or Clock()
    )


def test_a_session_check_refuses_the_whole_batch_before_the_pin(
    store: Store, rsa_token: Provisioned, test_ca: TestCa
) -> None:
    ids = [r.order_id for r in svc.import_orders(store, [order_input()] * 2, source="test")]
    session = _session(rsa_token, test_ca, default_checks().extended(session=(refuse_every_token,)))
    pin = TestPin()
    with session.ts, pytest.raises(SoftwareTokenRefused, match="refused"):
        svc.sign_orders_on_token(store, ids, session, pin)
    assert pin.asked == 0
    assert {store.orders.get(i).state for i in ids} == {OrderState.DRAFT}


def test_an_item_check_skips_that_order_and_the_batch_goes_on(
    store: Store, rsa_token: Provisioned, test_ca: TestCa
) -> None:
    small, big = order_input(), order_input()
    small["lines"] = small["lines"][:1]
    small["lines"][0]["quantity"] = 1
    big["lines"][0]["quantity"] = 5
    [small_id, big_id] = [r.order_id for r in svc.import_orders(store, [small, big], source="test")]
    session = _session(rsa_token, test_ca, default_checks().extended(items=(refuse_big_orders,)))
    pin = TestPin()
    with session.ts:
        result = svc.sign_orders_on_token(store, [small_id, big_id], session, pin)
    assert pin.asked == 1
    assert [r.order_id for r in result.signed] == [small_id]
    [refused] = result.unsigned
    assert refused.order_id == big_id and refused.code == "TooManyPackages"
    assert "justification" in refused.reason
    assert store.orders.get(big_id).state is OrderState.DRAFT


def test_an_expired_certificate_is_refused_before_the_pin_but_renewal_is_not(
    rsa_token: Provisioned, test_ca: TestCa
) -> None:
    clock = Clock()
    clock.advance(days=3650)  # long past the certificate's notAfter
    session = _session(rsa_token, test_ca, clock=clock)
    pin = TestPin()
    for purpose in (SigningPurpose.RECEIPT, SigningPurpose.GRANT_APPROVAL):
        session.purpose = purpose
        with pytest.raises(CertificateNotUsable, match="expired"):
            session.log_in(pin)
    assert pin.asked == 0
    # Renewal and revocation requests are exempt: the holder may always ask for those.
    session.purpose = SigningPurpose.CERTIFICATE
    session.check_session()
    session.ts.close()


def test_signing_session_finds_the_identity_and_chain_and_openssl_verifies(
    rsa_token: Provisioned, test_ca: TestCa, tmp_path: Path
) -> None:
    """Through the driver, as the CLI and GUI open it; the chain comes from --chain."""
    chain_pem = tmp_path / "chain.pem"
    chain_pem.write_bytes(
        test_ca.issuing_certificate.public_bytes(Encoding.PEM)
        + test_ca.root_certificate.public_bytes(Encoding.PEM)
    )
    target = TokenTarget(str(rsa_token.hsm.module), rsa_token.label, chain_file=chain_pem)
    with signing_session(target, SigningPurpose.ORDER) as session:
        assert session.identity.certificate_der == rsa_token.certificate_der
        assert len(session.chain) == 2
        assert session.token_info().label == rsa_token.label
        session.log_in(TestPin())
        signature = session.sign(b'{"hello":"world"}')
    (tmp_path / "doc.json").write_bytes(b'{"hello":"world"}')
    (tmp_path / "doc.p7s").write_bytes(signature)
    done = openssl_verify(tmp_path, test_ca, tmp_path / "doc.json", tmp_path / "doc.p7s")
    assert done.returncode == 0, done.stderr
