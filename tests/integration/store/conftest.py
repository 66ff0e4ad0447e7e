"""Store integration fixtures: a real archive bundle exported from orders signed on the token."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.receipt import ReceiptLine
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.archive.export import export_archive
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import lifecycle, open_store
from tests.conftest import Provisioned
from tests.integration.signing import chain_of
from tests.integration.store.tokens import TestPin, open_identity
from tests.unit.store.helpers import order_input

TODAY = datetime.now(UTC).date()


@pytest.fixture()
def bundle(ec_token: Provisioned, test_ca: TestCa, tmp_path: Path) -> Path:
    """Three signed orders, one delivered with a signed receipt, exported to a bundle."""
    ts, identity = open_identity(ec_token)
    with ts, open_store(tmp_path / "csos.db") as store:
        recs = [svc.import_orders(store, order_input(), source="test")[0] for _ in range(3)]
        svc.sign_orders_on_token(
            store,
            [r.order_id for r in recs],
            SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.ORDER),
            TestPin(),
        )
        oid = recs[0].order_id
        msg = next(m for m in store.outbox.pending() if m.record_id == oid)
        lifecycle.mark_submitted(store, oid, msg.outbox_id, now=datetime.now(UTC))
        lifecycle.record_status(store, oid, OrderState.SHIPPED, now=datetime.now(UTC))
        svc.record_receipt(
            store,
            oid,
            [ReceiptLine(1, 2, TODAY)],
            svc.TokenDocumentSigner(
                SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.RECEIPT)
            ),
        )
        signer = svc.TokenDocumentSigner(
            SigningSession(ts, identity, chain_of(test_ca), SigningPurpose.ARCHIVE_MANIFEST)
        )
        summary = export_archive(store, TODAY, TODAY, tmp_path / "bundle.zip", signer=signer)
        assert summary.orders == 3
        assert any(e.details.get("archive") for e in store.audit.entries())
    return summary.path
