"""Voiding a draft and deactivating a user in the window: each asks first, Cancel changes
nothing and writes nothing, and the action goes through the service the CLI calls (its
refusals shown as it words them, its audit entries written)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QTreeWidgetItem
from pytestqt.qtbot import QtBot

from csos_desktop.gui.dialogs.confirm import ConfirmDialog
from csos_desktop.gui.dialogs.signing_launch import SigningLauncher
from csos_desktop.gui.screens.prescriptions import RX_ID, PrescriptionsScreen
from csos_desktop.services.rx import drafts as rx_drafts
from csos_desktop.store import Store, open_store
from tests.gui.test_prescriptions_gui import OTHER_PATIENT, _act_as
from tests.gui.test_rx_practice_gui import _select
from tests.unit.rx.helpers import BOB, practice, rx_input
from tests.unit.store.helpers import Clock


@pytest.fixture()
def store(store_path: Path) -> Iterator[Store]:
    """The practice (admins ann and carl, Dr. Smith, agent bob), two drafts by bob."""
    clock = Clock()
    with open_store(store_path) as store:
        practice(store, clock)
        for data in (rx_input(clock), rx_input(clock, patient=OTHER_PATIENT)):
            rx_drafts.add_draft(store, BOB, data, now=clock())
        yield store


@pytest.fixture()
def screen(qtbot: QtBot, store: Store) -> PrescriptionsScreen:
    screen = PrescriptionsScreen(store, SigningLauncher(None))
    qtbot.addWidget(screen)
    screen.show()
    return screen


def _events(store: Store, event: str) -> list[dict[str, object]]:
    return [dict(e.details) for e in store.audit.entries() if e.event == event]


def _tom_s_draft(screen: PrescriptionsScreen) -> QTreeWidgetItem:
    [top] = [
        item
        for i in range(screen.drafts.topLevelItemCount())
        if (item := screen.drafts.topLevelItem(i)) is not None
        and item.text(0).startswith("Tom Baker")
    ]
    child = top.child(0)
    assert child is not None
    return child


def _asked(dialog: ConfirmDialog | None) -> ConfirmDialog:
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_a_draft_is_voided_only_with_a_reason_and_cancel_writes_nothing(
    screen: PrescriptionsScreen, store: Store
) -> None:
    _act_as(screen, "bob")
    screen.void_button.click()  # nothing selected
    assert "Select the prescription draft to void" in screen.status.text()
    item = _tom_s_draft(screen)
    rx_id = item.data(0, RX_ID)
    screen.drafts.setCurrentItem(item)

    screen.void_button.click()
    dialog = _asked(screen.confirm)
    assert "Tom Baker" in dialog.findChildren(type(screen.status))[0].text()
    assert not dialog.action.isEnabled()  # no reason yet
    assert dialog.reason is not None
    dialog.reason.setText("   ")
    assert not dialog.action.isEnabled()
    dialog.reason.setText("wrong strength")
    dialog.reject()  # Cancel: the reason typed is not kept anywhere
    assert len(store.prescriptions.drafts()) == 2
    assert _events(store, "rx.draft-voided") == []

    screen.void_button.click()
    dialog = _asked(screen.confirm)
    assert dialog.reason is not None and dialog.reason.text() == ""  # a new question
    dialog.reason.setText("wrong strength")
    dialog.action.click()
    assert rx_id not in [d.rx_id for d in store.prescriptions.drafts()]
    assert len(store.prescriptions.drafts()) == 1
    assert screen.drafts.topLevelItemCount() == 1  # Tom Baker's line is gone
    assert "is void" in screen.status.text()
    [voided] = _events(store, "rx.draft-voided")
    assert voided["reason"] == "wrong strength" and voided["by"] == "bob"


def test_an_access_administrator_cannot_void_and_the_button_says_so(
    screen: PrescriptionsScreen,
) -> None:
    _act_as(screen, "ann")
    assert not screen.void_button.isEnabled()


def test_deactivating_a_user_asks_first_and_takes_them_off_the_acting_list(
    screen: PrescriptionsScreen, store: Store
) -> None:
    panel = screen.practice
    assert panel is not None
    screen.tabs.setCurrentIndex(2)
    _act_as(screen, "ann")
    _select(panel.users, "bob")
    panel.deactivate_button.click()
    dialog = _asked(panel.confirm)
    assert dialog.reason is None and dialog.action.isEnabled()
    dialog.reject()
    assert store.rx_users.get("bob").active
    assert _events(store, "rx.user-deactivated") == []

    panel.deactivate_button.click()
    _asked(panel.confirm).action.click()
    assert not store.rx_users.get("bob").active
    assert "Deactivated Bob" in panel.status.text()
    [entry] = _events(store, "rx.user-deactivated")
    assert entry["user"] == "bob"
    bob_row = next(
        r
        for r in range(panel.users.rowCount())
        if panel.users.item(r, 0).text() == "bob"  # type: ignore[union-attr]
    )
    assert "(deactivated)" in panel.users.item(bob_row, 1).text()  # type: ignore[union-attr]
    assert "bob" not in [u.user_id for u in screen.acting_user.users]

    # The service's own refusal is shown as it words it.
    _select(panel.users, "ann")
    panel.deactivate_button.click()
    _asked(panel.confirm).action.click()
    assert "Ask another access administrator" in panel.status.text()
    assert store.rx_users.get("ann").active


def test_only_an_access_administrator_deactivates(
    screen: PrescriptionsScreen, store: Store
) -> None:
    panel = screen.practice
    assert panel is not None
    screen.tabs.setCurrentIndex(2)
    _act_as(screen, "drsmith")
    _select(panel.users, "bob")
    panel.deactivate_button.click()
    _asked(panel.confirm).action.click()
    assert store.rx_users.get("bob").active
    assert "only access-admin users may deactivate users" in panel.status.text()
    assert [d["action"] for d in _events(store, "rx.access-denied")] == ["user-deactivate"]
