"""A real archive bundle, exported by the product from orders signed on a SoftHSM2 token.

Shared by the archive tests' ``bundle`` fixture and the archive fuzz targets
(tests/fuzz), so both start from exactly what `csos archive export` writes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.receipt import ReceiptLine
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.archive.export import ExportSummary, export_archive
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import lifecycle, open_store
from tests.conftest import Provisioned
from tests.integration.signing import chain_of
from tests.integration.store.tokens import TestPin, open_identity
from tests.registrant import record_registrant
from tests.unit.store.helpers import order_input


def export_sample_bundle(token: Provisioned, ca: TestCa, directory: Path) -> ExportSummary:
    """Three signed orders, one delivered with a signed receipt, exported to a bundle.

    The store is ``directory/csos.db`` and the bundle ``directory/bundle.zip``; its
    manifest is signed on *token* too.
    """
    today = datetime.now(UTC).date()
    ts, identity = open_identity(token)

    def session(purpose: SigningPurpose) -> SigningSession:
        return SigningSession(ts, identity, chain_of(ca), purpose)

    with ts, open_store(directory / "csos.db") as store:
        record_registrant(store, token)  # the orders carry schedule II (1305.05)
        recs = [svc.import_orders(store, order_input(), source="test")[0] for _ in range(3)]
        svc.sign_orders_on_token(
            store, [r.order_id for r in recs], session(SigningPurpose.ORDER), TestPin()
        )
        oid = recs[0].order_id
        msg = next(m for m in store.outbox.pending() if m.record_id == oid)
        lifecycle.mark_submitted(store, oid, msg.outbox_id, now=datetime.now(UTC))
        lifecycle.record_status(store, oid, OrderState.SHIPPED, now=datetime.now(UTC))
        svc.record_receipt(
            store,
            oid,
            [ReceiptLine(1, 2, today)],
            svc.TokenDocumentSigner(session(SigningPurpose.RECEIPT)),
        )
        signer = svc.TokenDocumentSigner(session(SigningPurpose.ARCHIVE_MANIFEST))
        return export_archive(store, today, today, directory / "bundle.zip", signer=signer)
