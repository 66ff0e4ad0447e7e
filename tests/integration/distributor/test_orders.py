"""Submitting real signed orders to a real sandbox distributor over TLS."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from csos_desktop.domain.errors import InputError
from csos_desktop.sandbox.distributor.db import orders, som_reviews
from csos_desktop.sandbox.distributor.som_hook import HistoryItem, SomVerdict
from csos_desktop.sync.errors import DistributorRefused
from tests.conftest import Provisioned
from tests.integration.distributor.conftest import StartSandbox, signed
from tests.integration.signing import issue_for_token


def _stored(sandbox_engine: object, order_id: str) -> tuple[bytes, bytes, int]:
    with sandbox_engine.connect() as conn:  # type: ignore[attr-defined]
        row = conn.execute(
            select(orders.c.document, orders.c.signature).where(orders.c.order_id == order_id)
        ).one()
        n = conn.execute(
            select(func.count()).select_from(orders).where(orders.c.order_id == order_id)
        ).scalar_one()
    return row.document, row.signature, n


def test_valid_order_is_accepted_and_kept_byte_exact(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    document, signature, key = signed(rsa_token, sandbox.ca)
    with sandbox.client() as client:
        record = client.submit_order(key, document, signature)
    assert record.status == "accepted", record.reasons
    assert record.reasons == () and record.statement is None
    assert record.balance_due_by is not None and record.date_signed is not None
    assert (record.balance_due_by - record.date_signed).days == 60
    assert [line.quantity_ordered for line in record.lines] == [2, 1, 3]
    assert _stored(sandbox.running.distributor.engine, record.order_id) == (document, signature, 1)


def test_ec_signed_order_is_accepted(start_sandbox: StartSandbox, ec_token: Provisioned) -> None:
    sandbox = start_sandbox()
    document, signature, key = signed(ec_token, sandbox.ca)
    with sandbox.client() as client:
        assert client.submit_order(key, document, signature).status == "accepted"


def test_duplicate_submission_returns_the_original_result(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    document, signature, key = signed(rsa_token, sandbox.ca)
    with sandbox.client() as client:
        first = client.submit_order(key, document, signature)
        again = client.submit_order(key, document, signature)
    assert not first.replayed and again.replayed
    assert again.status == first.status and again.received_at == first.received_at
    assert _stored(sandbox.running.distributor.engine, key)[2] == 1


def test_same_key_with_other_bytes_is_a_409_problem(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    document, signature, key = signed(rsa_token, sandbox.ca)
    with sandbox.client() as client:
        client.submit_order(key, document, signature)
        with pytest.raises(DistributorRefused) as caught:
            client.submit_order(key, document + b" ", signature)
    assert caught.value.status == 409
    assert caught.value.problem.code == "idempotency-conflict"


def test_order_tampered_in_transit_is_rejected_with_digest_mismatch(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    document, signature, key = signed(rsa_token, sandbox.ca)
    tampered = document.replace(b'"quantity":2', b'"quantity":9')
    assert tampered != document
    with sandbox.client() as client:
        record = client.submit_order(key, tampered, signature)
    assert record.status == "rejected"
    assert "digest-mismatch" in [r.code for r in record.reasons]
    assert record.statement is not None and "1305.25" in record.statement
    assert record.lines == ()
    # The rejected bytes are kept as received, with the statement (1305.25).
    assert _stored(sandbox.running.distributor.engine, record.order_id)[0] == tampered


def test_order_signed_with_a_revoked_certificate_is_rejected(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    cert = issue_for_token(sandbox.ca, rsa_token)
    sandbox.ca.revoke(cert.serial_number, reason="keyCompromise")
    from cryptography.hazmat.primitives.serialization import Encoding

    document, signature, key = signed(
        rsa_token, sandbox.ca, certificate_der=cert.public_bytes(Encoding.DER)
    )
    with sandbox.client() as client:
        record = client.submit_order(key, document, signature)
    assert record.status == "rejected"
    assert [r.code for r in record.reasons] == ["certificate-revoked"]


def test_order_of_another_registrant_is_rejected(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    other_token = sandbox.add_customer("BO1234563")
    document, signature, key = signed(rsa_token, sandbox.ca)
    with sandbox.client(token=other_token) as client:
        record = client.submit_order(key, document, signature)
    assert record.status == "rejected"
    assert [r.code for r in record.reasons] == ["dea-number-mismatch"]


def test_key_must_be_the_order_id(start_sandbox: StartSandbox, rsa_token: Provisioned) -> None:
    sandbox = start_sandbox()
    document, signature, _ = signed(rsa_token, sandbox.ca)
    with sandbox.client() as client, pytest.raises(DistributorRefused) as caught:
        client.submit_order("another-id", document, signature)
    assert caught.value.problem.code == "idempotency-key-mismatch"


def test_unknown_token_is_refused_with_a_401_problem(start_sandbox: StartSandbox) -> None:
    sandbox = start_sandbox()
    with sandbox.client(token="not-a-token") as client, pytest.raises(DistributorRefused) as c:
        client.changes()
    assert c.value.status == 401 and c.value.problem.code == "unauthorized"
    assert "not-a-token" not in str(c.value)


def test_another_customers_order_is_not_found(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    document, signature, key = signed(rsa_token, sandbox.ca)
    with sandbox.client() as client:
        client.submit_order(key, document, signature)
    with (
        sandbox.client(token=sandbox.add_customer("BO1234563")) as other,
        pytest.raises(DistributorRefused) as caught,
    ):
        other.order(key)
    assert caught.value.status == 404


class _InterceptAll:
    name = "test-intercept-all"

    def assess(self, order: object, history: object, *, customer_class: str) -> SomVerdict:
        assert isinstance(history, list) and all(isinstance(h, HistoryItem) for h in history)
        return SomVerdict(self.name, "intercept", "held for review (test policy)")


def test_som_intercept_holds_the_order_until_released(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox(som=_InterceptAll())
    document, signature, key = signed(rsa_token, sandbox.ca)
    distributor = sandbox.running.distributor
    with sandbox.client() as client:
        record = client.submit_order(key, document, signature)
        assert record.status == "intercepted"
        assert record.som is not None and record.som["policy"] == "test-intercept-all"
        distributor.fulfil()
        assert client.order(key).status == "intercepted"  # nothing ships while held
        # 1301.74(b): no release without the reviewer's recorded due diligence.
        with pytest.raises(InputError, match="due-diligence note"):
            distributor.release(key, reviewer="Sam Reviewer", due_diligence="ok")
        distributor.fulfil()
        assert client.order(key).status == "intercepted"
        note = "Called the pharmacist: a new oncology clinic opened next door; invoices seen."
        distributor.release(key, reviewer="Sam Reviewer", due_diligence=note)
        with distributor.engine.connect() as conn:
            [review] = conn.execute(select(som_reviews)).all()
        assert review.order_id == key and review.reviewer == "Sam Reviewer"
        assert review.due_diligence == note and review.decision == "released"
        distributor.fulfil()
        assert client.order(key).status == "shipped"
        assert [c.event for c in client.iter_changes()] == ["received", "released", "shipped"]
