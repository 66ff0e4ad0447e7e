"""The signing dialog on the real SoftHSM2 token, through the token thread (pytest-qt)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from pytestqt.qtbot import QtBot

from csos_desktop.domain.order import Order
from csos_desktop.domain.order_state import OrderState
from csos_desktop.domain.token_errors import TokenRemoved
from csos_desktop.gui.dialogs.signing import Phase, SigningDialog
from csos_desktop.gui.dialogs.signing_summary import pin_warning
from csos_desktop.gui.jobs.signing import OrderBatch, TokenTarget
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.services.orders.batch import OrderSigner
from csos_desktop.services.orders.order_signer import SignedOrder
from csos_desktop.store import open_store
from csos_desktop.token.slots import PinState
from tests.conftest import TEST_PIN, machine_policy_at
from tests.gui.conftest import add_drafts


class Slow:
    """A real signer made slow (and optionally failing at call ``fail_at``)."""

    def __init__(self, inner: OrderSigner, delay: float, fail_at: int = 0) -> None:
        self.identity = inner.identity
        self.inner = inner
        self.delay = delay
        self.fail_at = fail_at
        self.calls = 0

    def sign(self, order: Order) -> SignedOrder:
        self.calls += 1
        if self.calls == self.fail_at:
            raise TokenRemoved("CKR_DEVICE_REMOVED")
        time.sleep(self.delay)
        return self.inner.sign(order)


def wrapper(delay: float, fail_at: int = 0) -> Callable[[OrderSigner], OrderSigner]:
    return lambda inner: Slow(inner, delay, fail_at)


def dialog_for(
    qtbot: QtBot, store_path: Path, n: int, worker: TokenWorker, target: TokenTarget, **kw: object
) -> tuple[SigningDialog, list[str]]:
    with open_store(store_path) as store:
        ids = add_drafts(store, n)
    dialog = SigningDialog(OrderBatch(store_path, ids, target, **kw), worker)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.phase is Phase.READY, timeout=10_000)
    return dialog, ids


def states(store_path: Path, ids: list[str]) -> list[OrderState]:
    with open_store(store_path) as store:
        return [store.orders.get(i).state for i in ids]


def test_dialog_shows_what_is_signed_and_clears_the_pin_when_used(
    qtbot: QtBot, store_path: Path, token_worker: TokenWorker, target: TokenTarget
) -> None:
    dialog, ids = dialog_for(qtbot, store_path, 2, token_worker, target)
    text = dialog.summary.toPlainText()
    for words in (
        "2 order(s) will be signed",
        "Main Street Pharmacy",
        "AB1234563",
        "Keystone Wholesale Drug Co.",
        "Oxycodone Hydrochloride",
        "6 package(s)",
    ):
        assert words in text
    assert "csos-rsa" in dialog.signer.text() and "DEA AB1234563" in dialog.signer.text()
    qtbot.keyClicks(dialog.pin, TEST_PIN)
    dialog.sign_button.click()
    assert dialog.pin.text() == ""  # cleared before the token thread even starts
    qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=10_000)
    assert dialog.outcome is not None and len(dialog.outcome.signed) == 2
    assert "Signed" in dialog.summary.toPlainText()
    assert states(store_path, ids) == [OrderState.SIGNED] * 2


def test_wrong_pin_says_so_and_lets_the_user_try_again(
    qtbot: QtBot, store_path: Path, token_worker: TokenWorker, target: TokenTarget
) -> None:
    dialog, ids = dialog_for(qtbot, store_path, 1, token_worker, target)
    qtbot.keyClicks(dialog.pin, "999999")
    dialog.sign_button.click()
    qtbot.waitUntil(lambda: "did not accept the PIN" in dialog.status.text(), timeout=10_000)
    qtbot.waitUntil(lambda: dialog.phase is Phase.READY, timeout=10_000)
    assert dialog.pin.text() == ""
    assert states(store_path, ids) == [OrderState.DRAFT]
    with open_store(store_path) as store:
        stops = [e for e in store.audit.entries() if e.event == "signing.stopped"]
    assert stops[-1].details["stage"] == "login"  # failed authentication is audited


def test_keyboard_only_signing(
    qtbot: QtBot, store_path: Path, token_worker: TokenWorker, target: TokenTarget
) -> None:
    dialog, ids = dialog_for(qtbot, store_path, 1, token_worker, target)
    dialog.pin.setFocus()
    qtbot.keyClicks(dialog.pin, TEST_PIN)
    qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=10_000)
    assert states(store_path, ids) == [OrderState.SIGNED]
    assert dialog.cancel_button.text() == "Close" and dialog.cancel_button.isDefault()


def test_stop_between_orders_keeps_signed_ones_and_leaves_the_rest_as_drafts(
    qtbot: QtBot, store_path: Path, token_worker: TokenWorker, target: TokenTarget
) -> None:
    dialog, ids = dialog_for(
        qtbot, store_path, 4, token_worker, target, signer_wrapper=wrapper(0.4)
    )
    qtbot.keyClicks(dialog.pin, TEST_PIN)
    dialog.sign_button.click()
    qtbot.waitUntil(lambda: "order 2 of 4" in dialog.status.text(), timeout=10_000)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=10_000)
    outcome = dialog.outcome
    assert outcome is not None and outcome.stopped and "stopped the batch" in outcome.stopped
    got = states(store_path, ids)
    assert got[:2] == [OrderState.SIGNED] * 2 and got[2:] == [OrderState.DRAFT] * 2
    assert "Not signed" in dialog.summary.toPlainText()


def test_token_removed_during_signing_is_reported_in_the_dialog(
    qtbot: QtBot, store_path: Path, token_worker: TokenWorker, target: TokenTarget
) -> None:
    dialog, ids = dialog_for(
        qtbot, store_path, 3, token_worker, target, signer_wrapper=wrapper(0, fail_at=2)
    )  # after the first order
    qtbot.keyClicks(dialog.pin, TEST_PIN)
    dialog.sign_button.click()
    qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=10_000)
    assert "The batch stopped" in dialog.summary.toPlainText()
    assert "removed" in dialog.summary.toPlainText()
    assert states(store_path, ids) == [OrderState.SIGNED, OrderState.DRAFT, OrderState.DRAFT]


def test_the_ui_thread_keeps_ticking_while_a_slow_signer_works(
    qtbot: QtBot, store_path: Path, token_worker: TokenWorker, target: TokenTarget
) -> None:
    dialog, _ = dialog_for(qtbot, store_path, 4, token_worker, target, signer_wrapper=wrapper(0.3))
    gaps: list[int] = []
    clock = QElapsedTimer()
    clock.start()
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: gaps.append(clock.restart()))
    timer.start()
    qtbot.keyClicks(dialog.pin, TEST_PIN)
    dialog.sign_button.click()
    qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=15_000)
    timer.stop()
    assert len(gaps) >= 30  # ≥ 0.9 s of signing, ticking throughout
    assert max(gaps[1:]) < 250  # never blocked for a signature (each takes 300 ms)


def test_pin_warnings_say_what_to_do() -> None:
    low, final, locked = (
        pin_warning(s) for s in (PinState.COUNT_LOW, PinState.FINAL_TRY, PinState.LOCKED)
    )
    assert low is not None and "few tries" in low[1]
    assert final is not None and "FINAL TRY" in final[1]
    assert locked is not None and "token administrator" in locked[1]
    assert pin_warning(PinState.OK) is None


def test_orders_screen_signs_the_selected_drafts(
    qtbot: QtBot, store_path: Path, token_worker: TokenWorker
) -> None:
    from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
    from csos_desktop.gui.screens.orders import OrdersScreen

    with open_store(store_path) as store:
        ids = add_drafts(store, 2)
        screen = OrdersScreen(store, launcher=SigningLauncher(token_worker))
        qtbot.addWidget(screen)
        screen.show()
        qtbot.waitUntil(lambda: token_worker.last_status is not None, timeout=5000)
        assert (
            screen.sign_selected() is None and "Select one or more drafts" in screen.status.text()
        )
        screen.table.selectAll()
        dialog = screen.sign_selected()
        assert dialog is not None
        qtbot.waitUntil(lambda: dialog.phase is Phase.READY, timeout=10_000)
        qtbot.keyClicks(dialog.pin, TEST_PIN)
        qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=10_000)
        assert dialog.outcome is not None and not dialog.outcome.unsigned, dialog.outcome
        assert [store.orders.get(i).state for i in ids] == [OrderState.SIGNED] * 2
        assert screen.model is not None
        assert {screen.model.record(r).state for r in range(2)} == {OrderState.SIGNED}
        dialog.close()


def test_with_an_as2_connection_the_dialog_signs_the_850_too(
    qtbot: QtBot,
    store_path: Path,
    token_worker: TokenWorker,
    target: TokenTarget,
    csos_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session_policy = (csos_home / "machine-policy.toml").read_text(encoding="utf-8")
    policy = machine_policy_at(monkeypatch, tmp_path / "as2-policy.toml")
    policy.write_text(
        session_policy.replace("[settings]\n", '[settings]\ndistributor_connection = "AS2"\n'),
        encoding="utf-8",
    )
    dialog, ids = dialog_for(qtbot, store_path, 1, token_worker, target)
    qtbot.keyClicks(dialog.pin, TEST_PIN)
    dialog.sign_button.click()
    qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=10_000)
    assert states(store_path, ids) == [OrderState.SIGNED]
    with open_store(store_path) as store:
        kept = store.x12.signed_850(ids[0])
    assert kept is not None and kept.signed  # in the same login, ready to go over AS2
