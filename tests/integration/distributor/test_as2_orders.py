"""End to end on 127.0.0.1: a signed 850 over AS2 (signed, encrypted, over TLS) to the
reference distributor, its signed MDN verified, the order taken once and answered."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.exc import NoResultFound

from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.x12.order850 import build_850
from csos_desktop.domain.x12.replies import AckStatus, OrderAck, read_reply
from csos_desktop.pki.as2_message import As2Error, As2Problem
from csos_desktop.pki.cms_attached import attach, detach
from csos_desktop.sandbox.distributor.as2_endpoint import As2Endpoint, As2Partner
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import open_store
from csos_desktop.sync.as2 import As2Connection, send_as2
from csos_desktop.sync.worker import CursorFile, SyncWorker
from tests.conftest import Provisioned
from tests.integration.distributor.conftest import Sandbox, StartSandbox, sign_document
from tests.integration.distributor.test_orders import _stored
from tests.integration.signing import chain_of, sample_order
from tests.integration.store.tokens import TestPin, open_identity
from tests.integration.test_as2 import DISTRIBUTOR, PHARMACY, STRANGER
from tests.registrant import record_registrant
from tests.unit.store.helpers import order_input


def with_as2(sandbox: Sandbox) -> As2Connection:
    partner = As2Partner(sandbox.customer, PHARMACY.certificate)
    sandbox.running.distributor.as2 = As2Endpoint(DISTRIBUTOR, "DISTRIBUTOR", {"PHARMACY": partner})
    return As2Connection(
        f"{sandbox.url}/as2",
        "PHARMACY",
        "DISTRIBUTOR",
        PHARMACY,
        DISTRIBUTOR.certificate,
        encrypt=True,
        ca_bundle=sandbox.running.tls.ca_bundle,
    )


def test_a_signed_850_over_as2_is_taken_once_and_answered(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    conn = with_as2(sandbox)
    now = datetime.now(UTC)
    order = sample_order(now).with_date_signed(now.date())
    interchange = build_850(order, control_number=8, prepared_at=now)
    p7m = attach(sign_document(rsa_token, sandbox.ca, interchange), interchange)
    message_id = f"<{order.order_id}@csos>"  # one per order: a retry carries the same
    first = send_as2(conn, p7m, message_id=message_id, now=now)
    again = send_as2(conn, p7m, message_id=message_id, now=now)
    assert first.processed and again.processed
    document, signature, n = _stored(sandbox.running.distributor.engine, order.order_id)
    assert (document, n) == (interchange, 1)  # kept as signed, exactly once
    assert attach(signature, document) == p7m
    with sandbox.client() as client:
        record = client.order(order.order_id)
    assert record.status == "accepted", record.reasons
    ack = read_reply(detach(record.x12[0])[0])[1]
    assert isinstance(ack, OrderAck) and ack.status is AckStatus.ACCEPTED


def test_an_as2_message_from_another_key_is_refused_and_no_order_taken(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    conn = with_as2(sandbox)
    forged = As2Connection(
        conn.url, "PHARMACY", "DISTRIBUTOR", STRANGER, DISTRIBUTOR.certificate,
        ca_bundle=conn.ca_bundle,
    )  # fmt: skip
    now = datetime.now(UTC)
    order = sample_order(now).with_date_signed(now.date())
    interchange = build_850(order, control_number=9, prepared_at=now)
    p7m = attach(sign_document(rsa_token, sandbox.ca, interchange), interchange)
    with pytest.raises(As2Error) as e:
        send_as2(forged, p7m, message_id="<forged@csos>", now=now)
    assert e.value.problem is As2Problem.MDN_FAILED and "as2-signature" in str(e.value)
    with pytest.raises(NoResultFound):  # no order was taken
        _stored(sandbox.running.distributor.engine, order.order_id)


def test_the_sync_worker_sends_orders_signed_as_x12_over_as2_once_each(
    start_sandbox: StartSandbox, rsa_token: Provisioned, tmp_path: Path
) -> None:
    sandbox = start_sandbox()
    conn = with_as2(sandbox)
    with open_store(tmp_path / "csos.db") as store, sandbox.client() as client:
        record_registrant(store, rsa_token)  # the orders carry schedule II (1305.05)
        ids = [r.order_id for r in svc.import_orders(store, [order_input()] * 2, source="t")]
        ts, identity = open_identity(rsa_token)
        session = SigningSession(ts, identity, chain_of(sandbox.ca), SigningPurpose.ORDER)
        try:
            assert (
                len(svc.sign_orders_on_token(store, ids, session, TestPin(), x12=True).signed) == 2
            )
        finally:
            ts.close()
        cursor = CursorFile(tmp_path / "cursor.json", "s")
        first = SyncWorker(store, client, cursor, as2=conn).run_once()
        second = SyncWorker(store, client, cursor, as2=conn).run_once()
        assert sorted(first.sent) == sorted(ids) and second.sent == [] and first.stopped is None
        for oid in ids:
            assert store.orders.get(oid).state is OrderState.ACCEPTED
            kept = store.x12.signed_850(oid)
            assert kept is not None
            document, _, n = _stored(sandbox.running.distributor.engine, oid)
            assert (document, n) == (kept.document, 1)  # the 850 as signed, once
            mdns = [k for k in store.x12.for_order(oid) if k.transaction_set == "AS2-MDN"]
            assert len(mdns) == 1 and b"processed" in mdns[0].document
