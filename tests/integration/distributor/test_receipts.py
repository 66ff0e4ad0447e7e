"""Signed receipts (1305.22(g)): only for shipped orders of that customer, signature checked."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from csos_desktop.domain.canonical import load_document
from csos_desktop.domain.order import Order
from csos_desktop.domain.receipt import ReceiptLine, build_receipt
from csos_desktop.sandbox.distributor.fulfilment import FulfilmentMode
from csos_desktop.sync.client import DistributorClient
from csos_desktop.sync.errors import DistributorRefused
from tests.conftest import Provisioned
from tests.integration.distributor.conftest import Sandbox, StartSandbox, sign_document, signed
from tests.integration.signing import issue_for_token


def _receipt(document: bytes, signature: bytes, quantities: dict[int, int]) -> bytes:
    order = Order.from_document(load_document(document))
    today = datetime.now(UTC).date()
    receipt = build_receipt(
        order,
        hashlib.sha256(signature).hexdigest(),
        [ReceiptLine(n, q, today) for n, q in quantities.items()],
        earlier=[],
        now=datetime.now(UTC),
        receipt_id=str(uuid.uuid4()),
    )
    return receipt.canonical_bytes()


def _shipped(
    sandbox: Sandbox, client: DistributorClient, prov: Provisioned
) -> tuple[bytes, bytes, str]:
    document, signature, key = signed(prov, sandbox.ca)
    client.submit_order(key, document, signature)
    sandbox.running.distributor.fulfil()
    return document, signature, key


def _rid(receipt: bytes) -> str:
    return str(load_document(receipt)["receipt_id"])


def test_receipt_for_a_shipped_order_is_accepted_once(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    with sandbox.client() as client:
        document, signature, key = _shipped(sandbox, client, rsa_token)
        receipt = _receipt(document, signature, {1: 2, 2: 1, 3: 3})
        receipt_sig = sign_document(rsa_token, sandbox.ca, receipt)
        first = client.submit_receipt(_rid(receipt), receipt, receipt_sig)
        again = client.submit_receipt(_rid(receipt), receipt, receipt_sig)
        assert client.order(key).receipts == (first.receipt_id,)
    assert first.order_id == key and not first.replayed and again.replayed
    assert first.document_sha256 == hashlib.sha256(receipt).hexdigest()


def test_receipt_for_an_order_not_shipped_is_refused(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox(mode=FulfilmentMode.BACKORDER)
    with sandbox.client() as client:
        document, signature, _ = _shipped(sandbox, client, rsa_token)
        receipt = _receipt(document, signature, {1: 1})
        with pytest.raises(DistributorRefused) as caught:
            client.submit_receipt(
                _rid(receipt), receipt, sign_document(rsa_token, sandbox.ca, receipt)
            )
    assert (caught.value.status, caught.value.problem.code) == (409, "order-not-shipped")


def test_receiving_more_than_was_shipped_is_refused(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox(mode=FulfilmentMode.PARTIAL)
    with sandbox.client() as client:
        document, signature, _ = _shipped(sandbox, client, rsa_token)
        receipt = _receipt(document, signature, {1: 2})  # one of two containers shipped
        with pytest.raises(DistributorRefused) as caught:
            client.submit_receipt(
                _rid(receipt), receipt, sign_document(rsa_token, sandbox.ca, receipt)
            )
    assert caught.value.problem.code == "over-receipt"


def test_tampered_receipt_is_refused_with_digest_mismatch(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    with sandbox.client() as client:
        document, signature, _ = _shipped(sandbox, client, rsa_token)
        receipt = _receipt(document, signature, {1: 1})
        receipt_sig = sign_document(rsa_token, sandbox.ca, receipt)
        tampered = receipt.replace(b'"quantity_received":1', b'"quantity_received":2')
        with pytest.raises(DistributorRefused) as caught:
            client.submit_receipt(_rid(receipt), tampered, receipt_sig)
    assert caught.value.problem.code == "receipt-signature-invalid"
    codes = [r["code"] for r in caught.value.problem.extensions["reasons"]]
    assert codes == ["digest-mismatch"]


def test_receipt_for_another_customers_order_is_not_found(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    sandbox = start_sandbox()
    with sandbox.client() as client:
        document, signature, _ = _shipped(sandbox, client, rsa_token)
    receipt = _receipt(document, signature, {1: 1})
    receipt_sig = sign_document(rsa_token, sandbox.ca, receipt)
    with (
        sandbox.client(token=sandbox.add_customer("BO1234563")) as other,
        pytest.raises(DistributorRefused) as caught,
    ):
        other.submit_receipt(_rid(receipt), receipt, receipt_sig)
    # Signed by AB1234563, sent by BO1234563: the signer is not this customer.
    assert caught.value.problem.code == "receipt-signature-invalid"
    assert [r["code"] for r in caught.value.problem.extensions["reasons"]] == [
        "dea-number-mismatch"
    ]


def test_a_customer_cannot_record_a_receipt_for_another_customers_order(
    start_sandbox: StartSandbox, rsa_token: Provisioned
) -> None:
    """The receipt is validly signed by the sending customer (its own DEA number and
    certificate), so only the distributor's customer filter stands between it and
    another customer's order."""
    sandbox = start_sandbox()
    with sandbox.client() as client:
        document, signature, key = _shipped(sandbox, client, rsa_token)
        receipt = _receipt(document, signature, {1: 1})
        other_cert = issue_for_token(sandbox.ca, rsa_token, dea="BO1234563")
        receipt_sig = sign_document(
            rsa_token, sandbox.ca, receipt, other_cert.public_bytes(Encoding.DER)
        )
        with (
            sandbox.client(token=sandbox.add_customer("BO1234563")) as other,
            pytest.raises(DistributorRefused) as caught,
        ):
            other.submit_receipt(_rid(receipt), receipt, receipt_sig)
        assert client.order(key).receipts == ()  # nothing was recorded against the order
    assert (caught.value.status, caught.value.problem.code) == (404, "not-found")
