"""The draft form's DEA registration chooser (21 CFR 1311.120(b)(7)): shown, with nothing
selected, for a practitioner who holds several registrations; the draft names the one
chosen; for a practitioner with one, no chooser and that one is taken."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidgetItem
from pytestqt.qtbot import QtBot

from csos_desktop.gui.dialogs.signing import Phase, SigningDialog
from csos_desktop.gui.jobs.token_thread import TokenWorker
from csos_desktop.sandbox.ca import TestCa
from csos_desktop.services.rx import drafts as rx_drafts
from csos_desktop.services.rx import registrations as rx_reg
from csos_desktop.store import Store, open_store
from tests.conftest import TEST_PIN, Provisioned
from tests.gui.test_prescriptions_gui import _act_as
from tests.gui.test_rx_practice_gui import _screen as token_screen
from tests.gui.test_rx_prepare_gui import PATIENT, _editor, _screen
from tests.unit.rx.helpers import ANN, BOB, permit, practice, rx_input
from tests.unit.rx.test_registrations import ENDS, NY_DEA, add_ny, without_dea
from tests.unit.store.helpers import Clock


@pytest.fixture()
def two_registrations(store_path: Path) -> Iterator[Store]:
    """The practice; Dr. Smith also registered in New York."""
    clock = Clock()
    with open_store(store_path) as store:
        practice(store, clock)
        rx_reg.add_registration(
            store, ANN, "drsmith", NY_DEA, state="NY", expires=ENDS, now=clock()
        )
        yield store


def test_the_chooser_shows_both_registrations_and_none_is_assumed(
    qtbot: QtBot, two_registrations: Store
) -> None:
    screen = _screen(qtbot, two_registrations)
    _act_as(screen, "bob")
    screen.new_button.click()
    form = _editor(screen)
    assert form.prescriber.currentText() == "Dr. Jane Smith (2 DEA registrations)"
    chooser = form.registration
    assert chooser.isVisible() and chooser.accessibleName() == "DEA registration"
    assert chooser.currentIndex() == -1  # no default when there are several
    assert [chooser.itemData(i) for i in range(chooser.count())] == ["AB1234563", NY_DEA]
    assert chooser.itemText(1) == f"{NY_DEA} (NY, ends 2030-06-30)"
    for path, text in PATIENT.items():
        form.edits[path].setText(text)
    for k, v in {
        "street": "1 Main St",
        "city": "Albany",
        "state": "NY",
        "postal_code": "12207",
    }.items():
        form.edits[f"practitioner.address.{k}"].setText(v)
    form.save_button.click()  # none selected: the service refuses, listing the choices
    assert form.isVisible()
    shown = " ".join(form.errors.text().split())
    assert "holds 2 DEA registrations" in shown and f"{NY_DEA} (NY" in shown
    assert two_registrations.prescriptions.drafts() == []
    chooser.setCurrentIndex(chooser.findData(NY_DEA))
    form.save_button.click()
    assert not form.isVisible()
    [draft] = two_registrations.prescriptions.drafts()
    assert draft.practitioner_dea == NY_DEA and draft.prepared_by == "bob"
    rx = two_registrations.prescriptions.prescription(draft.rx_id)
    assert rx.practitioner.dea_number.value == NY_DEA


def test_with_one_registration_there_is_no_chooser(qtbot: QtBot, store_path: Path) -> None:
    with open_store(store_path) as store:
        practice(store, Clock())
        screen = _screen(qtbot, store)
        _act_as(screen, "bob")
        screen.new_button.click()
        form = _editor(screen)
        assert form.prescriber.currentText() == "Dr. Jane Smith (DEA AB1234563)"
        assert not form.registration.isVisible()
        assert form.values()["practitioner"]["dea_number"] == "AB1234563"  # type: ignore[index]
        form.reject()


def test_a_practitioner_sees_each_registration_s_drafts_and_signs_one_list_under_its_own(
    qtbot: QtBot,
    store_path: Path,
    rsa_token: Provisioned,
    token_worker: TokenWorker,
    test_ca: TestCa,
) -> None:
    # One patient's drafts wait under both of Dr. Smith's registrations: the queue shows
    # one signing list per registration, and each opens under its own (no "select the
    # registration" refusal). The token's certificate carries AB1234563's DEA extension,
    # so the New York list is refused by the DEA-number check, before any PIN.
    clock = Clock()
    with open_store(store_path) as store:
        practice(store, clock)
        add_ny(store, clock)
        permit(store, clock, certificate_der=rsa_token.certificate_der)
        rx_drafts.add_draft(store, BOB, rx_input(clock), now=clock())
        rx_drafts.add_draft(
            store, BOB, without_dea(clock), now=clock(), practitioner="drsmith", dea=NY_DEA
        )
        screen = token_screen(qtbot, store, token_worker, test_ca)
        _act_as(screen, "drsmith")
        tops = [screen.drafts.topLevelItem(i) for i in range(screen.drafts.topLevelItemCount())]
        assert [(t.text(0), t.text(3)) for t in tops if t is not None] == [
            ("Maria Lopez — 1 draft(s)", "AB1234563"),
            ("Maria Lopez — 1 draft(s)", NY_DEA),
        ]

        def open_list(top: QTreeWidgetItem) -> SigningDialog:
            for t in tops:
                assert t is not None and t.child(0) is not None
                on = Qt.CheckState.Checked if t is top else Qt.CheckState.Unchecked
                t.child(0).setCheckState(0, on)  # type: ignore[union-attr]
            screen.drafts.setCurrentItem(top)
            screen.sign_button.click()
            dialog = screen.dialog
            assert dialog is not None
            qtbot.waitUntil(lambda: dialog.phase in (Phase.READY, Phase.BLOCKED), timeout=20_000)
            return dialog

        assert tops[1] is not None and tops[0] is not None
        dialog = open_list(tops[1])
        assert dialog.phase is Phase.BLOCKED
        assert "issued for another DEA number" in html.unescape(dialog.status.text())
        dialog.close()

        dialog = open_list(tops[0])
        assert dialog.phase is Phase.READY, dialog.status.text()
        assert "DEA AB1234563" in dialog.summary.toPlainText()
        qtbot.keyClicks(dialog.pin, TEST_PIN)  # type: ignore[no-untyped-call]
        dialog.sign_button.click()
        qtbot.waitUntil(lambda: dialog.phase is Phase.DONE, timeout=30_000)
        assert dialog.outcome is not None and len(dialog.outcome.signed) == 1, dialog.outcome
        dialog.close()
        [left] = store.prescriptions.drafts()
        assert left.practitioner_dea == NY_DEA  # the other registration's draft still waits
