"""The reference distributor answers in X12 too: a signed 855 and an 856 per ship date,
taken in by the sync worker, linked to the order once however often it polls."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from csos_desktop.domain.x12.order850 import build_850
from csos_desktop.domain.x12.replies import AckStatus, OrderAck, ShipNotice, read_reply
from csos_desktop.pki.cms_attached import detach, is_attached
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders.x12_intake import prefill_from_856
from csos_desktop.store.audit import AuditEvent
from tests.conftest import Provisioned
from tests.integration.distributor.conftest import StartSandbox, ca_crls, sign_document
from tests.integration.distributor.test_signed_statements import SANDBOX_DEA, _ship_and_void
from tests.integration.signing import sample_order


def test_a_signed_855_and_the_856s_come_back_linked_and_kept_once(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa
) -> None:
    store, oid, _ = _ship_and_void(start_sandbox, tmp_path, test_ca)
    kept = store.x12.for_order(oid)
    assert [k.problem for k in kept] == [None] * len(kept)
    kinds = [k.transaction_set for k in kept]
    assert kinds.count("855") == 1 and kinds.count("856") >= 1  # three polls, kept once
    ack_bytes = next(k.document for k in kept if k.transaction_set == "855")
    assert is_attached(ack_bytes)  # signed by the distributor, like its statements
    env, ack = read_reply(detach(ack_bytes)[0])
    assert env.sender == SANDBOX_DEA
    assert isinstance(ack, OrderAck) and ack.status is AckStatus.ACCEPTED and ack.order_id == oid
    notices = [read_reply(k.document)[1] for k in kept if k.transaction_set == "856"]
    assert all(isinstance(n, ShipNotice) and n.order_id == oid for n in notices)
    shipped = sum(
        ln.quantity_shipped for n in notices if isinstance(n, ShipNotice) for ln in n.lines
    )
    assert (
        shipped > 0 and sum(ln.quantity_received for ln in prefill_from_856(store, oid)) == shipped
    )
    logged = [
        e for e in store.audit.entries(order_id=oid) if e.event == AuditEvent.X12_RECEIVED.value
    ]
    assert len(logged) == len(kept)
    store.close()


def test_the_distributor_takes_a_signed_850_and_answers_with_its_855(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    now = datetime.now(UTC)
    order = sample_order(now).with_date_signed(now.date())
    interchange = build_850(order, control_number=3, prepared_at=now)
    signature = sign_document(rsa_token, sandbox.ca, interchange)
    with sandbox.client() as client:
        record = client.submit_order(order.order_id, interchange, signature)
        assert record.status == "accepted", record.reasons
        assert [ln.quantity_ordered for ln in record.lines] == [2, 1, 3]
        assert client.submit_order(order.order_id, interchange, signature).replayed
        changed = interchange.replace(b"Main Street Pharmacy", b"Main Street Pharmacz")
        other = sample_order(now).with_date_signed(now.date())
        refused = client.submit_order(other.order_id, changed.replace(
            order.order_id.encode(), other.order_id.encode()), signature)  # fmt: skip
        assert refused.status == "rejected" and "digest-mismatch" in {
            r.code for r in refused.reasons
        }
        [ack] = [read_reply(detach(b)[0])[1] for b in record.x12[:1]]
    assert isinstance(ack, OrderAck) and ack.status is AckStatus.ACCEPTED


def test_a_signed_855_whose_signers_revocation_cannot_be_established_is_kept_with_the_problem(
    start_sandbox: StartSandbox, tmp_path: Path, test_ca: TestCa
) -> None:
    """Like the statements: with the CA's CRL not to be had, the 855 is kept, byte for byte,
    with the problem, not linked as the distributor's word (before: linked, no problem)."""
    revocation = ca_crls(test_ca, tmp_path / "crl", issuing=False)
    store, oid, _ = _ship_and_void(start_sandbox, tmp_path, test_ca, revocation=revocation)
    with store:
        logged = [
            e.details
            for e in store.audit.entries()
            if e.event == AuditEvent.X12_RECEIVED.value and e.details["transaction_set"] == "855"
        ]
        acks = [store.x12.get(int(str(d["control_number"]))) for d in logged]
        linked = [k for k in store.x12.for_order(oid) if k.transaction_set == "855"]
    assert acks and all(k.problem and "revocation-unknown" in k.problem for k in acks)
    assert all(is_attached(k.document) and k.order_id is None for k in acks)
    assert not linked
