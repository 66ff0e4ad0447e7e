"""The legal workflow in the GUI: SOM justification and the POA rule in the signing dialog."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from csos_desktop.domain.balance import Reported
from csos_desktop.domain.order_state import OrderState
from csos_desktop.gui.dialogs.signing import Phase, SigningDialog
from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.gui.jobs.signing import OrderBatch, TokenTarget
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.screens.orders import OrdersScreen
from csos_desktop.gui.screens.poa import PoaScreen
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import legal, open_store
from csos_desktop.store.audit import AuditEvent
from tests.conftest import PURCHASER_DEA, TEST_PIN, Provisioned
from tests.gui.test_receiving import shipped_order
from tests.registrant import record_registrant
from tests.unit.store.helpers import brand_order_input, flagged_order_input, order_input


def test_a_flagged_imported_draft_is_refused_without_justification_and_signed_with_one(
    qtbot: QtBot, store_path: Path, token_worker: TokenWorker, target: TokenTarget
) -> None:
    with open_store(store_path) as store:
        [rec] = svc.import_orders(store, flagged_order_input(), source="file:import.json")
    job = OrderBatch(store_path, [rec.order_id], target)
    dialog = SigningDialog(job, token_worker)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.phase is Phase.BLOCKED, timeout=10_000)
    assert dialog.justifications.isVisible()
    flags = [label.text() for label in dialog.justifications.flag_labels[rec.order_id]]
    assert flags and all(f.startswith("[warn]") for f in flags)

    why = "two new hospice patients admitted this week"
    qtbot.keyClicks(dialog.justifications.fields[rec.order_id], why)
    dialog.justify_button.click()
    qtbot.waitUntil(lambda: dialog.phase is Phase.READY, timeout=10_000)
    assert "accepted" in dialog.justifications.verdicts[rec.order_id].text()
    qtbot.keyClicks(dialog.pin, TEST_PIN)
    dialog.sign_button.click()
    qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=10_000)
    with open_store(store_path) as store:
        assert store.orders.get(rec.order_id).state is OrderState.SIGNED
        trail = list(store.audit.entries(order_id=rec.order_id))
    [ack] = [e for e in trail if e.event == AuditEvent.SOM_WARNING_ACKNOWLEDGED]
    assert ack.details["justification"] == why
    events = [e.event for e in trail]
    assert events.index("som.warning-acknowledged") < events.index("order.signed")


def test_a_signer_without_power_of_attorney_is_refused_before_the_pin(
    qtbot: QtBot,
    store_path: Path,
    token_worker: TokenWorker,
    target: TokenTarget,
    ec_token: Provisioned,
) -> None:
    with open_store(store_path) as store:
        # The registrant is now the other token's holder; this token's certificate has no POA.
        record_registrant(store, ec_token, name="Pat Successor")
        [rec] = svc.import_orders(store, order_input(), source="test")
    dialog = SigningDialog(OrderBatch(store_path, [rec.order_id], target), token_worker)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.phase is Phase.BLOCKED, timeout=10_000)
    assert "neither the registrant" in dialog.status.text()
    assert not dialog.pin.isEnabled()
    with open_store(store_path) as store:
        assert store.orders.get(rec.order_id).state is OrderState.DRAFT


def _sign(qtbot: QtBot, dialog: SigningDialog | None) -> SigningDialog:
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.phase is Phase.READY, timeout=10_000)
    qtbot.keyClicks(dialog.pin, TEST_PIN)
    dialog.sign_button.click()
    qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=10_000)
    assert dialog.outcome is not None and not dialog.outcome.unsigned, dialog.outcome
    return dialog


def _launcher(qtbot: QtBot, worker: TokenWorker) -> SigningLauncher:
    qtbot.waitUntil(
        lambda: worker.last_status is not None and worker.last_status.present, timeout=5000
    )
    return SigningLauncher(worker)


def test_the_registrant_grants_and_revokes_a_power_of_attorney_in_the_gui(
    qtbot: QtBot,
    token_worker: TokenWorker,
    ec_token: Provisioned,
    tmp_path: Path,
) -> None:
    with open_store(tmp_path / "new.db") as store:  # a pharmacy with no registrant yet
        screen = PoaScreen(store, _launcher(qtbot, token_worker))
        qtbot.addWidget(screen)
        screen.show()
        assert "No registrant recorded" in screen.registrant.text()
        qtbot.keyClicks(screen.registrant_name, "Jane Registrant")
        qtbot.keyClicks(screen.registrant_dea, PURCHASER_DEA)
        screen.registrant_button.click()
        assert screen.confirm_box is not None and "Jane Registrant" in screen.confirm_box.text()
        assert "No registrant recorded" in screen.registrant.text()  # not before confirming
        next(b for b in screen.confirm_box.buttons() if "Record" in b.text()).click()
        qtbot.waitUntil(lambda: "Jane Registrant" in screen.registrant.text(), timeout=10_000)

        cert = tmp_path / "holder.der"
        cert.write_bytes(ec_token.certificate_der)
        qtbot.keyClicks(screen.holder, "Sam Attorney")
        qtbot.keyClicks(screen.holder_cert, str(cert))
        qtbot.keyClicks(screen.address, "120 Main Street, Springfield, IL 62701")
        qtbot.keyClicks(screen.place, "Springfield, IL")
        _sign(qtbot, screen.grant()).close()
        qtbot.waitUntil(lambda: screen.table.rowCount() == 1, timeout=5000)
        assert screen.table.item(0, 2).text() == "PENDING ACCEPTANCE by the attorney"

        assert screen.holder.text() == ""  # the grant form is cleared once signed
        screen.table.selectRow(0)
        qtbot.keyClicks(screen.reason, "left the pharmacy")
        qtbot.keyClicks(screen.revoke_place, "Springfield, IL")
        _sign(qtbot, screen.revoke_selected()).close()
        qtbot.waitUntil(lambda: "within 6 hours" in screen.status.text(), timeout=5000)
        assert "NOT YET" in screen.table.item(0, 3).text()
        screen.table.selectRow(0)
        screen.save_ca_request(tmp_path / "ca.json")
        assert json.loads((tmp_path / "ca.json").read_text())["attorney_name"] == "Sam Attorney"
        screen.notified_button.click()
        assert "NOT YET" not in screen.table.item(0, 3).text()
        events = [e.event for e in store.audit.entries()]
    for event in ("poa.registrant-recorded", "poa.granted", "poa.revoked", "poa.ca-notified"):
        assert event in events


def test_cancel_and_declare_lost_from_the_orders_screen(
    qtbot: QtBot, store_path: Path, token_worker: TokenWorker, rsa_token: Provisioned
) -> None:
    with open_store(store_path) as store:
        first, second = (
            shipped_order(qtbot, token_worker, store, rsa_token, OrderState.ACCEPTED)
            for _ in range(2)
        )
        screen = OrdersScreen(store, None, _launcher(qtbot, token_worker))
        qtbot.addWidget(screen)
        screen.show()

        def select(order_id: str) -> None:
            assert screen.model is not None
            row = next(
                r
                for r in range(screen.model.rowCount())
                if screen.model.record(r).order_id == order_id
            )
            screen.table.selectRow(row)

        select(first)
        form = screen.order_actions.cancel_selected()
        assert form is not None and "open" in form.findChild(QLabel).text()
        qtbot.keyClicks(form.reason, "no longer needed")
        qtbot.keyClicks(form.lines, "2=1")
        form.ok_button.click()
        _sign(qtbot, screen.order_actions.dialog).close()
        [notice] = store.notices.for_order(first)
        assert store.notices.cancellation_lines(notice.notice_id) == {2: 1}
        # The distributor ships one package of line 1 and voids the other (1305.28).
        legal.record_fulfilment(
            store, first, {1: Reported(1, 1)}, source={"event": "voided"}, now=datetime.now(UTC)
        )
        select(second)
        select(first)  # the balance of the one selected order shows below the table
        shown = screen.status.text()
        assert "Line 1: ordered 2, shipped 1, cancelled 0, voided by the supplier 1" in shown
        assert "Line 2: ordered 1, shipped 0, cancelled 1" in shown

        select(second)
        lost = screen.order_actions.lost_selected()
        assert lost is not None
        qtbot.keyClicks(lost.reason, "never arrived at the pharmacy")
        lost.ok_button.click()
        _sign(qtbot, screen.order_actions.dialog).close()
        [replacement] = [r for r in store.orders.list() if r.reissue_of == second]
        assert replacement.state is OrderState.DRAFT
        assert [n.kind.value for n in store.notices.for_order(second)] == ["lost-order"]


def test_a_draft_whose_product_nobody_knows_is_blocked_until_justified(
    qtbot: QtBot, store_path: Path, token_worker: TokenWorker, target: TokenTarget
) -> None:
    with open_store(store_path) as store:
        [rec] = svc.import_orders(store, brand_order_input(), source="file:import.json")
    dialog = SigningDialog(OrderBatch(store_path, [rec.order_id], target), token_worker)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.phase is Phase.BLOCKED, timeout=10_000)
    [flag] = dialog.justifications.flag_labels[rec.order_id]
    assert "not judged: product unknown" in flag.text()
    assert not dialog.pin.isEnabled()
    qtbot.keyClicks(
        dialog.justifications.fields[rec.order_id], "new brand product, confirmed by phone"
    )
    dialog.justify_button.click()
    qtbot.waitUntil(lambda: dialog.phase is Phase.READY, timeout=10_000)
    _sign(qtbot, dialog)
    with open_store(store_path) as store:
        trail = list(store.audit.entries(order_id=rec.order_id))
    [ack] = [e for e in trail if e.event == AuditEvent.SOM_WARNING_ACKNOWLEDGED]
    assert [f["code"] for f in ack.details["flags"]] == ["product-unknown"]


def test_a_schedule_ii_order_before_a_registrant_is_recorded_is_refused_in_the_dialog(
    qtbot: QtBot, token_worker: TokenWorker, target: TokenTarget, tmp_path: Path
) -> None:
    path = tmp_path / "new.db"  # a pharmacy that has not recorded its registrant yet
    with open_store(path) as store:
        [rec] = svc.import_orders(store, order_input(), source="test")
    dialog = SigningDialog(OrderBatch(path, [rec.order_id], target), token_worker)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.phase is Phase.BLOCKED, timeout=10_000)
    shown = dialog.summary.toPlainText()  # the order's refusal, with what to do
    assert "No registrant is recorded" in shown and "csos poa registrant" in shown
    assert not dialog.pin.isEnabled()
    with open_store(path) as store:
        assert store.orders.get(rec.order_id).state is OrderState.DRAFT
