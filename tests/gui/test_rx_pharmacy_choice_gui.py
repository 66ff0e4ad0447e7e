"""The practitioner chooses the patient's pharmacy in the Prescriptions screen: the signing
review says where it goes, and the NewRx kept for the outbox names that pharmacy."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from csos_desktop.gui.dialogs.signing import Phase
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.store import Store
from tests.conftest import TEST_PIN
from tests.gui.test_prescriptions_gui import _act_as, _screen, rx_store
from tests.unit.script.samples import sample_pharmacy

__all__ = ["rx_store"]  # the fixture, used here


def test_the_chosen_pharmacy_is_reviewed_and_signed_into_the_newrx(
    qtbot: QtBot, rx_store: Store, token_worker: TokenWorker, test_ca: TestCa
) -> None:
    screen = _screen(qtbot, rx_store, token_worker, test_ca)
    qtbot.waitUntil(
        lambda: (
            token_worker.last_status is not None
            and token_worker.last_status.certificate is not None
        ),
        timeout=10_000,
    )
    _act_as(screen, "drsmith")
    pharmacy = sample_pharmacy()
    screen.set_pharmacies([pharmacy])
    assert screen.pharmacy.count() == 2
    screen.pharmacy.setCurrentIndex(1)
    items = [screen.drafts.topLevelItem(i) for i in range(screen.drafts.topLevelItemCount())]
    maria = next(i for i in items if i is not None and i.text(0).startswith("Maria"))
    for j in range(maria.childCount()):
        child = maria.child(j)
        assert child is not None
        child.setCheckState(0, Qt.CheckState.Checked)
    ready = next(iter(screen.ready_ids().values()))
    screen.sign_button.click()
    dialog = screen.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.phase is Phase.READY, timeout=20_000)
    assert "NewRx to Main Street Pharmacy (NCPDP 1234567)" in dialog.summary.toPlainText()
    qtbot.keyClicks(dialog.pin, TEST_PIN)  # type: ignore[no-untyped-call]
    dialog.sign_button.click()
    qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=30_000)
    assert dialog.outcome is not None and len(dialog.outcome.signed) == 2, dialog.outcome
    for rx_id in ready:
        sent = rx_store.script.sent_for(rx_id)
        assert sent is not None and sent.ncpdp_id == pharmacy.ncpdp_id
    dialog.close()
