"""The main window builds Home first and every other screen when it is first needed.

Start-up: a screen built late must still be wired as if it had been built with
the window: it gets the token's current state, and its changes refresh Home and the
status bar. The getting-started card says it is checking until the set-up is read.
"""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from csos_desktop.gui.main_window import MainWindow
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.first_run import FirstRunStep
from csos_desktop.services.tokens.status import TokenStatus
from csos_desktop.store import open_store
from csos_desktop.trust.anchors import store_dir
from tests.gui.conftest import add_drafts, set_up_machine
from tests.gui.test_main_window import cert, token


def test_only_home_is_built_with_the_window_and_the_others_on_first_show(
    qtbot: QtBot, fresh_home: Path
) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.stack.built_screens() == [window.home]
    placeholder = window.screens["Settings"]
    window.show_screen("Settings")
    settings = window.stack.currentWidget()
    assert settings is not placeholder and settings is window.settings
    assert window.stack.is_built("Settings") and not window.stack.is_built("Orders")
    assert "distributor_url" in window.settings.fields
    # Asked for by name (a menu action, a test) it is built without being shown.
    assert window.certificates is window.screens["Certificates"]
    assert window.stack.current_name() == "Settings"


def test_a_screen_built_late_gets_the_token_state_already_known(
    qtbot: QtBot, fresh_home: Path
) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show_status(TokenStatus("/x.so", token(), (cert(200),)))
    assert not window.stack.is_built("Certificates")
    assert window.certificates.table.rowCount() == 1  # built now, with that status


def test_a_late_orders_screen_still_refreshes_home_when_it_changes_orders(
    qtbot: QtBot, tmp_path: Path, fresh_home: Path
) -> None:
    store = open_store(tmp_path / "csos.db")
    window = MainWindow(store=store)
    qtbot.addWidget(window)
    (order_id,) = add_drafts(store, 1)
    store.conn.execute("UPDATE orders SET state = 'shipped' WHERE order_id = ?", (order_id,))
    assert "No delivered order" in window.home.receipt_card.body.text()
    window.orders.changed.emit()  # what the screen emits after creating or signing
    assert "1 order(s)" in window.home.receipt_card.body.text()
    window.close()
    store.close()


def test_the_checklist_says_checking_until_the_set_up_is_read_after_the_paint(
    qtbot: QtBot, fresh_home: Path, test_ca: TestCa
) -> None:
    set_up_machine(test_ca)
    window = MainWindow()
    qtbot.addWidget(window)
    card = window.home.checklist_card
    assert "Checking" in card.body.text() and not card.buttons
    window.check_setup()  # the app calls it from the event loop once the window is shown
    qtbot.waitUntil(lambda: "Checking" not in card.body.text(), timeout=5000)
    # The anchors and the distributor are there; the token and the registrant are not yet.
    assert set(card.buttons) == {
        FirstRunStep.TOKEN,
        FirstRunStep.CERTIFICATE,
        FirstRunStep.REGISTRANT,
    }


def test_an_unreadable_trust_store_leaves_its_step_to_do(qtbot: QtBot, fresh_home: Path) -> None:
    bad = store_dir() / "bad.pem"
    bad.parent.mkdir(parents=True)
    bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    window = MainWindow()
    qtbot.addWidget(window)
    window.check_setup()
    card = window.home.checklist_card
    qtbot.waitUntil(lambda: "Checking" not in card.body.text(), timeout=5000)
    assert FirstRunStep.TRUST_ANCHORS in card.buttons  # an unreadable store is not "done"
