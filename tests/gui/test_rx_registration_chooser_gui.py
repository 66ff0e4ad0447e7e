"""The draft form's DEA registration chooser (21 CFR 1311.120(b)(7)): shown, with nothing
selected, for a practitioner who holds several registrations; the draft names the one
chosen; for a practitioner with one, no chooser and that one is taken."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from csos_desktop.services.rx import registrations as rx_reg
from csos_desktop.store import Store, open_store
from tests.gui.test_prescriptions_gui import _act_as
from tests.gui.test_rx_prepare_gui import PATIENT, _editor, _screen
from tests.unit.rx.helpers import ANN, practice
from tests.unit.rx.test_registrations import ENDS, NY_DEA
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
