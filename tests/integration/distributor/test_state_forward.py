"""A status from the distributor never takes an order back: a receipt the pharmacist recorded
stands, and the distributor's word is kept beside it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.receipt import ReceiptLine
from csos_desktop.sandbox.distributor.fulfilment import FulfilmentMode
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.signing import SigningPurpose
from csos_desktop.store import Store, open_store
from csos_desktop.store.audit import AuditEvent
from tests.conftest import Provisioned
from tests.integration.distributor.conftest import StartSandbox
from tests.integration.distributor.test_sync_worker import Pharmacist, signed_orders, worker

S = OrderState


def _receive(store: Store, pharmacist: Pharmacist, oid: str, lines: list[ReceiptLine]) -> None:
    pharmacist.on_token(
        store,
        SigningPurpose.RECEIPT,
        lambda own, session: svc.record_receipt(own, oid, lines, svc.TokenDocumentSigner(session)),
        login=True,
    )


def test_a_shipped_status_after_a_partial_receipt_keeps_the_order_received_partial(
    start_sandbox: StartSandbox, tmp_path: Path, ec_token: Provisioned
) -> None:
    pharmacist = Pharmacist(ec_token)
    sandbox = start_sandbox(mode=FulfilmentMode.PARTIAL)
    with open_store(tmp_path / "csos.db") as store, sandbox.client() as client:
        [oid] = signed_orders(store, pharmacist, 1)
        sync = worker(store, client, tmp_path)
        sync.run_once()
        sandbox.running.distributor.fulfil()  # half of each line
        sync.run_once()
        assert store.orders.get(oid).state is S.SHIPPED_PARTIAL
        today = datetime.now(UTC).date()
        _receive(store, pharmacist, oid, [ReceiptLine(1, 1, today), ReceiptLine(3, 1, today)])
        assert store.orders.get(oid).state is S.RECEIVED_PARTIAL

        sandbox.running.distributor.fulfil()  # the balance ships: the distributor says shipped
        report = sync.run_once()
        after = store.orders.get(oid)
        assert after.state is S.RECEIVED_PARTIAL, "a receipt was undone by a distributor status"
        assert store.orders.distributor_status(oid) == "shipped"
        assert (oid, "shipped") not in report.updated
        kept = [
            e.details
            for e in store.audit.entries()
            if e.event == AuditEvent.ORDER_STATUS and e.details.get("distributor_status")
        ]
        assert kept[-1]["from"] == kept[-1]["to"] == "received-partial"
        # Another pass changes nothing more: the report is already kept.
        entries = len(list(store.audit.entries()))
        sync.run_once()
        assert len(list(store.audit.entries())) == entries

        # The rest arrives and is recorded: the order is received in full.
        _receive(
            store,
            pharmacist,
            oid,
            [ReceiptLine(1, 1, today), ReceiptLine(2, 1, today), ReceiptLine(3, 2, today)],
        )
        assert store.orders.get(oid).state is S.RECEIVED
