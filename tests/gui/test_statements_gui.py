"""The order's detail line says whether each signed distributor statement verified."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.serialization import Encoding
from pytestqt.qtbot import QtBot

from csos_desktop.domain.canonical import canonical_bytes
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.screens.orders import OrdersScreen
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import open_store
from csos_desktop.store.statements import StatementKind
from csos_desktop.sync.client import SignedStatement
from csos_desktop.sync.statement_intake import StatementTrust, keep_statements
from tests.conftest import Provisioned
from tests.gui.test_legal_gui import _launcher
from tests.gui.test_receiving import shipped_order
from tests.integration.distributor.conftest import ca_crls
from tests.unit.store.helpers import software_identity


def test_the_orders_screen_shows_statements_verified_and_rejected(
    qtbot: QtBot,
    token_worker: TokenWorker,
    rsa_token: Provisioned,
    test_ca: TestCa,
    tmp_path: Path,
) -> None:
    with open_store(tmp_path / "csos.db") as store:
        oid = shipped_order(qtbot, token_worker, store, rsa_token)
        rec, blob = store.orders.get(oid), store.signed.get(oid)
        now = datetime.now(UTC)
        document = canonical_bytes(
            {
                "schema": "csos-statement/1",
                "kind": "shipment",
                "order_id": oid,
                "order_number": rec.order_number,
                "order_document_sha256": hashlib.sha256(blob.document).hexdigest(),
                "order_signature_sha256": hashlib.sha256(blob.signature).hexdigest(),
                "supplier": {"name": rec.supplier_name, "dea_number": rec.supplier_dea},
                "issued_at": now.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                "text": "Shipped.",
                "reasons": [],
                "lines": [],
            }
        )
        _, supplier = software_identity(test_ca, rec.supplier_dea)
        signature = supplier.sign(document, now)
        root = asn1_x509.Certificate.load(test_ca.root_certificate.public_bytes(Encoding.DER))
        kept = keep_statements(
            store,
            oid,
            [
                SignedStatement("shipment", document, signature),
                SignedStatement("shipment", document.replace(b"Shipped.", b"Lost.!!!"), signature),
            ],
            kinds={StatementKind.SHIPMENT},
            trust=StatementTrust([root], ca_crls(test_ca, tmp_path / "crl")),
            now=now,
        )
        assert [o.verified for o in kept] == [True, False]
        screen = OrdersScreen(store, None, _launcher(qtbot, token_worker))
        qtbot.addWidget(screen)
        screen.show()
        assert screen.model is not None
        row = next(
            r for r in range(screen.model.rowCount()) if screen.model.record(r).order_id == oid
        )
        screen.table.selectRow(row)
        shown = screen.status.text()
    assert "shipment statement" in shown and "verified" in shown
    assert "rejected</b>" in shown and "digest differs" in shown
