"""The attorney-in-fact accepts a power of attorney on the Power of attorney screen.

The registrant (the session's RSA token, in the app's token thread) grants; the grant is
pending, and the attorney's order is refused in the signing dialog before the PIN. The
registrant's own token cannot accept for them. The attorney, with their own token (the
P-256 one) in the reader, selects the grant, presses Accept (attorney) and signs the
affirmation with their PIN in the signing dialog; then their order signs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from csos_desktop.domain.order_state import OrderState
from csos_desktop.gui.dialogs.signing import Phase, SigningDialog
from csos_desktop.gui.jobs.signing import OrderBatch, TokenTarget
from csos_desktop.gui.jobs.token_thread import TokenThread, TokenWorker
from csos_desktop.gui.screens.poa import PoaScreen
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.store import open_store
from tests.conftest import Provisioned
from tests.gui.test_legal_gui import _launcher, _sign
from tests.unit.store.helpers import order_input


@pytest.fixture()
def attorney_worker(ec_token: Provisioned) -> Iterator[TokenWorker]:
    """The token thread with the attorney's own token (the P-256 one) in the reader."""
    worker = TokenWorker(ec_token.hsm.module, label=ec_token.label)
    thread = TokenThread(worker)
    thread.start()
    yield worker
    thread.stop()


def _blocked(qtbot: QtBot, dialog: SigningDialog | None) -> SigningDialog:
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.phase is Phase.BLOCKED, timeout=10_000)
    assert not dialog.pin.isEnabled()  # refused before the PIN
    return dialog


def test_the_attorney_accepts_on_their_own_token_in_the_gui(
    qtbot: QtBot,
    store_path: Path,
    token_worker: TokenWorker,
    attorney_worker: TokenWorker,
    ec_token: Provisioned,
    tmp_path: Path,
) -> None:
    cert = tmp_path / "holder.der"
    cert.write_bytes(ec_token.certificate_der)
    with open_store(store_path) as store:  # the RSA token's holder is the registrant
        [order] = svc.import_orders(store, order_input(), source="test")
        registrant_screen = PoaScreen(store, _launcher(qtbot, token_worker))
        qtbot.addWidget(registrant_screen)
        registrant_screen.show()
        qtbot.keyClicks(registrant_screen.holder, "Sam Attorney")
        qtbot.keyClicks(registrant_screen.holder_cert, str(cert))
        qtbot.keyClicks(registrant_screen.address, "120 Main Street, Springfield, IL 62701")
        qtbot.keyClicks(registrant_screen.place, "Springfield, IL")
        _sign(qtbot, registrant_screen.grant()).close()
        qtbot.waitUntil(lambda: registrant_screen.table.rowCount() == 1, timeout=5000)
        assert "PENDING ACCEPTANCE" in registrant_screen.table.item(0, 2).text()

        # Pending: the attorney's schedule II order is refused before the PIN.
        attorney = TokenTarget(module=ec_token.hsm.module, label=ec_token.label)
        order_dialog = SigningDialog(
            OrderBatch(store_path, [order.order_id], attorney), attorney_worker
        )
        qtbot.addWidget(order_dialog)
        order_dialog.show()
        _blocked(qtbot, order_dialog)
        assert "must accept it first" in order_dialog.status.text()
        assert "Accept (attorney)" in order_dialog.status.text()
        order_dialog.close()

        # The registrant's token holds no certificate the grant names: refused.
        registrant_screen.table.selectRow(0)
        wrong = _blocked(qtbot, registrant_screen.accept_selected())
        assert "is not one the power of attorney" in wrong.status.text()
        wrong.close()
        assert not store.poa.grants()[0].accepted
        assert [e.event for e in store.audit.entries()].count("poa.accept-refused") == 1

        # The attorney's own token: the affirmation is shown, then signed with their PIN.
        attorney_screen = PoaScreen(store, _launcher(qtbot, attorney_worker))
        qtbot.addWidget(attorney_screen)
        attorney_screen.show()
        attorney_screen.table.selectRow(0)
        accepting = attorney_screen.accept_selected()
        assert accepting is not None
        qtbot.waitUntil(lambda: accepting.phase is Phase.READY, timeout=10_000)
        _sign(qtbot, accepting).close()
        qtbot.waitUntil(lambda: attorney_screen.table.item(0, 2).text() == "current", timeout=5000)
        [rec] = store.poa.grants()
        assert rec.accepted and rec.acceptance_signature is not None
        assert "poa.accepted" in [e.event for e in store.audit.entries()]

    signing = SigningDialog(OrderBatch(store_path, [order.order_id], attorney), attorney_worker)
    qtbot.addWidget(signing)
    signing.show()
    _sign(qtbot, signing)
    with open_store(store_path) as store:
        assert store.orders.get(order.order_id).state is OrderState.SIGNED
