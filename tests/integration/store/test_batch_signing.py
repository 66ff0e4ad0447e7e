"""Batch signing on a real token: one login, each order kept as soon as it is signed.

DESIGN.md: token removed mid-batch → the batch stops cleanly, orders already
signed stay signed, the rest stay drafts, the user is told which.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.token_errors import PinLocked, TokenRemoved
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.orders.order_signer import OrderSigningSession
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import Store, open_store
from csos_desktop.token.identity import SigningIdentity
from csos_desktop.token.session import TokenSession
from tests.conftest import TEST_PIN, Provisioned
from tests.integration.signing import chain_of
from tests.integration.store.tokens import FailsAtSignature, TestPin, open_identity, openssl_verify
from tests.registrant import record_registrant
from tests.unit.store.helpers import order_input


@pytest.fixture()
def store(tmp_path: Path, rsa_token: Provisioned) -> Iterator[Store]:
    with open_store(tmp_path / "csos.db") as s:
        record_registrant(s, rsa_token)  # the sample orders carry schedule II (1305.05)
        yield s


@pytest.fixture()
def token(rsa_token: Provisioned) -> Iterator[tuple[TokenSession, SigningIdentity]]:
    ts, identity = open_identity(rsa_token)
    with ts:
        yield ts, identity


def drafts(store: Store, n: int) -> list[str]:
    return [
        r.order_id
        for r in svc.import_orders(store, [order_input() for _ in range(n)], source="test")
    ]


def test_a_batch_is_signed_with_one_login_and_exported_byte_for_byte(
    store: Store, token: tuple[TokenSession, SigningIdentity], test_ca: TestCa, tmp_path: Path
) -> None:
    ts, identity = token
    ids = drafts(store, 3)
    pin = TestPin()
    result = svc.sign_orders_on_token(
        store, ids, SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.ORDER), pin
    )
    assert pin.asked == 1
    assert [r.order_id for r in result.signed] == ids and result.unsigned == ()
    out = tmp_path / "inspector"
    svc.export_order(store, ids[0], out)
    doc, sig = out / f"{ids[0]}.json", out / f"{ids[0]}.p7s"
    blob = store.signed.get(ids[0])
    assert doc.read_bytes() == blob.document and sig.read_bytes() == blob.signature
    done = openssl_verify(tmp_path, test_ca, doc, sig)
    assert done.returncode == 0, done.stderr


def test_bytes_read_back_are_exactly_the_bytes_the_token_signed(
    store: Store, token: tuple[TokenSession, SigningIdentity], test_ca: TestCa
) -> None:
    ts, identity = token
    ids = drafts(store, 2)
    ts.login(TEST_PIN)
    spy = FailsAtSignature(
        OrderSigningSession(SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.ORDER)),
        0,
        lambda: None,
    )
    svc.sign_orders(store, ids, spy)
    for oid, produced in zip(ids, spy.produced, strict=True):
        blob = store.signed.get(oid)
        assert (blob.document, blob.signature) == (produced.document, produced.signature)


def _raise(exc: Exception) -> Callable[[], None]:
    def event() -> None:
        raise exc

    return event


INTERRUPTIONS: dict[str, tuple[Callable[[TokenSession], Callable[[], None]], str]] = {
    "token pulled": (lambda ts: _raise(TokenRemoved("CKR_DEVICE_REMOVED")), "TokenRemoved"),
    "PIN locked": (lambda ts: _raise(PinLocked("csos-rsa")), "PinLocked"),
    # Real failures: the PKCS#11 session vanishes under the signer, C_Sign fails and our
    # token layer maps it; or our own session is closed (as after the idle limit).
    "PKCS#11 session lost": (lambda ts: ts.session.close, "TokenRemoved"),
    "session closed": (lambda ts: ts.close, "LoginExpired"),
}


@pytest.mark.parametrize("what", list(INTERRUPTIONS))
def test_an_interrupted_batch_keeps_the_signed_orders_and_leaves_the_rest_as_drafts(
    store: Store, token: tuple[TokenSession, SigningIdentity], test_ca: TestCa, what: str
) -> None:
    ts, identity = token
    make_event, code = INTERRUPTIONS[what]
    ids = drafts(store, 5)
    ts.login(TEST_PIN)
    signer = FailsAtSignature(
        OrderSigningSession(SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.ORDER)),
        3,
        make_event(ts),
    )
    result = svc.sign_orders(store, ids, signer)

    assert [r.order_id for r in result.signed] == ids[:2]
    assert [u.order_id for u in result.unsigned] == ids[2:]
    assert {u.code for u in result.unsigned} == {code}
    assert result.stopped is not None
    for oid in ids[:2]:
        assert store.orders.get(oid).state is OrderState.SIGNED
        assert store.signed.get(oid).intact()
    for oid in ids[2:]:
        assert store.orders.get(oid).state is OrderState.DRAFT
        assert store.signed.find(oid) is None
    assert {m.record_id for m in store.outbox.pending()} == set(ids[:2])
    stop = [e for e in store.audit.entries() if e.event == "signing.stopped"]
    assert stop[0].details == {
        "stage": "signing",
        "reason": code,
        "signed": 2,
        "left_unsigned": ids[2:],
    }
    assert store.audit.verify().intact


def test_orders_the_certificate_cannot_sign_are_refused_before_the_pin(
    store: Store, token: tuple[TokenSession, SigningIdentity], test_ca: TestCa
) -> None:
    ts, identity = token
    [theirs] = drafts(store, 1)
    other = order_input(dea="BC2345672")
    [mine] = [r.order_id for r in svc.import_orders(store, other, source="test")]
    pin = TestPin()
    result = svc.sign_orders_on_token(
        store, [mine], SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.ORDER), pin
    )
    assert pin.asked == 0 and result.signed == ()
    assert result.unsigned[0].code == "OrderNotSignable"
    assert "BC2345672" in result.unsigned[0].reason
    assert store.orders.get(theirs).state is OrderState.DRAFT


def test_the_pin_is_never_stored(
    store: Store, token: tuple[TokenSession, SigningIdentity], test_ca: TestCa
) -> None:
    ts, identity = token
    svc.sign_orders_on_token(
        store,
        drafts(store, 2),
        SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.ORDER),
        TestPin(),
    )
    store.conn.execute("PRAGMA wal_checkpoint(FULL)")
    for f in store.path.parent.glob("csos.db*"):
        assert TEST_PIN.encode() not in f.read_bytes(), f
    assert all(TEST_PIN not in str(e.to_json()) for e in store.audit.entries())
