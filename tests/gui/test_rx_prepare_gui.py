"""Preparing prescriptions in the window: the form saves through the preparing services
(their refusals shown in the form's words), the signed history lists what was signed, and
the acting user changes only on Act as, never on an arrow key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTreeWidgetItem
from pytestqt.qtbot import QtBot

from csos_desktop.gui.dialogs.rx_draft import RxDraftDialog
from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.gui.jobs.signing import TokenTarget
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.gui.screens.prescriptions import PrescriptionsScreen
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.rx import drafts as rx_drafts
from csos_desktop.services.rx.queue import sign_queued
from csos_desktop.services.signing import SigningPurpose, signing_session
from csos_desktop.store import Store, open_store
from tests.gui.conftest import on_token_thread
from tests.gui.test_prescriptions_gui import _act_as, rx_store
from tests.integration.rx.conftest import Ceremony, crl_check
from tests.unit.rx.helpers import BOB, SMITH, events, practice, rx_input
from tests.unit.store.helpers import Clock

__all__ = ["rx_store"]  # the fixture, used here

PATIENT = {
    "patient.name": "Ada Quinn",
    "patient.address.street": "12 Birch Lane",
    "patient.address.city": "Springfield",
    "patient.address.state": "IL",
    "patient.address.postal_code": "62704",
    "drug.name": "Hydrocodone Bitartrate and Acetaminophen",
    "drug.strength": "5 mg/325 mg",
    "drug.dosage_form": "tablet",
    "quantity": "12",
    "directions": "1 tablet every 6 hours as needed for pain",
}


@pytest.fixture()
def drafts_store(store_path: Path) -> Iterator[Store]:
    """The practice (no permission granted) and one draft by the agent for Maria Lopez."""
    clock = Clock()
    with open_store(store_path) as store:
        practice(store, clock)
        rx_drafts.add_draft(store, BOB, rx_input(clock), now=clock())
        yield store


def _screen(qtbot: QtBot, store: Store) -> PrescriptionsScreen:
    screen = PrescriptionsScreen(store, SigningLauncher(None))
    qtbot.addWidget(screen)
    screen.show()
    return screen


def _editor(screen: PrescriptionsScreen) -> RxDraftDialog:
    assert screen.editor is not None and screen.editor.isVisible()
    return screen.editor


def _draft_items(screen: PrescriptionsScreen) -> list[QTreeWidgetItem]:
    out = []
    for i in range(screen.drafts.topLevelItemCount()):
        top = screen.drafts.topLevelItem(i)
        assert top is not None
        out += [c for j in range(top.childCount()) if (c := top.child(j)) is not None]
    return out


def test_an_agent_prepares_a_draft_and_the_services_refusals_are_shown(
    qtbot: QtBot, drafts_store: Store
) -> None:
    screen = _screen(qtbot, drafts_store)
    assert not screen.new_button.isEnabled()  # nobody acts yet
    _act_as(screen, "ann")  # an access administrator does not prepare
    assert not screen.new_button.isEnabled()
    _act_as(screen, "bob")
    screen.new_button.click()
    form = _editor(screen)
    assert form.prescriber.currentText() == "Dr. Jane Smith (DEA AB1234563)"
    # The practice address comes from Dr. Smith's last prescription.
    assert form.edits["practitioner.address.street"].text() == "200 Medical Plaza"
    form.save_button.click()  # empty: every problem, in the form's words, nothing saved
    shown = form.errors.text()
    assert form.isVisible() and "Patient name:" in shown and "Quantity:" in shown
    assert len(drafts_store.prescriptions.drafts()) == 1
    for path, text in PATIENT.items():
        form.edits[path].setText(text)
    form.refills.setText("2")  # schedule II: the service refuses refills (1306.12(a))
    form.save_button.click()
    assert "Refills: a schedule II prescription may not be refilled" in form.errors.text()
    assert "schedule II" in form.refills.toolTip()
    form.refills.setText("0")
    form.save_button.click()
    assert not form.isVisible()
    [new] = [d for d in drafts_store.prescriptions.drafts() if d.patient_name == "Ada Quinn"]
    assert new.prepared_by == "bob" and new.practitioner_dea == "AB1234563"
    assert "rx.draft-added" in events(drafts_store)
    assert "saved" in screen.status.text()
    names = {screen.drafts.topLevelItem(i).text(0) for i in range(2)}  # type: ignore[union-attr]
    assert "Ada Quinn — 1 draft(s)" in names


def test_a_draft_is_edited_through_the_service_with_its_version(
    qtbot: QtBot, drafts_store: Store
) -> None:
    screen = _screen(qtbot, drafts_store)
    _act_as(screen, "bob")
    [item] = _draft_items(screen)
    screen.drafts.setCurrentItem(item)
    screen.drafts.setFocus()
    qtbot.keyClick(screen.drafts, Qt.Key.Key_Return)  # Enter opens it, as Edit does
    form = _editor(screen)
    assert form.windowTitle() == "Edit prescription draft"
    assert form.edits["patient.name"].text() == "Maria Lopez"
    assert form.quantity.text() == "20"
    rx_id = str(item.data(0, Qt.ItemDataRole.UserRole))
    form.quantity.setText("15")
    form.save_button.click()
    assert not form.isVisible()
    assert drafts_store.prescriptions.prescription(rx_id).quantity == 15
    changed = [e for e in drafts_store.audit.entries() if e.event == "rx.draft-changed"]
    assert changed and changed[-1].details["fields"] == ["quantity"]
    # The saved draft stays selected. Someone else changes it while the form is open:
    # the save is refused, nothing is lost.
    current = screen.drafts.currentItem()
    assert current is not None and current.data(0, Qt.ItemDataRole.UserRole) == rx_id
    screen.edit_button.click()
    form = _editor(screen)
    other = dict(rx_input(Clock()), quantity=30)
    rx_drafts.update_draft(drafts_store, BOB, rx_id, other, now=Clock()())
    form.quantity.setText("40")
    form.save_button.click()
    assert form.isVisible() and "changed by someone else" in form.errors.text()
    assert drafts_store.prescriptions.prescription(rx_id).quantity == 30
    form.reject()


def test_the_acting_user_changes_on_act_as_only_never_on_an_arrow_key(
    qtbot: QtBot, drafts_store: Store
) -> None:
    screen = _screen(qtbot, drafts_store)
    _act_as(screen, "drsmith")
    assert screen.sign_button.isVisibleTo(screen)
    screen.user.setFocus()
    start = screen.user.currentIndex()
    key = Qt.Key.Key_Up if start > 0 else Qt.Key.Key_Down
    qtbot.keyClick(screen.user, key)
    QApplication.processEvents()
    assert screen.user.currentIndex() != start  # the list moved; the identity did not
    assert screen.acting is not None and screen.acting.user_id == "drsmith"
    assert "Dr. Jane Smith" in screen.acting_user.current.text()
    assert screen.acting_user.act_button.isEnabled()
    assert screen.sign_button.isVisibleTo(screen)  # still Dr. Smith's screen
    screen.acting_user.act_button.click()
    assert screen.acting is not None and screen.acting.user_id != "drsmith"
    assert not screen.sign_button.isVisibleTo(screen)


def test_the_signed_history_lists_what_was_signed_with_its_detail(
    qtbot: QtBot,
    rx_store: Store,
    token_worker: TokenWorker,
    target: TokenTarget,
    test_ca: TestCa,
) -> None:
    path = rx_store.path

    def sign() -> int:
        with (
            open_store(path) as store,
            signing_session(target, SigningPurpose.PRESCRIPTION) as session,
        ):
            return len(
                sign_queued(store, SMITH, "Maria Lopez", session, Ceremony(), crl_check(test_ca))
            )

    assert on_token_thread(qtbot, token_worker, sign) == 2
    screen = _screen(qtbot, rx_store)
    history = screen.history
    assert history is not None
    screen.tabs.setCurrentWidget(history)
    assert history.table.rowCount() == 2 and not history.empty.isVisible()
    row = [history.table.item(0, c).text() for c in range(6)]  # type: ignore[union-attr]
    assert row[0] == "Maria Lopez" and row[2] == "Schedule II"
    assert row[1].startswith("Oxycodone Hydrochloride 5 mg")
    assert row[3] == "Dr. Jane Smith (DEA AB1234563)"
    assert row[5] == "waiting to be sent" and row[4][:4].isdigit()
    detail = history.detail.toPlainText()
    assert "Directions:" in detail and "signed bytes are intact" in detail
    assert "Signature SHA-256" in detail and "by user drsmith" in detail
    # The queue keeps Tom Baker's draft; the signed ones left it for the history.
    assert [d.patient_name for d in rx_store.prescriptions.drafts()] == ["Tom Baker"]


def test_every_tab_and_the_draft_form_pass_the_accessibility_audit(
    qtbot: QtBot, drafts_store: Store
) -> None:
    from csos_desktop.gui import theme
    from tests.gui.a11y import audit

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme.apply(app)
    screen = _screen(qtbot, drafts_store)
    screen.resize(1000, 700)
    _act_as(screen, "bob")
    found = []
    for i in range(screen.tabs.count()):
        screen.tabs.setCurrentIndex(i)
        QApplication.processEvents()
        found += [f"tab {i}: {k}: {f}" for k, fs in audit(screen).items() for f in fs]
    screen.new_button.click()
    form = _editor(screen)
    QApplication.processEvents()
    found += [f"form: {k}: {f}" for k, fs in audit(form).items() for f in fs]
    form.reject()
    assert not found, "\n".join(found)
