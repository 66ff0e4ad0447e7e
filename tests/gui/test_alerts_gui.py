"""Home shows the daily audit analysis's alerts until someone acknowledges them, and the
acknowledgement is audited with who did it (21 CFR 1311.150(b), 1311.215(b))."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from csos_desktop.gui.jobs.daily_audit import DailyAudit
from csos_desktop.gui.main_window import MainWindow
from csos_desktop.store import Store, open_store
from tests.unit.rx.helpers import practice
from tests.unit.store.helpers import Clock

#: Users added at 03:00 on a Sunday: outside business hours, so the analysis raises alerts.
SUNDAY_NIGHT = datetime(2026, 10, 4, 3, tzinfo=UTC)


@pytest.fixture()
def practice_store(store_path: Path) -> Iterator[Store]:
    with open_store(store_path) as store:
        practice(store, Clock(SUNDAY_NIGHT))
        yield store


def test_home_shows_the_alerts_and_acknowledging_one_is_audited(
    qtbot: QtBot, practice_store: Store
) -> None:
    window = MainWindow(store=practice_store)
    qtbot.addWidget(window)
    window.show()
    card = window.home.alerts_card
    assert not card.isVisibleTo(window)  # nothing analysed yet
    audit = DailyAudit(practice_store.path, card, parent=window)
    with qtbot.waitSignal(audit.shown, timeout=20_000) as shown:
        audit.start()
    assert len(shown.args[0].alerts) == 4
    assert card.isVisibleTo(window) and card.list.count() == 4
    assert "4 alert(s)" in card.body.text()
    assert "outside business hours" in card.list.item(0).text()
    # Agents judge no incidents (1311.150(c)): only administrators and practitioners listed.
    assert {card.user.itemText(i) for i in range(card.user.count())} == {"ann", "carl", "drsmith"}

    card.user.setCurrentText("carl")
    card.list.setCurrentRow(0)
    first = int(card.list.item(0).data(256))
    with qtbot.waitSignal(audit.shown, timeout=20_000):
        qtbot.mouseClick(card.button, Qt.MouseButton.LeftButton)
    assert card.list.count() == 3
    [entry] = [e for e in practice_store.audit.entries() if e.event == "rx.alert-acknowledged"]
    assert entry.details["by"] == "carl" and entry.details["alert_id"] == first
    acknowledged = practice_store.epcs.alert(first)
    assert acknowledged is not None and acknowledged.acknowledged_by == "carl"
    audit.stop()
