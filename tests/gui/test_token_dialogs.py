"""Token → Change PIN…, Move a certificate file…, Report a lost token… (pytest-qt, real tokens)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from csos_desktop.gui.dialogs.lost_token import LostTokenDialog
from csos_desktop.gui.dialogs.token import ChangePinDialog, MoveP12Dialog
from csos_desktop.gui.jobs.token_thread import TokenThread, TokenWorker
from csos_desktop.gui.main_window import MainWindow
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.sandbox.softhsm import SoftHsmToken, create_token
from csos_desktop.store import open_store
from csos_desktop.token.keys import KeyAlgorithm
from tests.conftest import TEST_PIN, Provisioned
from tests.integration.test_import_p12 import P12_PASSWORD, _csos_cert, _key, openssl_p12
from tests.token_backends import logs_in

NEW_PIN = "577215"


@pytest.fixture(scope="session")
def gui_tokens(tokens: dict[KeyAlgorithm, Provisioned], hsm_dir: Path) -> dict[str, SoftHsmToken]:
    """After `tokens` (a new SoftHSM2 token re-initialises the module), both at once."""
    return {label: create_token(hsm_dir, label, TEST_PIN) for label in ("gui-pin", "gui-move")}


def _worker(qtbot: QtBot, hsm: SoftHsmToken) -> Iterator[TokenWorker]:
    worker = TokenWorker(hsm.module, label=hsm.label)
    thread = TokenThread(worker)
    thread.start()
    qtbot.waitUntil(
        lambda: worker.last_status is not None and worker.last_status.present, timeout=5000
    )
    yield worker
    thread.stop()


@pytest.fixture()
def pin_worker(qtbot: QtBot, gui_tokens: dict[str, SoftHsmToken]) -> Iterator[TokenWorker]:
    yield from _worker(qtbot, gui_tokens["gui-pin"])


@pytest.fixture()
def move_worker(qtbot: QtBot, gui_tokens: dict[str, SoftHsmToken]) -> Iterator[TokenWorker]:
    yield from _worker(qtbot, gui_tokens["gui-move"])


def test_change_pin_shows_the_counter_refuses_a_wrong_pin_then_changes_it(
    qtbot: QtBot, pin_worker: TokenWorker, gui_tokens: dict[str, SoftHsmToken]
) -> None:
    dialog = ChangePinDialog(pin_worker)
    qtbot.addWidget(dialog)
    assert "gui-pin" in dialog.state.text() and "software token" in dialog.state.text()
    dialog.old.setText("000000")
    dialog.new.setText(NEW_PIN)
    dialog.repeat.setText(NEW_PIN)
    dialog.go.click()
    assert dialog.old.text() == ""  # PIN fields are cleared as soon as the job is sent
    qtbot.waitUntil(lambda: "did not accept the PIN" in dialog.outcome.text(), timeout=10000)
    # Before the next entry the counter is shown (SoftHSM2 raises count-low).
    qtbot.waitUntil(
        lambda: pin_worker.last_status.token.pin_state.value == "count-low", timeout=5000
    )  # type: ignore[union-attr]
    again = ChangePinDialog(pin_worker)
    qtbot.addWidget(again)
    assert "few tries are left" in again.state.text()
    again.old.setText(TEST_PIN)
    again.new.setText(NEW_PIN)
    again.repeat.setText(NEW_PIN)
    again.go.click()
    qtbot.waitUntil(lambda: "was changed" in again.outcome.text(), timeout=10000)
    assert logs_in(gui_tokens["gui-pin"].module, "gui-pin", NEW_PIN)


def test_moving_a_certificate_file_from_the_certificates_screen(
    qtbot: QtBot, move_worker: TokenWorker, test_ca: TestCa, tmp_path: Path
) -> None:
    key = _key(KeyAlgorithm.P256)
    p12 = openssl_p12(tmp_path, test_ca, key, _csos_cert(test_ca, key.public_key()))
    window = MainWindow(token=move_worker)
    qtbot.addWidget(window)
    window.show_status(move_worker.last_status)  # type: ignore[arg-type]
    dialog = window.certificates.move_file()
    assert isinstance(dialog, MoveP12Dialog)
    dialog.path.setText(str(p12))
    dialog.password.setText(P12_PASSWORD)
    dialog.pin.setText(TEST_PIN)
    assert dialog.delete.isChecked()
    dialog.go.click()
    qtbot.waitUntil(lambda: "test signature" in dialog.outcome.text(), timeout=20000)
    assert not p12.exists()
    qtbot.waitUntil(
        lambda: bool(move_worker.last_status and move_worker.last_status.certificate), timeout=5000
    )


def test_a_lost_token_is_recorded_with_its_deadline_then_marked_sent(
    qtbot: QtBot, tmp_path: Path
) -> None:
    with open_store(tmp_path / "csos.db") as store:
        window = MainWindow(store=store)
        qtbot.addWidget(window)
        menus = [a.text() for a in window.menuBar().actions()]
        assert "&Token" in menus
        dialog = window.report_lost_token()
        assert isinstance(dialog, LostTokenDialog)
        dialog.record_button.click()
        assert "tell the CA before" in dialog.deadline.text()
        assert "keyCompromise" in dialog.text.toPlainText()
        dialog.sent_button.click()
        assert "sent to the CA" in dialog.deadline.text()
        events = [e.event for e in store.audit.entries()]
        assert events[-2:] == ["token.loss-reported", "token.loss-sent"]
