"""Receiving: shipped orders, partial receipts signed on the real token (pytest-qt)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pytestqt.qtbot import QtBot

from csos_desktop.domain.order_state import OrderState
from csos_desktop.gui.dialogs.signing import Phase
from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.screens.receiving import ReceivingScreen
from csos_desktop.services.orders import lifecycle as svc
from csos_desktop.services.signing import SigningPurpose, SigningSession
from csos_desktop.store import Store, open_store
from csos_desktop.token.certs import read_certificates
from tests.conftest import TEST_PIN, Provisioned
from tests.gui.conftest import add_drafts, on_token_thread, ship
from tests.integration.store.tokens import TestPin, open_identity
from tests.registrant import record_registrant


def shipped_order(
    qtbot: QtBot,
    worker: TokenWorker,
    store: Store,
    prov: Provisioned,
    state: OrderState = OrderState.SHIPPED,
) -> str:
    """A draft signed on the token with the service, then reported shipped (or *state*).
    The token's holder is recorded as the registrant (the order carries schedule II)."""
    record_registrant(store, prov)
    oid = add_drafts(store, 1)[0]

    def sign() -> bool:  # on the token thread, with its own connection
        ts, identity = open_identity(prov)
        with ts, open_store(store.path) as own:
            chain = [tc.der for tc in read_certificates(ts) if tc.is_ca]
            return bool(
                svc.sign_orders_on_token(
                    own, [oid], SigningSession(ts, identity, chain, SigningPurpose.ORDER), TestPin()
                ).signed
            )

    assert on_token_thread(qtbot, worker, sign)
    ship(store, oid, state)
    return oid


def screen_for(qtbot: QtBot, store: Store, worker: TokenWorker) -> ReceivingScreen:
    screen = ReceivingScreen(store, SigningLauncher(worker))
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitUntil(
        lambda: worker.last_status is not None and worker.last_status.present, timeout=5000
    )
    return screen


def sign_in_dialog(qtbot: QtBot, screen: ReceivingScreen) -> None:
    dialog = screen.sign()
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.phase is Phase.READY, timeout=10_000)
    qtbot.keyClicks(dialog.pin, TEST_PIN)
    dialog.sign_button.click()
    qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=10_000)
    dialog.close()


def test_partial_then_full_receipt(
    qtbot: QtBot, store_path: Path, rsa_token: Provisioned, token_worker: TokenWorker
) -> None:
    with open_store(store_path) as store:
        oid = shipped_order(qtbot, token_worker, store, rsa_token)
        screen = screen_for(qtbot, store, token_worker)
        assert screen.orders.count() == 1
        # Nothing counted by default: the receipt is for what was counted, not what was due.
        assert screen.receipt_lines() == [] and screen.uncounted() == [0, 1, 2]
        assert screen.sign() is None and "Count line 1" in screen.status.text()
        today = datetime.now(UTC).date()
        for row, packages in enumerate((1, 1, 3)):  # one of two packages of line 1 came
            screen.set_received(row, packages)
        lines = screen.receipt_lines()
        assert [(ln.line_no, ln.quantity_received, ln.date_received) for ln in lines] == [
            (1, 1, today),
            (2, 1, today),
            (3, 3, today),
        ]
        sign_in_dialog(qtbot, screen)
        assert store.orders.get(oid).state is OrderState.RECEIVED_PARTIAL
        assert "signed and queued" in screen.status.text()
        screen.select_order(oid)
        assert screen.uncounted() == [0]  # only the rest of line 1 is still due
        screen.set_received(0, 1)
        assert screen.receipt_lines()[0].quantity_received == 1
        assert len(screen.receipt_lines()) == 1
        sign_in_dialog(qtbot, screen)
        assert store.orders.get(oid).state is OrderState.RECEIVED
        assert screen.orders.count() == 0
        assert len(store.receipts.for_order(oid)) == 2


def test_nothing_received_is_refused_before_any_pin(
    qtbot: QtBot, store_path: Path, rsa_token: Provisioned, token_worker: TokenWorker
) -> None:
    with open_store(store_path) as store:
        shipped_order(qtbot, token_worker, store, rsa_token)
        screen = screen_for(qtbot, store, token_worker)
        for row in range(3):
            screen.set_received(row, 0)
        assert screen.sign() is None
        assert "at least one line" in screen.status.text()
