"""Receiving pre-fills the packages from the distributor's 856; without one, all still due."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pytestqt.qtbot import QtBot

from csos_desktop.domain.x12.replies import ShipNotice, ShippedLine, build_reply
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.services.orders.x12_intake import receive_x12
from csos_desktop.store import open_store
from tests.conftest import PURCHASER_DEA, Provisioned
from tests.gui.test_receiving import screen_for, shipped_order
from tests.unit.domain.samples import SUPPLIER_DEA


def test_the_856_quantities_are_pre_filled_for_the_pharmacist_to_check(
    qtbot: QtBot, store_path: Path, rsa_token: Provisioned, token_worker: TokenWorker
) -> None:
    with open_store(store_path) as store:
        oid = shipped_order(qtbot, token_worker, store, rsa_token)
        order = store.orders.order(oid)
        today = datetime.now(UTC).date()
        notice = ShipNotice(
            "SHP-9", oid, order.order_number, datetime.now(UTC),
            (ShippedLine(1, order.lines[0].ndc, 1, today),),
        )  # fmt: skip
        data = build_reply(
            notice,
            sender=SUPPLIER_DEA,
            receiver=PURCHASER_DEA,
            control_number=5,
            prepared_at=datetime.now(UTC),
        )
        assert receive_x12(store, data).order_id == oid
        screen = screen_for(qtbot, store, token_worker)
        screen.select_order(oid)
        lines = screen.receipt_lines()
        assert [(ln.line_no, ln.quantity_received) for ln in lines] == [(1, 1)]
        assert "ship notice (856)" in screen.status.text()
