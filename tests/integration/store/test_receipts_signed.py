"""1305.22(g): the electronic receipt is signed on the token like an order and kept linked."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.receipt import ReceiptLine
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import lifecycle, open_store
from tests.conftest import TEST_PIN, Provisioned
from tests.integration.signing import chain_of
from tests.integration.store.tokens import TestPin, open_identity, openssl_verify
from tests.registrant import record_registrant
from tests.unit.store.helpers import order_input


def test_a_signed_receipt_names_the_order_signature_and_openssl_accepts_both(
    ec_token: Provisioned, test_ca: TestCa, tmp_path: Path
) -> None:
    ts, identity = open_identity(ec_token)
    with ts, open_store(tmp_path / "csos.db") as store:
        record_registrant(store, ec_token)  # the order carries schedule II (1305.05)
        [rec] = svc.import_orders(store, order_input(), source="test")
        oid = rec.order_id
        svc.sign_orders_on_token(
            store,
            [oid],
            SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.ORDER),
            TestPin(),
        )
        [msg] = store.outbox.pending()
        lifecycle.mark_submitted(store, oid, msg.outbox_id, now=datetime.now(UTC))
        lifecycle.record_status(store, oid, OrderState.SHIPPED, now=datetime.now(UTC))
        signer = svc.TokenDocumentSigner(
            SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.RECEIPT)
        )
        receipt, after = svc.record_receipt(
            store, rec.order_number, [ReceiptLine(1, 2, datetime.now(UTC).date())], signer
        )
        assert after.state is OrderState.RECEIVED_PARTIAL
        files = svc.export_order(store, oid, tmp_path / "out")

    names = {f.name for f in files}
    assert names == {
        f"{oid}.json",
        f"{oid}.p7s",
        f"{receipt.receipt_id}.json",
        f"{receipt.receipt_id}.p7s",
        f"{oid}.record.json",
    }
    out = tmp_path / "out"
    for stem in (oid, receipt.receipt_id):
        done = openssl_verify(tmp_path, test_ca, out / f"{stem}.json", out / f"{stem}.p7s")
        assert done.returncode == 0, done.stderr
    doc = json.loads((out / f"{receipt.receipt_id}.json").read_bytes())
    assert doc["schema"] == "csos-receipt/1" and doc["order_id"] == oid
    assert (
        doc["order_signature_sha256"]
        == hashlib.sha256((out / f"{oid}.p7s").read_bytes()).hexdigest()
    )
    assert TEST_PIN not in (out / f"{oid}.record.json").read_text()
