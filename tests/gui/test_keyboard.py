"""Three everyday tasks with the keyboard alone, on the real token and store.

Every key goes to the widget that has the focus, as a keyboard user's would: open a draft
and sign it, record a receipt, change the PIN. No click, no widget reached by code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QMenu, QWidget
from pytestqt.qtbot import QtBot

from csos_desktop.domain.order_state import OrderState
from csos_desktop.gui.dialogs.signing import Phase, SigningDialog
from csos_desktop.gui.dialogs.token import ChangePinDialog
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.main_window import MainWindow
from csos_desktop.sandbox.softhsm import SoftHsmToken, create_token
from csos_desktop.store import Store, open_store
from csos_desktop.token.keys import KeyAlgorithm
from tests.conftest import TEST_PIN, Provisioned
from tests.gui.conftest import add_drafts
from tests.gui.test_receiving import shipped_order
from tests.gui.test_token_dialogs import _worker as token_worker_on
from tests.token_backends import logs_in

Key = Qt.Key
ALT = Qt.KeyboardModifier.AltModifier
NEW_PIN = "141421"


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def press(
    qtbot: QtBot, key: Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
) -> None:
    qtbot.keyClick(focused(), key, modifier)


def type_text(qtbot: QtBot, text: str) -> None:
    qtbot.keyClicks(focused(), text)


def tab_to(qtbot: QtBot, target: QWidget, limit: int = 40) -> None:
    """Tab until *target* has the focus (fails if Tab never reaches it: a trap or a gap)."""
    for _ in range(limit):
        if QApplication.focusWidget() is target:
            return
        press(qtbot, Key.Key_Tab)
    raise AssertionError(f"Tab never reached {target.accessibleName() or target}")


def sign_with_pin(qtbot: QtBot, dialog: SigningDialog) -> None:
    qtbot.waitUntil(lambda: dialog.phase is Phase.READY, timeout=10_000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.pin, timeout=5_000)
    type_text(qtbot, TEST_PIN)
    press(qtbot, Key.Key_Return)  # Sign is the default button
    qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=20_000)
    assert "will be signed" not in dialog.summary.toPlainText()  # no future tense once done


@pytest.fixture()
def store(store_path: Path) -> Iterator[Store]:
    with open_store(store_path) as store:
        yield store


def shown_window(qtbot: QtBot, store: Store, worker: TokenWorker) -> MainWindow:
    window = MainWindow(store=store, token=worker)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.waitUntil(
        lambda: worker.last_status is not None and worker.last_status.present, timeout=5000
    )
    window.show_status(worker.last_status)  # type: ignore[arg-type]
    return window


def test_open_a_draft_save_it_and_sign_it_by_keyboard(
    qtbot: QtBot, store: Store, token_worker: TokenWorker
) -> None:
    (draft,) = add_drafts(store, 1)
    window = shown_window(qtbot, store, token_worker)
    press(qtbot, Key.Key_2, ALT)  # Orders
    orders = window.orders
    tab_to(qtbot, orders.table)
    press(qtbot, Key.Key_Home)
    press(qtbot, Key.Key_Return)  # Enter opens the draft
    qtbot.waitUntil(lambda: orders.editor is not None and orders.editor.isVisible())
    editor = orders.editor
    assert editor is not None and editor.windowTitle().startswith("Edit draft")
    editor.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is editor)
    tab_to(qtbot, editor.save_button)
    with qtbot.waitSignal(editor.saved, timeout=10_000):
        press(qtbot, Key.Key_Space)  # Save draft (the editor closes and is deleted)
    # The saved draft stays selected: Sign selected drafts works on it at once.
    window.activateWindow()  # the window manager's part: offscreen has none
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    assert orders.selected_drafts() == [draft]
    tab_to(qtbot, orders.sign_button)
    press(qtbot, Key.Key_Space)  # Sign selected drafts…
    dialog = orders.dialog
    assert dialog is not None
    sign_with_pin(qtbot, dialog)
    assert store.orders.get(draft).state is OrderState.SIGNED
    assert orders.selected_record() is not None  # still selected after signing
    assert orders.selected_record().order_id == draft  # type: ignore[union-attr]


def test_every_order_action_is_in_the_rows_context_menu(
    qtbot: QtBot, store: Store, token_worker: TokenWorker
) -> None:
    add_drafts(store, 1)
    window = shown_window(qtbot, store, token_worker)
    orders = window.orders
    orders.table.selectRow(0)
    texts = [a.text() for a in orders.row_menu.menu().actions()]
    assert texts == [
        orders.edit_button.text(),
        orders.sign_button.text(),
        *(b.text() for b in orders.order_actions.buttons()),
    ]
    seen: list[QMenu] = []

    def close_menu() -> None:
        menu = QApplication.activePopupWidget()
        if isinstance(menu, QMenu):
            seen.append(menu)
            menu.close()

    press(qtbot, Key.Key_2, ALT)
    tab_to(qtbot, orders.table)
    from PySide6.QtCore import QTimer

    QTimer.singleShot(200, close_menu)
    press(qtbot, Key.Key_Menu)  # the context-menu key opens the same menu on the row
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)


def test_record_a_receipt_by_keyboard(
    qtbot: QtBot, store: Store, rsa_token: Provisioned, token_worker: TokenWorker
) -> None:
    oid = shipped_order(qtbot, token_worker, store, rsa_token)
    window = shown_window(qtbot, store, token_worker)
    press(qtbot, Key.Key_3, ALT)  # Receiving
    receiving = window.receiving
    tab_to(qtbot, receiving.orders)
    press(qtbot, Key.Key_Return)  # Enter goes to the first count
    counted = 0
    for _ in range(40):  # a Tab trap would never reach Sign: bounded, it fails instead
        if focused() is receiving.sign_button:
            break
        field = focused()
        if isinstance(field, QLineEdit) and field.accessibleName().startswith("Packages"):
            validator = field.validator()
            most = validator.top()  # type: ignore[attr-defined]
            type_text(qtbot, str(most))
            counted += 1
        press(qtbot, Key.Key_Tab)
    assert focused() is receiving.sign_button
    assert counted == 3
    press(qtbot, Key.Key_Space)  # Sign receipt…
    dialog = receiving.dialog
    assert dialog is not None
    sign_with_pin(qtbot, dialog)
    assert store.orders.get(oid).state is OrderState.RECEIVED


@pytest.fixture(scope="session")
def kbd_token(tokens: dict[KeyAlgorithm, Provisioned], hsm_dir: Path) -> SoftHsmToken:
    """Its own token (after `tokens`: a new SoftHSM2 token re-initialises the module)."""
    return create_token(hsm_dir, "kbd-pin", TEST_PIN)


@pytest.fixture()
def kbd_worker(qtbot: QtBot, kbd_token: SoftHsmToken) -> Iterator[TokenWorker]:
    yield from token_worker_on(qtbot, kbd_token)


def test_change_the_pin_by_keyboard(
    qtbot: QtBot, store: Store, kbd_worker: TokenWorker, kbd_token: SoftHsmToken
) -> None:
    window = shown_window(qtbot, store, kbd_worker)
    dialog = window.certificates.change_pin()  # what Token → Change PIN… (Alt+T, P) opens
    assert isinstance(dialog, ChangePinDialog)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.old)  # the field, not a button
    assert "at least" in dialog.hint.text()
    type_text(qtbot, TEST_PIN)
    press(qtbot, Key.Key_Tab)
    type_text(qtbot, NEW_PIN)
    press(qtbot, Key.Key_Tab)
    type_text(qtbot, NEW_PIN)
    press(qtbot, Key.Key_Return)  # Change PIN is the default button
    qtbot.waitUntil(lambda: "was changed" in dialog.outcome.text(), timeout=10_000)
    assert logs_in(kbd_token.module, "kbd-pin", NEW_PIN)
    press(qtbot, Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())
